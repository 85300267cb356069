/* ceiling_fs.c - the fastest FUSE server we can write for the same bytes.
 *
 * The benchmark measures gguffs against this server: it serves read-only
 * files straight from memory, so what it costs is libfuse, /dev/fuse and the
 * kernel's page cache, and nothing else. Any gap between gguffs and this
 * server with the same options and the same read pattern is gguffs's own.
 *
 * Files are given after the mount point:
 *   NAME=PATH   the bytes of PATH, read into memory at start
 *   NAME:SIZE   SIZE bytes of a 64 MiB pattern, repeated (for sets of files
 *               too large to hold, e.g. every tensor of a 7B model as FP32)
 *   @LIST       one "NAME SIZE" line per pattern file
 *
 * Options (besides libfuse's own: -f, -s, -o max_threads=, -o clone_fd, ...):
 *   -o hl            the high-level API (fuse_new/fuse_loop) instead of the
 *                    low-level one; its read copies (compare -o reply=copy)
 *   -o keep_cache    keep the page cache across opens (gguffs does)
 *   -o direct_io     bypass the page cache
 *   -o max_read=N    largest read request (kernel mount option and conn)
 *   -o reply=MODE    buf: fuse_reply_buf from memory (default);
 *                    copy: memcpy into a per-thread buffer first, then
 *                          fuse_reply_buf, as a decoder writing its output
 *                          would;
 *                    data: fuse_reply_data from a memory bufvec (goes
 *                          through splice when -o splice_write is on);
 *                    fd: fuse_reply_data from the source file's fd
 *                        (NAME=PATH files only; splices with splice_write)
 *   -o stats         at exit, print the count, total and largest size of the
 *                    read requests to stderr
 *   -o ra_kb=N       once mounted, set the mount's read-ahead
 *                    (/sys/class/bdi/MAJ:MIN/read_ahead_kb) to N KiB
 *   -o push=N        at a file's first read from offset 0, N threads store
 *                    the rest of it into the page cache in 1 MiB chunks
 *                    (fuse_lowlevel_notify_store), as fast as the kernel
 *                    takes them: the most that pushing ahead can give a
 *                    server that has no decoding to do (low-level API only)
 *   -o splice_write, -o splice_move, -o max_readahead=N, -o async_read, ...
 *                    libfuse's connection options (fuse_parse_conn_info_opts)
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PATTERN_BYTES (64u << 20)
#define ROOT_INO 1
#define TIMEOUT 86400.0

enum reply_mode { REPLY_BUF, REPLY_COPY, REPLY_DATA, REPLY_FD };

struct cfile {
    char *name;
    uint64_t size;
    char *data;          /* NULL: served from the pattern */
    int fd;              /* source file for -o reply=fd, or -1 */
    _Atomic bool pushed; /* -o push: its pushing threads have started */
};

struct options {
    int hl;
    int stats;
    int keep_cache;
    int direct_io;
    unsigned max_read;
    unsigned ra_kb;
    unsigned push;
    char *reply;
};

struct ceiling {
    struct options opt;
    enum reply_mode reply;
    struct cfile *files;
    size_t nfiles;
    char *pattern;
    char *mountpoint;
    bool have_mountpoint;
    struct fuse_conn_info_opts *conn_opts;
    int error; /* set by the argument parser */
    /* -o stats: what the kernel asked for */
    _Atomic uint64_t n_reads, read_bytes, max_read_seen;
    /* -o push */
    struct fuse_session *se;
    _Atomic unsigned pushers; /* threads still storing */
};

/* The one instance: libfuse's callbacks reach it through userdata, but the
 * option parser and the read-ahead thread need it too. */
static struct ceiling ceil_g;

/* ---------------------------------------------------------------- files */

static int add_file(struct ceiling *c, const char *name, uint64_t size, char *data, int fd)
{
    struct cfile *nf = realloc(c->files, (c->nfiles + 1) * sizeof(*nf));
    if (!nf)
        return -1;
    c->files = nf;
    nf[c->nfiles] = (struct cfile){.name = strdup(name), .size = size, .data = data, .fd = fd};
    if (!nf[c->nfiles].name)
        return -1;
    c->nfiles++;
    return 0;
}

/* Read PATH whole into memory; keep its fd for -o reply=fd. */
static int add_loaded(struct ceiling *c, const char *name, const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "ceiling_fs: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char *data = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!data) {
        fprintf(stderr, "ceiling_fs: %s: out of memory\n", path);
        close(fd);
        return -1;
    }
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = pread(fd, data + done, (size_t)(st.st_size - done), done);
        if (n <= 0) {
            fprintf(stderr, "ceiling_fs: %s: read failed: %s\n", path,
                    n < 0 ? strerror(errno) : "file shrank");
            free(data);
            close(fd);
            return -1;
        }
        done += n;
    }
    return add_file(c, name, (uint64_t)st.st_size, data, fd);
}

static int add_list(struct ceiling *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ceiling_fs: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char name[4096];
    unsigned long long size;
    int rc = 0, n;
    while ((n = fscanf(f, "%4095s %llu", name, &size)) == 2) {
        if (add_file(c, name, size, NULL, -1) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && n != EOF) {
        fprintf(stderr, "ceiling_fs: %s: expected lines of \"NAME SIZE\"\n", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* One file argument: NAME=PATH, NAME:SIZE or @LIST. */
static int add_spec(struct ceiling *c, const char *arg)
{
    if (arg[0] == '@')
        return add_list(c, arg + 1);
    const char *eq = strchr(arg, '='), *colon = strchr(arg, ':');
    if (eq && eq != arg) {
        char *name = strndup(arg, (size_t)(eq - arg));
        int rc = name ? add_loaded(c, name, eq + 1) : -1;
        free(name);
        return rc;
    }
    if (colon && colon != arg) {
        char *end;
        errno = 0;
        unsigned long long size = strtoull(colon + 1, &end, 0);
        if (errno || *end || end == colon + 1) {
            fprintf(stderr, "ceiling_fs: %s: bad size\n", arg);
            return -1;
        }
        char *name = strndup(arg, (size_t)(colon - arg));
        int rc = name ? add_file(c, name, size, NULL, -1) : -1;
        free(name);
        return rc;
    }
    fprintf(stderr, "ceiling_fs: %s: expected NAME=PATH, NAME:SIZE or @LIST\n", arg);
    return -1;
}

static const struct cfile *file_of(const struct ceiling *c, fuse_ino_t ino)
{
    if (ino < ROOT_INO + 1 || ino - ROOT_INO - 1 >= c->nfiles)
        return NULL;
    return &c->files[ino - ROOT_INO - 1];
}

static void fill_stat(const struct ceiling *c, fuse_ino_t ino, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    if (ino == ROOT_INO) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return;
    }
    const struct cfile *f = file_of(c, ino);
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = (off_t)f->size;
    st->st_blocks = (blkcnt_t)((f->size + 511) / 512);
    st->st_blksize = 1 << 20;
}

/* The bytes of [off, off+len) of f as at most two memory pieces (a pattern
 * file wraps around the pattern once per 64 MiB). len is already clipped. */
static int pieces(const struct ceiling *c, const struct cfile *f, uint64_t off, size_t len,
                  struct iovec iov[2])
{
    if (f->data) {
        iov[0] = (struct iovec){f->data + off, len};
        return 1;
    }
    uint64_t p = off % PATTERN_BYTES;
    size_t first = len < PATTERN_BYTES - p ? len : (size_t)(PATTERN_BYTES - p);
    iov[0] = (struct iovec){c->pattern + p, first};
    if (first == len)
        return 1;
    iov[1] = (struct iovec){c->pattern, len - first};
    return 2;
}

static size_t clip(const struct cfile *f, uint64_t off, size_t len)
{
    if (off >= f->size)
        return 0;
    return f->size - off < len ? (size_t)(f->size - off) : len;
}

static void count_read(struct ceiling *c, size_t size)
{
    if (!c->opt.stats)
        return;
    atomic_fetch_add_explicit(&c->n_reads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->read_bytes, size, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&c->max_read_seen, memory_order_relaxed);
    while (size > m && !atomic_compare_exchange_weak(&c->max_read_seen, &m, size))
        ;
}

/* -o reply=copy: the buffer a decoder would write into, one per thread. */
static char *copy_buffer(size_t len)
{
    static __thread char *buf;
    static __thread size_t cap;
    if (cap < len) {
        free(buf);
        buf = malloc(len);
        cap = buf ? len : 0;
    }
    return buf;
}

/* -------------------------------------------------------- read-ahead knob */

/* Set the mount's read-ahead once INIT is done: the kernel takes the
 * smaller of the bdi's value and INIT's max_readahead, so a value written
 * before INIT would be clamped back. stat() on the mount point blocks until
 * INIT has been answered, which orders the write after it. */
static void *set_readahead(void *arg)
{
    struct ceiling *c = arg;
    struct stat st;
    if (stat(c->mountpoint, &st) != 0) {
        fprintf(stderr, "ceiling_fs: stat %s: %s\n", c->mountpoint, strerror(errno));
        return NULL;
    }
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%u\n", c->opt.ra_kb) < 0 || fclose(f) != 0)
        fprintf(stderr, "ceiling_fs: %s: %s\n", path, strerror(errno));
    return NULL;
}

static void start_readahead_thread(struct ceiling *c)
{
    pthread_t t;
    if (c->opt.ra_kb && pthread_create(&t, NULL, set_readahead, c) == 0)
        pthread_detach(t);
}

/* ------------------------------------------------------ low-level API ops */

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
    struct ceiling *c = userdata;
    /* libfuse 3.14 checks conn->max_read against the mount option; both
     * must say the same or INIT fails. */
    if (c->opt.max_read)
        conn->max_read = c->opt.max_read;
    fuse_apply_conn_info_opts(c->conn_opts, conn);
    start_readahead_thread(c);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct ceiling *c = fuse_req_userdata(req);
    if (parent != ROOT_INO) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    for (size_t i = 0; i < c->nfiles; i++) {
        if (strcmp(c->files[i].name, name) == 0) {
            struct fuse_entry_param e = {
                .ino = ROOT_INO + 1 + i, .attr_timeout = TIMEOUT, .entry_timeout = TIMEOUT};
            fill_stat(c, e.ino, &e.attr);
            fuse_reply_entry(req, &e);
            return;
        }
    }
    fuse_reply_err(req, ENOENT);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct ceiling *c = fuse_req_userdata(req);
    (void)fi;
    if (ino != ROOT_INO && !file_of(c, ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st;
    fill_stat(c, ino, &st);
    fuse_reply_attr(req, &st, TIMEOUT);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    struct ceiling *c = fuse_req_userdata(req);
    (void)fi;
    if (ino != ROOT_INO) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    char *buf = malloc(size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    /* Entry k of the listing: ".", "..", then the files; off is the next k. */
    for (size_t k = (size_t)off; k < c->nfiles + 2; k++) {
        struct stat st = {.st_ino = k < 2 ? ROOT_INO : ROOT_INO + k - 1,
                          .st_mode = k < 2 ? S_IFDIR : S_IFREG};
        const char *name = k == 0 ? "." : k == 1 ? ".." : c->files[k - 2].name;
        size_t n = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)k + 1);
        if (n > size - used)
            break;
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct ceiling *c = fuse_req_userdata(req);
    if (!file_of(c, ino)) {
        fuse_reply_err(req, ino == ROOT_INO ? EISDIR : ENOENT);
        return;
    }
    if ((fi->flags & O_ACCMODE) != O_RDONLY) {
        fuse_reply_err(req, EACCES);
        return;
    }
    fi->keep_cache = c->opt.keep_cache;
    fi->direct_io = c->opt.direct_io;
    fuse_reply_open(req, fi);
}

/* A bufvec of n memory pieces (fuse_bufvec holds one inline). */
static struct fuse_bufvec *bufvec_of(const struct iovec *iov, int n)
{
    struct fuse_bufvec *bv = calloc(1, sizeof(*bv) + sizeof(struct fuse_buf));
    if (!bv)
        return NULL;
    bv->count = n ? (size_t)n : 1;
    for (int i = 0; i < n; i++)
        bv->buf[i] = (struct fuse_buf){.size = iov[i].iov_len, .mem = iov[i].iov_base};
    return bv;
}

/* -o push: one thread's share of a file, every nth 1 MiB chunk from `from`. */
struct push_job {
    struct ceiling *c;
    fuse_ino_t ino;
    uint64_t from;
    unsigned k, n;
};

#define PUSH_CHUNK (1u << 20)

static void *push_main(void *arg)
{
    struct push_job *j = arg;
    const struct cfile *f = file_of(j->c, j->ino);
    for (uint64_t off = j->from + (uint64_t)j->k * PUSH_CHUNK; off < f->size;
         off += (uint64_t)j->n * PUSH_CHUNK) {
        size_t len = clip(f, off, PUSH_CHUNK);
        struct iovec iov[2];
        struct fuse_bufvec *bv = bufvec_of(iov, pieces(j->c, f, off, len, iov));
        int rc = bv ? fuse_lowlevel_notify_store(j->c->se, j->ino, (off_t)off, bv, 0) : -ENOMEM;
        free(bv);
        if (rc != 0)
            break;
    }
    atomic_fetch_sub(&j->c->pushers, 1);
    free(j);
    return NULL;
}

/* Starts the pushing threads of f at its first read from offset 0; the
 * stores begin at the first whole page after that read. */
static void push_start(struct ceiling *c, struct cfile *f, fuse_ino_t ino, uint64_t end)
{
    bool no = false;
    if (c->opt.push == 0 || !atomic_compare_exchange_strong(&f->pushed, &no, true))
        return;
    end = (end + 4095) / 4096 * 4096;
    for (unsigned k = 0; k < c->opt.push; k++) {
        struct push_job *j = malloc(sizeof(*j));
        pthread_t t;
        if (!j)
            return;
        *j = (struct push_job){c, ino, end, k, c->opt.push};
        atomic_fetch_add(&c->pushers, 1);
        if (pthread_create(&t, NULL, push_main, j) != 0) {
            atomic_fetch_sub(&c->pushers, 1);
            free(j);
            return;
        }
        pthread_detach(t);
    }
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct ceiling *c = fuse_req_userdata(req);
    const struct cfile *f = file_of(c, ino);
    (void)fi;
    size_t len = clip(f, (uint64_t)off, size);
    struct iovec iov[2];
    int n = len ? pieces(c, f, (uint64_t)off, len, iov) : 0;
    count_read(c, size);
    if (off == 0)
        push_start(c, (struct cfile *)f, ino, len);

    if (c->reply == REPLY_FD && f->fd >= 0) {
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
        bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        bv.buf[0].fd = f->fd;
        bv.buf[0].pos = off;
        fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
    } else if (c->reply == REPLY_COPY && len) {
        char *buf = copy_buffer(len);
        if (!buf) {
            fuse_reply_err(req, ENOMEM);
            return;
        }
        memcpy(buf, iov[0].iov_base, iov[0].iov_len);
        if (n == 2)
            memcpy(buf + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
        fuse_reply_buf(req, buf, len);
    } else if (c->reply == REPLY_DATA && len) {
        struct fuse_bufvec *bv = bufvec_of(iov, n);
        if (!bv) {
            fuse_reply_err(req, ENOMEM);
            return;
        }
        fuse_reply_data(req, bv, FUSE_BUF_SPLICE_MOVE);
        free(bv);
    } else {
        fuse_reply_iov(req, iov, n);
    }
}

static const struct fuse_lowlevel_ops ll_ops = {
    .init = ll_init,
    .lookup = ll_lookup,
    .getattr = ll_getattr,
    .readdir = ll_readdir,
    .open = ll_open,
    .read = ll_read,
};

/* ----------------------------------------------------- high-level API ops */

static const struct cfile *hl_find(const char *path)
{
    if (path[0] != '/')
        return NULL;
    for (size_t i = 0; i < ceil_g.nfiles; i++)
        if (strcmp(ceil_g.files[i].name, path + 1) == 0)
            return &ceil_g.files[i];
    return NULL;
}

static void *hl_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->entry_timeout = cfg->attr_timeout = TIMEOUT;
    cfg->kernel_cache = ceil_g.opt.keep_cache;
    cfg->direct_io = ceil_g.opt.direct_io;
    ll_init(&ceil_g, conn);
    return &ceil_g;
}

static int hl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    if (strcmp(path, "/") == 0) {
        fill_stat(&ceil_g, ROOT_INO, st);
        return 0;
    }
    const struct cfile *f = hl_find(path);
    if (!f)
        return -ENOENT;
    fill_stat(&ceil_g, ROOT_INO + 1 + (fuse_ino_t)(f - ceil_g.files), st);
    return 0;
}

static int hl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off, (void)fi, (void)flags;
    if (strcmp(path, "/") != 0)
        return -ENOTDIR;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; i < ceil_g.nfiles; i++)
        fill(buf, ceil_g.files[i].name, NULL, 0, 0);
    return 0;
}

static int hl_open(const char *path, struct fuse_file_info *fi)
{
    if (!hl_find(path))
        return -ENOENT;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    fi->keep_cache = ceil_g.opt.keep_cache;
    fi->direct_io = ceil_g.opt.direct_io;
    return 0;
}

/* The high-level API's read copies into libfuse's buffer (read_buf would
 * not do: libfuse frees the memory a read_buf reply points to), so compare
 * it with the low-level server's -o reply=copy. */
static int hl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    const struct cfile *f = hl_find(path);
    if (!f)
        return -ENOENT;
    size_t len = clip(f, (uint64_t)off, size);
    struct iovec iov[2];
    int n = len ? pieces(&ceil_g, f, (uint64_t)off, len, iov) : 0;
    count_read(&ceil_g, size);
    for (int i = 0, at = 0; i < n; at += (int)iov[i].iov_len, i++)
        memcpy(buf + at, iov[i].iov_base, iov[i].iov_len);
    return (int)len;
}

static const struct fuse_operations hl_ops = {
    .init = hl_init,
    .getattr = hl_getattr,
    .readdir = hl_readdir,
    .open = hl_open,
    .read = hl_read,
};

/* ------------------------------------------------------------------ main */

#define OPT(t, p)                                                                                  \
    {                                                                                              \
        t, offsetof(struct options, p), 1                                                          \
    }
static const struct fuse_opt ceil_opts[] = {
    OPT("hl", hl),
    OPT("stats", stats),
    OPT("keep_cache", keep_cache),
    OPT("direct_io", direct_io),
    OPT("ra_kb=%u", ra_kb),
    OPT("reply=%s", reply),
    OPT("push=%u", push),
    FUSE_OPT_KEY("max_read=", 1),
    FUSE_OPT_END,
};

/* Keeps max_read= for the kernel as well as reading it; takes the file
 * arguments that follow the mount point. */
static int ceil_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct ceiling *c = &ceil_g;
    (void)data, (void)outargs;
    if (key == 1) {
        c->opt.max_read = (unsigned)strtoul(arg + strlen("max_read="), NULL, 0);
        return 1;
    }
    if (key != FUSE_OPT_KEY_NONOPT)
        return 1;
    if (!c->have_mountpoint) {
        c->have_mountpoint = true;
        return 1;
    }
    if (add_spec(c, arg) != 0)
        c->error = 1;
    return 0;
}

static int parse_reply(struct ceiling *c)
{
    const char *r = c->opt.reply ? c->opt.reply : "buf";
    static const char *names[] = {"buf", "copy", "data", "fd"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(r, names[i]) == 0) {
            c->reply = (enum reply_mode)i;
            return 0;
        }
    }
    fprintf(stderr, "ceiling_fs: reply=%s: expected buf, copy, data or fd\n", r);
    return -1;
}

static void fill_pattern(char *p)
{
    /* Finite floats of mixed sign, so the bytes look like a tensor. */
    uint32_t x = 2463534242u;
    float *f = (float *)p;
    for (size_t i = 0; i < PATTERN_BYTES / sizeof(float); i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        f[i] = ((float)(int32_t)x) * 0x1p-31f;
    }
}

static struct fuse_loop_config *loop_config(const struct fuse_cmdline_opts *o)
{
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg) {
        fuse_loop_cfg_set_clone_fd(cfg, (unsigned)o->clone_fd);
        fuse_loop_cfg_set_idle_threads(cfg, o->max_idle_threads);
        /* libfuse leaves UINT_MAX here when -o max_threads is not given */
        if (o->max_threads <= 100000)
            fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
    }
    return cfg;
}

static int run_ll(struct fuse_args *args, const struct fuse_cmdline_opts *o)
{
    int rc = 1;
    struct fuse_session *se = fuse_session_new(args, &ll_ops, sizeof(ll_ops), &ceil_g);
    if (!se)
        return 1;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_destroy;
    if (fuse_session_mount(se, o->mountpoint) != 0)
        goto out_handlers;
    ceil_g.se = se;
    fuse_daemonize(o->foreground);
    if (o->singlethread) {
        rc = fuse_session_loop(se);
    } else {
        struct fuse_loop_config *cfg = loop_config(o);
        rc = cfg ? fuse_session_loop_mt(se, cfg) : 1;
        fuse_loop_cfg_destroy(cfg);
    }
    fuse_session_unmount(se);
    /* A store can wait on a page locked by a read no one answers now: a
     * pushing thread may never return, and it uses the session. */
    if (atomic_load(&ceil_g.pushers) != 0)
        _exit(rc ? 1 : 0);
out_handlers:
    fuse_remove_signal_handlers(se);
out_destroy:
    fuse_session_destroy(se);
    return rc ? 1 : 0;
}

static int run_hl(struct fuse_args *args, const struct fuse_cmdline_opts *o)
{
    int rc = 1;
    struct fuse *f = fuse_new(args, &hl_ops, sizeof(hl_ops), &ceil_g);
    if (!f)
        return 1;
    if (fuse_mount(f, o->mountpoint) != 0)
        goto out_destroy;
    if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
        goto out_unmount;
    fuse_daemonize(o->foreground);
    if (o->singlethread) {
        rc = fuse_loop(f);
    } else {
        struct fuse_loop_config *cfg = loop_config(o);
        rc = cfg ? fuse_loop_mt(f, cfg) : 1;
        fuse_loop_cfg_destroy(cfg);
    }
    fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
    fuse_unmount(f);
out_destroy:
    fuse_destroy(f);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct fuse_cmdline_opts o = {0};
    int rc = 1;

    if (fuse_opt_parse(&args, &ceil_g.opt, ceil_opts, ceil_proc) != 0 || ceil_g.error ||
        parse_reply(&ceil_g) != 0)
        goto out;
    ceil_g.conn_opts = fuse_parse_conn_info_opts(&args);
    if (!ceil_g.conn_opts || fuse_parse_cmdline(&args, &o) != 0)
        goto out;
    if (o.show_help || !o.mountpoint) {
        fprintf(stderr,
                "usage: %s MOUNTPOINT [options] NAME=PATH | NAME:SIZE | @LIST ...\n"
                "(options: see the comment atop bench/ceiling_fs.c)\n",
                argv[0]);
        rc = o.show_help ? 0 : 1;
        goto out;
    }
    ceil_g.mountpoint = o.mountpoint;
    ceil_g.pattern = malloc(PATTERN_BYTES);
    if (!ceil_g.pattern) {
        fprintf(stderr, "ceiling_fs: out of memory\n");
        goto out;
    }
    fill_pattern(ceil_g.pattern);
    rc = ceil_g.opt.hl ? run_hl(&args, &o) : run_ll(&args, &o);
    if (ceil_g.opt.stats) {
        uint64_t n = atomic_load(&ceil_g.n_reads), b = atomic_load(&ceil_g.read_bytes);
        fprintf(stderr,
                "ceiling_fs: reads=%" PRIu64 " asked_bytes=%" PRIu64
                " mean_kib=%.1f max_kib=%.1f\n",
                n, b, n ? b / 1024.0 / n : 0.0, atomic_load(&ceil_g.max_read_seen) / 1024.0);
    }
out:
    free(o.mountpoint);
    fuse_opt_free_args(&args);
    return rc;
}
