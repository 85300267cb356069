/* fs.c - FUSE low-level operations of a gguffs mount. See fs.h.
 *
 * Each operation ends in exactly one fuse_reply_*(). The tree is a
 * namespace (namespace.h) built once by the views: this file answers lookup,
 * getattr, readdir and read from it and knows no view. A fixed file's read
 * walks the segments it overlaps: literal bytes are copied, tensor ranges
 * come from the read path (read.h). A read inside one tensor segment is
 * answered from the read path's own memory when it has the bytes whole
 * (zero copy); any other read fills one per-thread buffer.
 */
#include "fs/fs_internal.h"

#include "common/log.h"
#include "format/gguf.h"
#include "fs/push.h"
#include "fs/xattr.h"
#include "read/read.h"
#include "read/record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <poll.h>
#include <unistd.h>

/* ----------------------------------------------------------------------
 * Attributes
 * ---------------------------------------------------------------------- */

static struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Fill st for `ino`; false if there is no such inode. Owner, times and
 * read bits are the model file's: the mount is a view of it, and a user who
 * cannot read the model must not read it through the mount either
 * (default_permissions checks these modes). Directories get an execute bit
 * for each read bit. */
static bool fill_attr(struct fs *fs, fuse_ino_t ino, struct stat *st)
{
    const struct stat *ms = &fs->m->st;
    mode_t r = ms->st_mode & 0444;

    if (!ns_valid(fs->ns, ino))
        return false;
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_uid = ms->st_uid;
    st->st_gid = ms->st_gid;
    st->st_atim = ms->st_atim;
    st->st_mtim = ms->st_mtim;
    st->st_ctim = ms->st_ctim;
    st->st_blksize = 4096;
    switch (ns_kind(fs->ns, ino)) {
    case NS_DIR:
        st->st_mode = S_IFDIR | r | (r >> 2);
        st->st_nlink = 2;
        return true;
    case NS_FILE:
        st->st_size = (off_t)ns_size(fs->ns, ino);
        break;
    case NS_DYNAMIC: {
        const struct ns_source *src = ns_source(fs->ns, ino);
        st->st_size = (off_t)src->size(src->arg);
        break;
    }
    }
    st->st_mode = S_IFREG | r;
    st->st_nlink = 1;
    st->st_blocks = (blkcnt_t)(((uint64_t)st->st_size + 511) / 512);
    return true;
}

static double attr_timeout(const struct fs *fs, fuse_ino_t ino)
{
    return ns_kind(fs->ns, ino) == NS_DYNAMIC ? 0.0 : TIMEOUT_FIXED;
}

static void fill_entry(struct fs *fs, fuse_ino_t ino, struct fuse_entry_param *e)
{
    memset(e, 0, sizeof(*e));
    e->ino = ino;
    e->generation = 1;
    fill_attr(fs, ino, &e->attr);
    e->attr_timeout = attr_timeout(fs, ino);
    e->entry_timeout = TIMEOUT_FIXED;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fs *fs = fs_of(req);
    struct fuse_entry_param e;

    if (!ns_valid(fs->ns, parent) || ns_kind(fs->ns, parent) != NS_DIR) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    uint64_t ino = ns_lookup(fs->ns, parent, name);
    if (ino == 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fill_entry(fs, ino, &e);
    fuse_reply_entry(req, &e);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    struct stat st;
    (void)fi;

    if (!fill_attr(fs, ino, &st)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_reply_attr(req, &st, attr_timeout(fs, ino));
}

/* ----------------------------------------------------------------------
 * Directories
 * ---------------------------------------------------------------------- */

/* Entry k of a directory: ".", "..", then the children in the order the
 * views added them (tensors in file order). 0 past the end. */
static fuse_ino_t dir_entry(const struct fs *fs, fuse_ino_t dir, uint64_t k, const char **name)
{
    if (k < 2) {
        *name = k == 0 ? "." : "..";
        return k == 0 ? dir : ns_parent(fs->ns, dir);
    }
    fuse_ino_t ino = ns_child(fs->ns, dir, k - 2);
    if (ino != 0)
        *name = ns_name(fs->ns, ino);
    return ino;
}

/* readdir and readdirplus. With plus, each entry carries its attributes,
 * so `ls -l` of 100k tensors needs no lookup per file. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
    struct fs *fs = fs_of(req);

    if (!ns_valid(fs->ns, ino) || ns_kind(fs->ns, ino) != NS_DIR) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    char *buf = malloc(size);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0, n;
    const char *name;
    fuse_ino_t e;
    for (uint64_t k = (uint64_t)off; (e = dir_entry(fs, ino, k, &name)) != 0; k++) {
        if (plus) {
            struct fuse_entry_param ep;
            fill_entry(fs, e, &ep);
            n = fuse_add_direntry_plus(req, buf + used, size - used, name, &ep, (off_t)(k + 1));
        } else {
            struct stat st = {.st_ino = e,
                              .st_mode = ns_kind(fs->ns, e) == NS_DIR ? S_IFDIR : S_IFREG};
            n = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)(k + 1));
        }
        if (n > size - used)
            break;
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

/* Listings never change: the kernel may keep them (cache_readdir), so a
 * second `ls` of 100k tensors asks nothing. */
static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);

    if (!ns_valid(fs->ns, ino) || ns_kind(fs->ns, ino) != NS_DIR) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)fi;
    do_readdir(req, ino, size, off, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    (void)fi;
    do_readdir(req, ino, size, off, true);
}

/* ----------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------- */

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);

    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
        fuse_reply_err(req, EROFS);
        return;
    }
    if (!ns_valid(fs->ns, ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (ns_kind(fs->ns, ino) == NS_DIR) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    /* -o verbose: which file each open is for (its name as listed, so
     * escaped: a line cannot break). */
    log_detail("open %s (inode %" PRIu64 ", pid %d)", ns_name(fs->ns, ino), (uint64_t)ino,
               (int)fuse_req_ctx(req)->pid);
    const struct ns_source *src = ns_source(fs->ns, ino);
    if (src == NULL) {
        int rc = ns_ready(fs->ns, ino); /* a made file's bytes, if not yet made */
        if (rc != 0) {
            fuse_reply_err(req, -rc);
            return;
        }
        fi->fh = 0;
        fi->keep_cache = 1; /* fixed files never change while mounted */
        fuse_reply_open(req, fi);
        return;
    }
    const struct ns_blob *b = src->get(src->arg);
    if (b == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)b;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    if (fuse_reply_open(req, fi) == -ENOENT)
        src->put(src->arg, b); /* the opener was interrupted */
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    const struct ns_source *src = ns_valid(fs->ns, ino) ? ns_source(fs->ns, ino) : NULL;

    if (src != NULL && fi->fh != 0)
        src->put(src->arg, (const struct ns_blob *)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

/* A per-thread buffer of at least `len` bytes: libfuse's worker threads
 * serve many reads each, and a fresh 1 MiB malloc per read costs page
 * faults on every call. */
static void *read_buffer(struct fs *fs, size_t len)
{
    struct fs_buf *b = pthread_getspecific(fs->buf_key);
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL || pthread_setspecific(fs->buf_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    if (b->cap < len) {
        void *p = malloc(len);
        if (p == NULL)
            return NULL;
        free(b->p);
        b->p = p;
        b->cap = len;
    }
    return b->p;
}

/* A dynamic file's content as held by the open file. */
static void read_dynamic(fuse_req_t req, const struct ns_source *src, size_t size, off_t off,
                         struct fuse_file_info *fi)
{
    const struct ns_blob *b = (const struct ns_blob *)(uintptr_t)fi->fh;
    if (b == NULL || (uint64_t)off >= b->len) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t n = b->len - (size_t)off < size ? b->len - (size_t)off : size;
    /* A release on another thread must not free the text mid-reply. */
    src->hold(src->arg, b);
    fuse_reply_buf(req, b->bytes + off, n);
    src->put(src->arg, b);
}

/* Fill buf with `len` bytes at `off` of the file whose segments are segs;
 * the range lies inside the file. 0 or -errno. */
static int fill_segments(struct fs *fs, const struct ns_seg *segs, size_t nseg, char *buf,
                         size_t len, uint64_t off)
{
    size_t done = 0;
    for (size_t i = ns_seg_find(segs, nseg, off); done < len && i < nseg; i++) {
        const struct ns_seg *s = &segs[i];
        uint64_t in = off + done - (s->end - s->len); /* offset inside the segment */
        size_t n = s->len - in < len - done ? (size_t)(s->len - in) : len - done;
        if (s->kind == SEG_LITERAL) {
            memcpy(buf + done, s->bytes + in, n);
        } else {
            const void *data;
            ssize_t got =
                read_tensor(fs->r, s->tensor, s->dt, buf + done, n, s->off + in, &data, NULL);
            atomic_fetch_add_explicit(&fs->reads, 1, memory_order_release);
            if (got < 0)
                return (int)got;
            if ((size_t)got != n)
                return -EIO; /* the image is shorter than the tree says */
        }
        done += n;
    }
    return 0;
}

/* Bytes [off, off + len) of fixed file ino, inside the file: into buf, or
 * by reference (*data, kept until read_release(*hold)) where they lie in
 * one tensor range the read path holds in memory. 0 or -errno. */
static int file_bytes(struct fs *fs, uint64_t ino, char *buf, size_t len, uint64_t off,
                      const void **data, struct read_hold **hold)
{
    const struct ns_seg *segs;
    size_t nseg = ns_segments(fs->ns, ino, &segs);

    *data = buf;
    *hold = NULL;
    const struct ns_seg *s = &segs[ns_seg_find(segs, nseg, off)];
    if (s->kind != SEG_TENSOR || off + len > s->end)
        return fill_segments(fs, segs, nseg, buf, len, off);
    ssize_t n = read_tensor(fs->r, s->tensor, s->dt, buf, len, s->off + (off - (s->end - s->len)),
                            data, hold);
    atomic_fetch_add_explicit(&fs->reads, 1, memory_order_release);
    /* Short is EIO here: the tree says the bytes exist, and a short reply
     * would end the file early in the page cache. */
    if (n >= 0 && (size_t)n == len)
        return 0;
    read_release(fs->r, *hold);
    *hold = NULL;
    *data = buf;
    return n < 0 ? (int)n : -EIO;
}

/* Count, per tensor, the bytes of [off, off + len) of file ino that were
 * pushed ahead (the control file's `pushed` column). */
static void count_pushed(struct fs *fs, uint64_t ino, size_t len, uint64_t off)
{
    const struct ns_seg *segs;
    size_t nseg = ns_segments(fs->ns, ino, &segs);
    struct records *rs = read_records(fs->r);

    for (size_t i = ns_seg_find(segs, nseg, off); i < nseg; i++) {
        const struct ns_seg *s = &segs[i];
        uint64_t start = s->end - s->len;
        if (start >= off + len)
            break;
        uint64_t a = start > off ? start : off, b = s->end < off + len ? s->end : off + len;
        if (s->kind == SEG_TENSOR && b > a)
            records_pushed(rs, s->tensor, b - a);
    }
}

/* push.h's fill and release: what a read of the file would answer. */
static int push_fill(void *arg, uint64_t ino, char *buf, size_t len, uint64_t off,
                     const void **data, void **hold)
{
    struct fs *fs = arg;
    int rc = file_bytes(fs, ino, buf, len, off, data, (struct read_hold **)hold);
    if (rc == 0)
        count_pushed(fs, ino, len, off);
    return rc;
}

static void push_release(void *arg, void *hold)
{
    struct fs *fs = arg;
    read_release(fs->r, hold);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);

    if (!ns_valid(fs->ns, ino) || off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (ns_kind(fs->ns, ino) == NS_DIR) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    const struct ns_source *src = ns_source(fs->ns, ino);
    if (src != NULL) {
        read_dynamic(req, src, size, off, fi);
        return;
    }
    uint64_t fsize = ns_size(fs->ns, ino);
    if ((uint64_t)off >= fsize || size == 0) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t len = fsize - (uint64_t)off < size ? (size_t)(fsize - (uint64_t)off) : size;
    void *buf = read_buffer(fs, len);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    /* Ask for the bytes ahead first: the pushing threads then work while
     * this request is answered. */
    push_note(fs->push, ino, fsize, (uint64_t)off, len);
    const void *data;
    struct read_hold *hold;
    int rc = file_bytes(fs, ino, buf, len, (uint64_t)off, &data, &hold);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_buf(req, data, len);
    read_release(fs->r, hold);
}

static void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct fs *fs = fs_of(req);
    if (mask & W_OK)
        fuse_reply_err(req, EROFS);
    else if ((mask & X_OK) && (!ns_valid(fs->ns, ino) || ns_kind(fs->ns, ino) != NS_DIR))
        fuse_reply_err(req, EACCES);
    else
        fuse_reply_err(req, 0);
}

/* ----------------------------------------------------------------------
 * Extended attributes: a file that stands for a tensor has user.gguf.*.
 * Other user.* names are ENODATA. Other namespaces (security.*, system.*,
 * trusted.*) are not supported here, and saying so (ENOTSUP) matters: `ls -l`
 * probes security.selinux and system.posix_acl_access on every file, and
 * stops for the whole device after one ENOTSUP, where ENODATA would cost
 * two round trips per file (100k tensors: 200k requests, seconds).
 * ---------------------------------------------------------------------- */

static const struct gguf_tensor *tensor_of(const struct fs *fs, fuse_ino_t ino)
{
    int64_t t = ns_valid(fs->ns, ino) ? ns_tag(fs->ns, ino) : -1;
    return t >= 0 ? &fs->m->tensors[t] : NULL;
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct fs *fs = fs_of(req);
    const struct gguf_tensor *t = tensor_of(fs, ino);
    char val[XATTR_VALUE_MAX];
    int n;

    if (strncmp(name, "user.", 5) != 0) {
        fuse_reply_err(req, ENOTSUP);
        return;
    }
    if (t == NULL || (n = xattr_value(fs->m, t, name, val, sizeof(val))) < 0) {
        fuse_reply_err(req, ENODATA);
        return;
    }
    if (size == 0)
        fuse_reply_xattr(req, (size_t)n);
    else if (size < (size_t)n)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, val, (size_t)n);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    size_t n = tensor_of(fs_of(req), ino) != NULL ? sizeof(xattr_names) : 0;

    if (size == 0)
        fuse_reply_xattr(req, n);
    else if (size < n)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, xattr_names, n);
}

/* The model's decoded size as used and nothing free: `df` shows the mount
 * full, as for any read-only image. */
static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct fs *fs = fs_of(req);
    struct statvfs sv;
    uint64_t bytes = fs->model_bytes;
    (void)ino;

    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = 4096;
    sv.f_frsize = 4096;
    sv.f_blocks = (fsblkcnt_t)(bytes / 4096 + (bytes % 4096 != 0));
    sv.f_files = (fsfilcnt_t)ns_count(fs->ns);
    sv.f_namemax = 255;
    sv.f_flag = ST_RDONLY | ST_NOSUID;
    fuse_reply_statfs(req, &sv);
}

/* ----------------------------------------------------------------------
 * Session setup and the read-only refusals
 * ---------------------------------------------------------------------- */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
    struct fs *fs = userdata;

    /* libfuse 3.14 compares this with the session's -o max_read and fails
     * the mount with a protocol error when they differ. */
    if (fs->opt.max_read != 0)
        conn->max_read = fs->opt.max_read;
    if (conn->capable & FUSE_CAP_ASYNC_READ)
        conn->want |= FUSE_CAP_ASYNC_READ;
    /* Listings carry attributes when the kernel sees they are wanted
     * (auto): `ls -l` of 100k tensors is then a few hundred large replies
     * instead of a lookup per file, and a plain `ls` stays plain. */
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
    /* Nothing in the mount ever changes: cached data stays valid. */
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    if (fs->opt.conn_opts != NULL)
        fuse_apply_conn_info_opts(fs->opt.conn_opts, conn);
    if (fs->opt.ready != NULL)
        fs->opt.ready(fs->opt.ready_arg);
}

int fs_attach(struct fs *fs, struct fuse_session *se)
{
    struct push_options po = {.ahead = fs->opt.push_ahead,
                              .threads = fs->opt.push_threads,
                              .fill = push_fill,
                              .release = push_release,
                              .arg = fs};
    if (po.ahead == 0)
        return 0;
    if ((fs->push = push_new(&po)) == NULL)
        return -1;
    if (push_start(fs->push, se) != 0) {
        push_free(fs->push);
        fs->push = NULL;
    }
    return 0;
}

/* Answer requests until no pushing thread is inside a store: a store may
 * wait for a page that a read request, still queued in the kernel, has
 * locked, and only its answer (or the connection's end) frees it. */
static void drain_for_push(struct fs *fs, struct fuse_session *se)
{
    struct fuse_buf fbuf = {.mem = NULL};

    push_quit(fs->push);
    while (push_busy(fs->push)) {
        struct pollfd pfd = {.fd = fuse_session_fd(se), .events = POLLIN};
        int n = poll(&pfd, 1, 10);
        if (n > 0 && (pfd.revents & POLLIN)) {
            if (fuse_session_receive_buf(se, &fbuf) > 0)
                fuse_session_process_buf(se, &fbuf);
        } else if (n > 0) {
            usleep(1000); /* the connection is gone: the stores fail soon */
        }
    }
    free(fbuf.mem);
}

void fs_detach(struct fs *fs, struct fuse_session *se)
{
    if (fs->push == NULL)
        return;
    drain_for_push(fs, se);
    push_free(fs->push);
    fs->push = NULL;
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .lookup = fs_lookup,
    .getattr = fs_getattr,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .readdirplus = fs_readdirplus,
    .open = fs_open,
    .read = fs_read,
    .release = fs_release,
    .access = fs_access,
    .getxattr = fs_getxattr,
    .listxattr = fs_listxattr,
    .statfs = fs_statfs,
    .setattr = fs_ro_setattr,
    .mknod = fs_ro_mknod,
    .mkdir = fs_ro_mkdir,
    .unlink = fs_ro_unlink,
    .rmdir = fs_ro_unlink,
    .symlink = fs_ro_symlink,
    .rename = fs_ro_rename,
    .link = fs_ro_link,
    .write = fs_ro_write,
    .setxattr = fs_ro_setxattr,
    .removexattr = fs_ro_removexattr,
    .create = fs_ro_create,
    .fallocate = fs_ro_fallocate,
};
