/* fs.c - FUSE low-level operations of a gguffs mount. See fs.h.
 *
 * Each operation ends in exactly one fuse_reply_*(). The tree is flat and
 * fixed at mount time, so there is no inode table: the inode number says
 * what it is (1 root, 2 control file, 3 + i tensor i), lookup() finds a name
 * in a hash table built once, and forget() has nothing to do.
 */
#include "fs/fs.h"

#include "common/facts.h"
#include "fs/control.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"
#include "read/read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define INO_ROOT 1
#define INO_CONTROL 2
#define INO_TENSOR0 3
#define CONTROL_NAME ".control"
/* Nothing in the mount changes while it is mounted but the control file,
 * whose size is not advertised (0, like /proc) and whose reads are direct. */
#define TIMEOUT_FIXED 86400.0

/* The name table: open addressing over file names, built once, read by
 * every lookup without a lock. Sized to a power of two at least twice the
 * tensor count, so probes stay short. */
struct fs {
    const struct gguf_model *m;
    struct reader *r;
    struct fs_options opt;
    char **fname;          /* file name of tensor i */
    uint64_t *slot;        /* tensor index + 1, 0 = empty */
    uint64_t nslot;        /* power of two */
    pthread_key_t buf_key; /* per-thread read buffer */
    /* Open control-file snapshots: released by release(), or by fs_free()
     * for files still open when the session ends (SIGTERM with readers). */
    pthread_mutex_t snap_lock;
    struct snapshot *snaps;
};

/* The control file as rendered at one open. Counted: the open file holds
 * one reference and each read in flight another, so a release served by
 * another thread cannot free the text while a reply is still writing it. */
struct snapshot {
    struct snapshot *prev, *next;
    unsigned refs; /* under fs->snap_lock */
    char *text;
    size_t len;
};

struct fs_buf {
    void *p;
    size_t cap;
};

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Tensor index for file name `name`, or -1. */
static int64_t name_find(const struct fs *fs, const char *name)
{
    for (uint64_t i = hash_name(name) & (fs->nslot - 1);; i = (i + 1) & (fs->nslot - 1)) {
        uint64_t v = fs->slot[i];
        if (v == 0)
            return -1;
        if (strcmp(fs->fname[v - 1], name) == 0)
            return (int64_t)(v - 1);
    }
}

static void buf_free(void *p)
{
    struct fs_buf *b = p;
    if (b != NULL)
        free(b->p);
    free(b);
}

/* Unlink and free; the caller holds fs->snap_lock. */
static void snapshot_unlink(struct fs *fs, struct snapshot *sn)
{
    if (sn->prev)
        sn->prev->next = sn->next;
    else
        fs->snaps = sn->next;
    if (sn->next)
        sn->next->prev = sn->prev;
    free(sn->text);
    free(sn);
}

static void snapshot_get(struct fs *fs, struct snapshot *sn)
{
    pthread_mutex_lock(&fs->snap_lock);
    sn->refs++;
    pthread_mutex_unlock(&fs->snap_lock);
}

static void snapshot_put(struct fs *fs, struct snapshot *sn)
{
    pthread_mutex_lock(&fs->snap_lock);
    if (--sn->refs == 0)
        snapshot_unlink(fs, sn);
    pthread_mutex_unlock(&fs->snap_lock);
}

/* A fresh rendering of the control file, linked into fs->snaps. */
static struct snapshot *snapshot_new(struct fs *fs)
{
    struct snapshot *sn = calloc(1, sizeof(*sn));
    struct facts *f = facts_new();
    if (f != NULL) {
        control_model_facts(fs->m, f);
        read_describe(fs->r, f);
    }
    if (sn != NULL && f != NULL && !facts_failed(f))
        sn->text = control_render(fs->m, f, read_records(fs->r), &sn->len);
    facts_free(f);
    if (sn == NULL || sn->text == NULL) {
        free(sn);
        return NULL;
    }
    sn->refs = 1;
    pthread_mutex_lock(&fs->snap_lock);
    sn->next = fs->snaps;
    if (fs->snaps)
        fs->snaps->prev = sn;
    fs->snaps = sn;
    pthread_mutex_unlock(&fs->snap_lock);
    return sn;
}

static int build_names(struct fs *fs, char *err, size_t errlen)
{
    const struct gguf_model *m = fs->m;

    fs->fname = calloc(m->n_tensors ? m->n_tensors : 1, sizeof(*fs->fname));
    fs->nslot = 16;
    while (fs->nslot < 2 * m->n_tensors)
        fs->nslot *= 2;
    fs->slot = calloc(fs->nslot, sizeof(*fs->slot));
    if (fs->fname == NULL || fs->slot == NULL) {
        snprintf(err, errlen, "out of memory for the name table");
        return -1;
    }
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        char name[NAMES_ENCODED_MAX(GGUF_MAX_NAME)];
        if (t->name_len >= GGUF_MAX_NAME ||
            names_encode(t->name, t->name_len, name, sizeof(name)) < 0) {
            snprintf(err, errlen, "tensor %" PRIu64 ": name cannot be a file name", i);
            return -1;
        }
        if ((fs->fname[i] = strdup(name)) == NULL) {
            snprintf(err, errlen, "out of memory for the name table");
            return -1;
        }
        /* A duplicate name keeps its first tensor, as a lookup would. */
        if (name_find(fs, name) >= 0)
            continue;
        uint64_t j = hash_name(name) & (fs->nslot - 1);
        while (fs->slot[j] != 0)
            j = (j + 1) & (fs->nslot - 1);
        fs->slot[j] = i + 1;
    }
    return 0;
}

struct fs *fs_new(const struct gguf_model *m, struct reader *r, const struct fs_options *opt,
                  char *err, size_t errlen)
{
    struct fs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fs->m = m;
    fs->r = r;
    fs->opt = *opt;
    pthread_mutex_init(&fs->snap_lock, NULL);
    if (pthread_key_create(&fs->buf_key, buf_free) != 0) {
        snprintf(err, errlen, "cannot create a thread key");
        free(fs);
        return NULL;
    }
    if (build_names(fs, err, errlen) != 0) {
        fs_free(fs);
        return NULL;
    }
    return fs;
}

void fs_free(struct fs *fs)
{
    if (fs == NULL)
        return;
    for (uint64_t i = 0; fs->fname != NULL && i < fs->m->n_tensors; i++)
        free(fs->fname[i]);
    free(fs->fname);
    free(fs->slot);
    while (fs->snaps != NULL)
        snapshot_unlink(fs, fs->snaps); /* files still open at the end */
    pthread_mutex_destroy(&fs->snap_lock);
    buf_free(pthread_getspecific(fs->buf_key));
    pthread_key_delete(fs->buf_key);
    free(fs);
}

/* ----------------------------------------------------------------------
 * Attributes
 * ---------------------------------------------------------------------- */

static struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static bool is_tensor(const struct fs *fs, fuse_ino_t ino)
{
    return ino >= INO_TENSOR0 && ino - INO_TENSOR0 < fs->m->n_tensors;
}

/* Fill st for `ino`; false if there is no such inode. Owner and times are
 * the model file's: the mount is a view of it. */
static bool fill_attr(const struct fs *fs, fuse_ino_t ino, struct stat *st)
{
    const struct stat *ms = &fs->m->st;

    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_uid = ms->st_uid;
    st->st_gid = ms->st_gid;
    st->st_atim = ms->st_atim;
    st->st_mtim = ms->st_mtim;
    st->st_ctim = ms->st_ctim;
    st->st_blksize = 4096;
    if (ino == INO_ROOT) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return true;
    }
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    if (ino == INO_CONTROL)
        return true;
    if (!is_tensor(fs, ino))
        return false;
    st->st_size = (off_t)(fs->m->tensors[ino - INO_TENSOR0].n_elements * 4);
    st->st_blocks = (st->st_size + 511) / 512;
    return true;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fs *fs = fs_of(req);
    struct fuse_entry_param e;
    fuse_ino_t ino;

    if (parent != INO_ROOT) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    if (strcmp(name, CONTROL_NAME) == 0) {
        ino = INO_CONTROL;
    } else {
        int64_t i = name_find(fs, name);
        if (i < 0) {
            fuse_reply_err(req, ENOENT);
            return;
        }
        ino = INO_TENSOR0 + (fuse_ino_t)i;
    }
    memset(&e, 0, sizeof(e));
    e.ino = ino;
    e.generation = 1;
    fill_attr(fs, ino, &e.attr);
    e.attr_timeout = ino == INO_CONTROL ? 0.0 : TIMEOUT_FIXED;
    e.entry_timeout = TIMEOUT_FIXED;
    fuse_reply_entry(req, &e);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct stat st;
    (void)fi;

    if (!fill_attr(fs_of(req), ino, &st)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_reply_attr(req, &st, ino == INO_CONTROL ? 0.0 : TIMEOUT_FIXED);
}

/* ----------------------------------------------------------------------
 * Directory
 * ---------------------------------------------------------------------- */

/* Entry `k` of the root: ".", "..", ".control", then tensors in file order.
 * NULL past the end. */
static const char *dir_entry(const struct fs *fs, uint64_t k, fuse_ino_t *ino)
{
    if (k == 0 || k == 1) {
        *ino = INO_ROOT;
        return k == 0 ? "." : "..";
    }
    if (k == 2) {
        *ino = INO_CONTROL;
        return CONTROL_NAME;
    }
    if (k - 3 >= fs->m->n_tensors)
        return NULL;
    *ino = INO_TENSOR0 + (fuse_ino_t)(k - 3);
    return fs->fname[k - 3];
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);
    (void)fi;

    if (ino != INO_ROOT) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    char *buf = malloc(size);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    fuse_ino_t eino;
    const char *name;
    for (uint64_t k = (uint64_t)off; (name = dir_entry(fs, k, &eino)) != NULL; k++) {
        struct stat st = {.st_ino = eino, .st_mode = eino == INO_ROOT ? S_IFDIR : S_IFREG};
        size_t n = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)(k + 1));
        if (n > size - used)
            break;
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
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
    if (ino == INO_ROOT) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    if (ino == INO_CONTROL) {
        struct snapshot *sn = snapshot_new(fs);
        if (sn == NULL) {
            fuse_reply_err(req, ENOMEM);
            return;
        }
        fi->fh = (uint64_t)(uintptr_t)sn;
        fi->direct_io = 1;
        fi->keep_cache = 0;
        if (fuse_reply_open(req, fi) == -ENOENT)
            snapshot_put(fs, sn); /* the opener was interrupted */
        return;
    }
    if (!is_tensor(fs, ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fi->fh = 0;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino == INO_CONTROL && fi->fh != 0)
        snapshot_put(fs_of(req), (struct snapshot *)(uintptr_t)fi->fh);
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

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fs *fs = fs_of(req);

    if (ino == INO_CONTROL) {
        struct snapshot *sn = (struct snapshot *)(uintptr_t)fi->fh;
        if (off < 0 || (uint64_t)off >= sn->len) {
            fuse_reply_buf(req, NULL, 0);
            return;
        }
        size_t n = sn->len - (size_t)off < size ? sn->len - (size_t)off : size;
        snapshot_get(fs, sn);
        fuse_reply_buf(req, sn->text + off, n);
        snapshot_put(fs, sn);
        return;
    }
    if (!is_tensor(fs, ino) || off < 0) {
        fuse_reply_err(req, ino == INO_ROOT ? EISDIR : EINVAL);
        return;
    }
    void *buf = read_buffer(fs, size);
    if (buf == NULL) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    const void *data;
    struct read_hold *hold;
    ssize_t n =
        read_tensor(fs->r, ino - INO_TENSOR0, DTYPE_F32, buf, size, (uint64_t)off, &data, &hold);
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_buf(req, data, (size_t)n);
    read_release(fs->r, hold);
}

static void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    if (mask & W_OK)
        fuse_reply_err(req, EROFS);
    else if ((mask & X_OK) && ino != INO_ROOT)
        fuse_reply_err(req, EACCES);
    else
        fuse_reply_err(req, 0);
}

/* ----------------------------------------------------------------------
 * Extended attributes
 * ---------------------------------------------------------------------- */

static const char xattr_names[] = "user.gguf.name\0user.gguf.type\0user.gguf.shape\0"
                                  "user.gguf.offset";

/* The value of attribute `name` of tensor t in buf; length, or -1. */
static int xattr_value(const struct gguf_tensor *t, const char *name, char *buf, size_t len)
{
    char tb[16];

    if (strcmp(name, "user.gguf.name") == 0)
        return snprintf(buf, len, "%s", t->name);
    if (strcmp(name, "user.gguf.type") == 0)
        return snprintf(buf, len, "%s", ggml_type_name(t->type, tb));
    if (strcmp(name, "user.gguf.offset") == 0)
        return snprintf(buf, len, "%" PRIu64, t->offset);
    if (strcmp(name, "user.gguf.shape") != 0)
        return -1;
    int n = 0;
    for (uint32_t d = 0; d < t->n_dims && (size_t)n < len; d++)
        n += snprintf(buf + n, len - (size_t)n, d ? ",%" PRIu64 : "%" PRIu64, t->ne[d]);
    return n;
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct fs *fs = fs_of(req);
    char val[256];
    int n;

    if (!is_tensor(fs, ino) ||
        (n = xattr_value(&fs->m->tensors[ino - INO_TENSOR0], name, val, sizeof(val))) < 0) {
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
    size_t n = is_tensor(fs_of(req), ino) ? sizeof(xattr_names) : 0;

    if (size == 0)
        fuse_reply_xattr(req, n);
    else if (size < n)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, xattr_names, n);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    const struct gguf_model *m = fs_of(req)->m;
    struct statvfs sv;
    uint64_t bytes = 0;
    (void)ino;

    for (uint64_t i = 0; i < m->n_tensors; i++)
        bytes += m->tensors[i].n_elements * 4;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = 4096;
    sv.f_frsize = 4096;
    sv.f_blocks = (fsblkcnt_t)((bytes + 4095) / 4096);
    sv.f_files = (fsfilcnt_t)(m->n_tensors + 2);
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
    /* Nothing in the mount ever changes: cached data stays valid. */
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    if (fs->opt.conn_opts != NULL)
        fuse_apply_conn_info_opts(fs->opt.conn_opts, conn);
    if (fs->opt.ready != NULL)
        fs->opt.ready(fs->opt.ready_arg);
}

static void fs_erofs(fuse_req_t req)
{
    fuse_reply_err(req, EROFS);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    (void)ino, (void)attr, (void)to_set, (void)fi;
    fs_erofs(req);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    (void)parent, (void)name, (void)mode, (void)rdev;
    fs_erofs(req);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)parent, (void)name, (void)mode;
    fs_erofs(req);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    (void)parent, (void)name;
    fs_erofs(req);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    (void)link, (void)parent, (void)name;
    fs_erofs(req);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    (void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
    fs_erofs(req);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    (void)ino, (void)newparent, (void)newname;
    fs_erofs(req);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino, (void)buf, (void)size, (void)off, (void)fi;
    fs_erofs(req);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    (void)ino, (void)name, (void)value, (void)size, (void)flags;
    fs_erofs(req);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    (void)ino, (void)name;
    fs_erofs(req);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    (void)parent, (void)name, (void)mode, (void)fi;
    fs_erofs(req);
}

static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                         struct fuse_file_info *fi)
{
    (void)ino, (void)mode, (void)offset, (void)length, (void)fi;
    fs_erofs(req);
}

const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .lookup = fs_lookup,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .open = fs_open,
    .read = fs_read,
    .release = fs_release,
    .access = fs_access,
    .getxattr = fs_getxattr,
    .listxattr = fs_listxattr,
    .statfs = fs_statfs,
    .setattr = fs_setattr,
    .mknod = fs_mknod,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_unlink,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .link = fs_link,
    .write = fs_write,
    .setxattr = fs_setxattr,
    .removexattr = fs_removexattr,
    .create = fs_create,
    .fallocate = fs_fallocate,
};
