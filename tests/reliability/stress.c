/* stress.c - concurrent and odd reads of a mounted model, every byte checked.
 *
 * The expected FP32 image of every tensor is built in memory from the model
 * file itself, with gguf_open() and the scalar reference decoder
 * (dequant_blocks_scalar(), which the unit and conformance tests tie to
 * ggml), so a byte served by the mount is compared with a value computed
 * apart from the read path under test (SIMD, GPU, caches, FUSE).
 *
 *   stress run MODEL MNT     many readers at random offsets and lengths,
 *                            control-file readers, stat and readdir threads,
 *                            for GGUFFS_STRESS_SECONDS (default 20) with
 *                            GGUFFS_STRESS_THREADS readers (default 16);
 *                            GGUFFS_STRESS_SEED fixes the random choices.
 *   stress hold MODEL MNT S  readers with every tensor file held open, for S
 *                            seconds or until the mount fails under them;
 *                            errors end a reader, wrong bytes fail the run.
 *                            Used by the fault tests (signals, unmounts).
 *   stress verify MODEL MNT  read each tensor file whole, print one line
 *                            "ok|eio|mismatch|error:ERRNO NAME" per tensor.
 *   stress odd MODEL MNT     zero-length reads, reads past the end, and
 *                            1-byte reads at every position of small tensors.
 *   stress layout MODEL      print "OFFSET NBYTES NAME" per tensor (where its
 *                            data lies in the model file).
 *
 * Exit status: 0 when every byte matched and no unexpected error happened,
 * 1 otherwise, 2 on bad usage or when the model cannot be loaded. A watchdog
 * turns a read that never returns into a failure instead of a hang.
 */
#define _GNU_SOURCE
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_READ (1u << 20)        /* largest single read issued */
#define MAX_REFERENCE (1ull << 30) /* refuse models whose FP32 image is larger */
#define MAX_REPORTS 20             /* failures printed in full, per run */
#define CONTROL_MAX (64u << 20)    /* a control file larger than this is an error */

/* ------------------------------------------------------------------ model */

/* One tensor file of the mount and the bytes it must hold. */
struct tfile {
    const struct gguf_tensor *t;
    char *path;         /* MNT/<encoded name> */
    uint64_t size;      /* n_elements * 4 */
    unsigned char *ref; /* expected image, or NULL: the type cannot be decoded */
    uint64_t unit;      /* bytes of FP32 output per block (block boundaries) */
    int fd;             /* shared buffered descriptor */
    int dfd;            /* shared O_DIRECT descriptor, or -1 */
};

struct model {
    struct gguf_model *m;
    const char *mnt;
    char *control;
    size_t n;
    struct tfile *f;
    bool direct; /* O_DIRECT opens work on this mount */
};

/* Read `len` bytes of the model file at `off` into `buf`. 0 or -1. */
static int read_exact(int fd, void *buf, uint64_t len, uint64_t off)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t r = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (uint64_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Build f->ref from the raw bytes of the tensor; leaves it NULL for a type
 * that has no decoder. Returns 0, or -1 with a message. */
static int build_reference(const struct gguf_model *m, struct tfile *f)
{
    const struct gguf_tensor *t = f->t;
    const struct ggml_type_info *ti = ggml_type_find(t->type);
    f->size = t->n_elements * 4;
    f->unit = ti ? (uint64_t)ti->block_elems * 4 : 4;
    if (!ti || (t->type != GT_F32 && !dequant_supported(t->type)))
        return 0;
    unsigned char *raw = malloc(t->nbytes ? t->nbytes : 1);
    f->ref = malloc(f->size ? f->size : 1);
    if (!raw || !f->ref) {
        fprintf(stderr, "stress: out of memory for tensor '%s'\n", t->name);
        free(raw);
        return -1;
    }
    int rc = read_exact(m->fd, raw, t->nbytes, t->offset);
    if (rc == 0 && t->type == GT_F32)
        memcpy(f->ref, raw, f->size);
    else if (rc == 0)
        rc = dequant_blocks_scalar(t->type, raw, t->n_elements / ti->block_elems, (float *)f->ref);
    free(raw);
    if (rc != 0)
        fprintf(stderr, "stress: %s: cannot build the reference of '%s'\n", m->path, t->name);
    return rc;
}

/* Open the shared descriptors of one tensor file. O_DIRECT reads reach the
 * daemon with the caller's exact offset and length, which page-cache reads
 * never do; it is used when the mount accepts it. */
static int open_tfile(struct model *md, struct tfile *f)
{
    char enc[NAMES_ENCODED_MAX(GGUF_MAX_NAME)];
    if (names_encode(f->t->name, f->t->name_len, enc, sizeof enc) < 0 ||
        asprintf(&f->path, "%s/%s", md->mnt, enc) < 0) {
        fprintf(stderr, "stress: cannot encode the name '%s'\n", f->t->name);
        f->path = NULL;
        return -1;
    }
    f->fd = open(f->path, O_RDONLY);
    if (f->fd < 0) {
        fprintf(stderr, "stress: open %s: %s\n", f->path, strerror(errno));
        return -1;
    }
    f->dfd = open(f->path, O_RDONLY | O_DIRECT);
    if (f->dfd >= 0 && f->size > 0) {
        char b;
        if (pread(f->dfd, &b, 1, 0) < 0 && errno == EINVAL) {
            close(f->dfd);
            f->dfd = -1;
        }
    }
    if (f->dfd < 0)
        md->direct = false;
    return 0;
}

static void model_free(struct model *md)
{
    for (size_t i = 0; md->f && i < md->n; i++) {
        struct tfile *f = &md->f[i];
        if (f->fd >= 0)
            close(f->fd);
        if (f->dfd >= 0)
            close(f->dfd);
        free(f->path);
        free(f->ref);
    }
    free(md->f);
    free(md->control);
    gguf_close(md->m);
}

/* Load MODEL, build every reference image, open every tensor file. */
static int model_load(struct model *md, const char *path, const char *mnt)
{
    char err[512];
    memset(md, 0, sizeof *md);
    md->mnt = mnt;
    md->direct = true;
    if (gguf_open(path, &md->m, err, sizeof err) != 0) {
        fprintf(stderr, "stress: %s: %s\n", path, err);
        return -1;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < md->m->n_tensors; i++)
        total += md->m->tensors[i].n_elements * 4;
    if (total > MAX_REFERENCE) {
        fprintf(stderr, "stress: %s: FP32 image of %" PRIu64 " bytes is too large\n", path, total);
        return -1;
    }
    md->n = md->m->n_tensors;
    md->f = calloc(md->n ? md->n : 1, sizeof *md->f);
    if (!md->f || asprintf(&md->control, "%s/.control", mnt) < 0) {
        md->control = NULL;
        return -1;
    }
    for (size_t i = 0; i < md->n; i++) {
        md->f[i].t = &md->m->tensors[i];
        md->f[i].fd = md->f[i].dfd = -1;
    }
    for (size_t i = 0; i < md->n; i++)
        if (build_reference(md->m, &md->f[i]) != 0 || open_tfile(md, &md->f[i]) != 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------ run state */

struct stats {
    atomic_uint_fast64_t reads, bytes, control_reads, metas;
    atomic_uint_fast64_t mismatches, errors, expected_errors, reports;
    atomic_uint_fast64_t progress; /* bumped by every finished operation */
};

struct run {
    struct model *md;
    struct stats st;
    atomic_bool stop;
    struct timespec deadline;
    bool hold; /* errors end a reader instead of failing the run */
    uint64_t seed;
    size_t n_active; /* readers not yet ended by an error (hold) */
    pthread_mutex_t lock;
    int hold_errnos[8]; /* distinct errnos seen in hold mode */
};

struct worker {
    struct run *r;
    unsigned id;
    uint64_t rng;
    unsigned char *buf;
    char *ctl; /* control-file buffer, grown as needed */
    size_t ctl_cap;
};

static uint64_t rnd(struct worker *w)
{
    /* xorshift64*: per-thread state, no locking. */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(struct worker *w, uint64_t n)
{
    return n ? rnd(w) % n : 0;
}

static bool past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static bool stopping(struct run *r)
{
    return atomic_load(&r->stop) || past(&r->deadline);
}

/* Print a failure in full, up to MAX_REPORTS of them. */
static void report(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct run *r, const char *fmt, ...)
{
    if (atomic_fetch_add(&r->st.reports, 1) >= MAX_REPORTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&r->lock);
    fputs("stress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&r->lock);
    va_end(ap);
}

/* ------------------------------------------------------------ checking */

/* Check one pread of tensor file f at (off, len) that returned `got`
 * (errno in `err` when got < 0). Counts and reports; returns the errno of an
 * error (0 otherwise), which hold mode uses to end a reader. */
static int check_read(struct run *r, const struct tfile *f, const unsigned char *buf, uint64_t off,
                      uint64_t len, ssize_t got, int err, const char *how)
{
    uint64_t want = off >= f->size ? 0 : (len < f->size - off ? len : f->size - off);
    if (got < 0 && !f->ref && err == EIO) {
        atomic_fetch_add(&r->st.expected_errors, 1);
        return 0;
    }
    if (got < 0) {
        atomic_fetch_add(&r->st.errors, 1);
        if (!r->hold)
            report(r, "%s: %s read at %" PRIu64 " of %" PRIu64 " bytes: %s", f->path, how, off, len,
                   strerror(err));
        return err;
    }
    atomic_fetch_add(&r->st.reads, 1);
    if ((uint64_t)got != want || (!f->ref && want > 0)) {
        atomic_fetch_add(&r->st.mismatches, 1);
        report(r,
               "%s: %s read at %" PRIu64 " of %" PRIu64 " bytes returned %zd, expected %s%" PRIu64,
               f->path, how, off, len, got, f->ref ? "" : "EIO for an undecodable type, or ", want);
        return 0;
    }
    if (want > 0 && memcmp(buf, f->ref + off, want) != 0) {
        uint64_t i = 0;
        while (buf[i] == f->ref[off + i])
            i++;
        atomic_fetch_add(&r->st.mismatches, 1);
        report(r,
               "%s: %s read at %" PRIu64 " of %" PRIu64 " bytes: byte %" PRIu64
               " is 0x%02x, expected 0x%02x",
               f->path, how, off, len, off + i, buf[i], f->ref[off + i]);
        return 0;
    }
    atomic_fetch_add(&r->st.bytes, want);
    return 0;
}

/* pread that retries EINTR only. */
static ssize_t pread_once(int fd, void *buf, uint64_t len, uint64_t off, int *err)
{
    ssize_t got;
    do
        got = pread(fd, buf, len, (off_t)off);
    while (got < 0 && errno == EINTR);
    *err = got < 0 ? errno : 0;
    return got;
}

/* ------------------------------------------------------------ readers */

/* Pick an (offset, length) of one of the shapes that break read paths: single
 * bytes, odd sizes, block boundaries, the end of the file and beyond, large
 * reads. */
static void pick_range(struct worker *w, const struct tfile *f, uint64_t *off, uint64_t *len)
{
    uint64_t size = f->size, unit = f->unit, r;
    switch (rnd_below(w, 8)) {
    case 0: /* anywhere, up to 64 KiB */
        *off = rnd_below(w, size);
        *len = 1 + rnd_below(w, 65536);
        break;
    case 1: /* one byte */
        *off = rnd_below(w, size);
        *len = 1;
        break;
    case 2: /* odd offset, odd length */
        *off = rnd_below(w, size) | 1;
        *len = (1 + rnd_below(w, 999)) | 1;
        break;
    case 3: /* straddling a block boundary */
        r = 1 + rnd_below(w, unit);
        *off = (1 + rnd_below(w, size / unit + 1)) * unit;
        *off = *off > r ? *off - r : 0;
        *len = r + 1 + rnd_below(w, 2 * unit);
        break;
    case 4: /* past the end */
        *off = rnd_below(w, 4) ? size + rnd_below(w, 1u << 20) : (1ull << 40);
        *len = 1 + rnd_below(w, 4096);
        break;
    case 5: /* straddling the end */
        r = 1 + rnd_below(w, size < 8192 ? size : 8192);
        *off = size - (r < size ? r : size);
        *len = r + 1 + rnd_below(w, 4096);
        break;
    case 6: /* large */
        *off = rnd_below(w, size) & ~4095ull;
        *len = 65536 + rnd_below(w, MAX_READ - 65536);
        break;
    default: /* page-cache sized and aligned */
        *len = rnd_below(w, 2) ? 4096 : 131072;
        *off = rnd_below(w, size / *len + 1) * *len;
        break;
    }
}

/* One pread of a random range through the shared buffered or O_DIRECT
 * descriptor, or through a descriptor opened for this read alone. */
static int read_random(struct worker *w, struct tfile *f)
{
    struct run *r = w->r;
    uint64_t off, len;
    int err, fd, how = (int)rnd_below(w, 8);
    pick_range(w, f, &off, &len);
    if (how == 0 && !r->hold) { /* hold mode keeps to the descriptors held open */
        fd = open(f->path, O_RDONLY | (r->md->direct && rnd_below(w, 2) ? O_DIRECT : 0));
        if (fd < 0) {
            atomic_fetch_add(&r->st.errors, 1);
            if (!r->hold)
                report(r, "open %s: %s", f->path, strerror(errno));
            return errno;
        }
        ssize_t got = pread_once(fd, w->buf, len, off, &err);
        close(fd);
        return check_read(r, f, w->buf, off, len, got, err, "fresh-fd");
    }
    bool direct = f->dfd >= 0 && (r->hold || how <= 4);
    fd = direct ? f->dfd : f->fd;
    if (!direct && r->hold)
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); /* make the daemon answer */
    ssize_t got = pread_once(fd, w->buf, len, off, &err);
    return check_read(r, f, w->buf, off, len, got, err, direct ? "O_DIRECT" : "buffered");
}

/* Make room for `need` bytes in the worker's control-file buffer, which is
 * kept between reads (a fresh 64 MiB buffer per read would cost more than
 * the read). */
static char *control_room(struct worker *w, size_t need)
{
    if (need <= w->ctl_cap)
        return w->ctl;
    size_t cap = w->ctl_cap ? w->ctl_cap : 65536;
    while (cap < need)
        cap *= 2;
    char *p = realloc(w->ctl, cap);
    if (p) {
        w->ctl = p;
        w->ctl_cap = cap;
    }
    return p;
}

/* Read the whole control file through a new descriptor in chunks of random
 * size; it must be a non-empty table with a header row. */
static int read_control(struct worker *w)
{
    struct run *r = w->r;
    int fd = open(r->md->control, O_RDONLY);
    if (fd < 0) {
        atomic_fetch_add(&r->st.errors, 1);
        report(r, "open %s: %s", r->md->control, strerror(errno));
        return errno;
    }
    size_t have = 0;
    ssize_t got = 1;
    int err = 0;
    char *text = NULL;
    while (have < CONTROL_MAX && got > 0) {
        uint64_t chunk = 1 + rnd_below(w, 65536);
        if (chunk > CONTROL_MAX - have)
            chunk = CONTROL_MAX - have;
        if (!(text = control_room(w, have + chunk + 1)))
            break;
        got = pread_once(fd, text + have, chunk, have, &err);
        have += got > 0 ? (size_t)got : 0;
    }
    close(fd);
    if (!text || got < 0) {
        atomic_fetch_add(&r->st.errors, 1);
        report(r, "read %s: %s", r->md->control, text ? strerror(err) : "out of memory");
        return text ? err : ENOMEM;
    }
    text[have] = '\0';
    bool header = strncmp(text, "tensor\t", 7) == 0 || strstr(text, "\ntensor\t");
    if (!header || have == 0 || text[have - 1] != '\n') {
        atomic_fetch_add(&r->st.mismatches, 1);
        report(r, "%s: %zu bytes without a header row or final newline", r->md->control, have);
    }
    atomic_fetch_add(&r->st.control_reads, 1);
    return 0;
}

/* Note an errno that ended a reader in hold mode. */
static void hold_note(struct run *r, int err)
{
    pthread_mutex_lock(&r->lock);
    r->n_active--;
    for (size_t i = 0; i < sizeof r->hold_errnos / sizeof r->hold_errnos[0]; i++) {
        if (r->hold_errnos[i] == err)
            break;
        if (r->hold_errnos[i] == 0) {
            r->hold_errnos[i] = err;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static void *reader_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->r;
    struct model *md = r->md;
    while (!stopping(r) && md->n > 0) {
        uint64_t op = rnd_below(w, 32);
        int err = 0;
        if (op == 0 && !r->hold)
            err = read_control(w);
        else if (op == 1 && !r->hold)
            posix_fadvise(md->f[rnd_below(w, md->n)].fd, 0, 0, POSIX_FADV_DONTNEED);
        else
            err = read_random(w, &md->f[rnd_below(w, md->n)]);
        atomic_fetch_add(&r->st.progress, 1);
        if (err && r->hold) {
            hold_note(r, err);
            return NULL;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ metadata */

/* stat every tensor file and the control file: regular, right size. */
static void stat_all(struct run *r)
{
    struct model *md = r->md;
    struct stat st;
    for (size_t i = 0; i < md->n && !stopping(r); i++) {
        const struct tfile *f = &md->f[i];
        if (stat(f->path, &st) != 0) {
            atomic_fetch_add(&r->st.errors, 1);
            report(r, "stat %s: %s", f->path, strerror(errno));
        } else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size) {
            atomic_fetch_add(&r->st.mismatches, 1);
            report(r, "stat %s: mode 0%o size %jd, expected a regular file of %" PRIu64, f->path,
                   (unsigned)st.st_mode, (intmax_t)st.st_size, f->size);
        }
        atomic_fetch_add(&r->st.metas, 1);
        atomic_fetch_add(&r->st.progress, 1);
    }
    if (stat(md->control, &st) != 0 || !S_ISREG(st.st_mode)) {
        atomic_fetch_add(&r->st.errors, 1);
        report(r, "stat %s: not a regular file (%s)", md->control, strerror(errno));
    }
}

/* Is `name` the encoded name of a tensor of the model? */
static bool is_tensor_file(const struct model *md, const char *name)
{
    char dec[GGUF_MAX_NAME + 1];
    int n = names_decode(name, dec, sizeof dec);
    for (size_t i = 0; n >= 0 && i < md->n; i++)
        if (md->f[i].t->name_len == (size_t)n && memcmp(md->f[i].t->name, dec, (size_t)n) == 0)
            return true;
    return false;
}

/* The view directories every mount has beside the tensor files. */
static bool is_view_dir(const char *name)
{
    return strcmp(name, ".npy") == 0 || strcmp(name, ".safetensors") == 0 ||
           strcmp(name, ".meta") == 0;
}

/* List the root: exactly the tensor files, .control and the three view
 * directories, each once. */
static void list_root(struct run *r)
{
    struct model *md = r->md;
    DIR *d = opendir(md->mnt);
    if (!d) {
        atomic_fetch_add(&r->st.errors, 1);
        report(r, "opendir %s: %s", md->mnt, strerror(errno));
        return;
    }
    size_t tensors = 0, control = 0, views = 0, other = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strcmp(e->d_name, ".control") == 0)
            control++;
        else if (is_tensor_file(md, e->d_name))
            tensors++;
        else if (is_view_dir(e->d_name))
            views++;
        else if (other++ == 0)
            report(r, "readdir %s: unexpected entry '%s'", md->mnt, e->d_name);
    }
    if (errno != 0) {
        atomic_fetch_add(&r->st.errors, 1);
        report(r, "readdir %s: %s", md->mnt, strerror(errno));
    } else if (tensors != md->n || control != 1 || views != 3 || other != 0) {
        atomic_fetch_add(&r->st.mismatches, 1);
        report(r, "readdir %s: %zu tensor files (expected %zu), %zu .control, %zu others", md->mnt,
               tensors, md->n, control, other);
    }
    closedir(d);
    atomic_fetch_add(&r->st.metas, 1);
    atomic_fetch_add(&r->st.progress, 1);
}

static void *meta_main(void *arg)
{
    struct worker *w = arg;
    /* Attributes cached by the kernel make stat() a pure CPU loop: pause
     * between rounds so the readers keep the CPUs. */
    const struct timespec pause = {0, 2 * 1000 * 1000};
    while (!stopping(w->r)) {
        if (w->id % 2)
            list_root(w->r);
        else
            stat_all(w->r);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* ------------------------------------------------------------ run, hold */

#define HANG_SECONDS 60 /* no operation finishing for this long is a hang */

static unsigned env_unsigned(const char *name, unsigned dflt)
{
    const char *s = getenv(name);
    char *end;
    if (!s || !*s)
        return dflt;
    unsigned long v = strtoul(s, &end, 10);
    return *end == '\0' && v > 0 && v < 1000000 ? (unsigned)v : dflt;
}

/* Wait for the deadline (or, in hold mode, for every reader to end), failing
 * the run when no operation finishes for HANG_SECONDS. Returns 0, or -1 on a
 * hang. */
static int watch(struct run *r)
{
    uint64_t last = 0;
    unsigned still = 0;
    for (;;) {
        if (past(&r->deadline))
            return 0;
        pthread_mutex_lock(&r->lock);
        size_t active = r->n_active;
        pthread_mutex_unlock(&r->lock);
        if (r->hold && active == 0)
            return 0;
        sleep(1);
        uint64_t now = atomic_load(&r->st.progress);
        still = now == last ? still + 1 : 0;
        last = now;
        if (still >= HANG_SECONDS) {
            fprintf(stderr, "stress: no read finished for %d s: a read hangs\n", HANG_SECONDS);
            return -1;
        }
    }
}

/* Join every thread, giving them HANG_SECONDS past the deadline. */
static int join_all(pthread_t *tid, size_t n)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += HANG_SECONDS;
    for (size_t i = 0; i < n; i++) {
        if (pthread_timedjoin_np(tid[i], NULL, &t) != 0) {
            fprintf(stderr, "stress: a thread did not return within %d s of the end: hang\n",
                    HANG_SECONDS);
            return -1;
        }
    }
    return 0;
}

static void errno_list(struct run *r, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 8 && r->hold_errnos[i] && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
                              strerrorname_np(r->hold_errnos[i]));
}

static void print_summary(struct run *r, unsigned readers, unsigned metas, double secs)
{
    struct stats *st = &r->st;
    printf("threads: %u readers + %u stat/readdir\n", readers, metas);
    printf("duration: %.1f s (seed %" PRIu64 ", O_DIRECT %s)\n", secs, r->seed,
           r->md->direct ? "used" : "refused by the mount");
    printf("reads: %" PRIu64 " tensor reads, %" PRIu64 " control-file reads, %" PRIu64
           " stat/readdir\n",
           (uint64_t)st->reads, (uint64_t)st->control_reads, (uint64_t)st->metas);
    printf("bytes checked: %" PRIu64 "\n", (uint64_t)st->bytes);
    printf("mismatches: %" PRIu64 "\n", (uint64_t)st->mismatches);
    printf("errors: %" PRIu64 " unexpected, %" PRIu64 " expected (EIO, undecodable type)\n",
           r->hold ? 0 : (uint64_t)st->errors, (uint64_t)st->expected_errors);
    if (r->hold) {
        char buf[256];
        errno_list(r, buf, sizeof buf);
        printf("readers ended by an error: %zu (%s)\n", readers - r->n_active,
               buf[0] ? buf : "none");
    }
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Start `readers` readers and `metas` metadata threads for `seconds`. */
static int run_threads(struct run *r, unsigned readers, unsigned metas, unsigned seconds)
{
    unsigned n = readers + metas;
    pthread_t *tid = calloc(n, sizeof *tid);
    struct worker *w = calloc(n, sizeof *w);
    struct timespec t0;
    unsigned started = 0;
    int rc = -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r->deadline = t0;
    r->deadline.tv_sec += seconds;
    r->n_active = readers;
    for (; tid && w && started < n; started++) {
        w[started] = (struct worker){r,    started, r->seed + 0x9E3779B97F4A7C15ull * (started + 1),
                                     NULL, NULL,    0};
        w[started].buf = started < readers ? malloc(MAX_READ) : NULL;
        if ((started < readers && !w[started].buf) ||
            pthread_create(&tid[started], NULL, started < readers ? reader_main : meta_main,
                           &w[started]) != 0)
            break;
    }
    if (started == n && watch(r) == 0) {
        atomic_store(&r->stop, true);
        rc = join_all(tid, n);
    }
    if (rc != 0) {
        if (started != n)
            fprintf(stderr, "stress: cannot start %u threads\n", n);
        fflush(NULL);
        _exit(1); /* threads may be stuck in the kernel: do not wait for them */
    }
    print_summary(r, readers, metas, elapsed(&t0));
    for (unsigned i = 0; i < n; i++) {
        free(w[i].buf);
        free(w[i].ctl);
    }
    free(w);
    free(tid);
    uint64_t bad = r->st.mismatches + (r->hold ? 0 : r->st.errors);
    return bad ? 1 : 0;
}

/* ------------------------------------------------------------ verify */

/* Read tensor file f whole through a new descriptor, its page cache dropped
 * first. Returns "ok", "eio", "mismatch" or "error:ERRNO". */
static const char *verify_one(const struct tfile *f, unsigned char *buf)
{
    static __thread char errbuf[64];
    int fd = open(f->path, O_RDONLY), err = 0;
    ssize_t got = 0;
    if (fd >= 0)
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    uint64_t off = 0;
    bool same = true;
    while (fd >= 0 && (got = pread_once(fd, buf, MAX_READ, off, &err)) > 0) {
        uint64_t n = (uint64_t)got;
        if (!f->ref || off + n > f->size || memcmp(buf, f->ref + off, n) != 0)
            same = false;
        off += n;
    }
    if (fd < 0)
        err = errno;
    else
        close(fd);
    if (fd >= 0 && got == 0)
        return same && off == f->size ? "ok" : "mismatch";
    if (err == EIO)
        return "eio";
    snprintf(errbuf, sizeof errbuf, "error:%s", strerrorname_np(err) ? strerrorname_np(err) : "?");
    return errbuf;
}

static int cmd_verify(struct model *md)
{
    unsigned char *buf = malloc(MAX_READ);
    int bad = 0;
    if (!buf)
        return 1;
    for (size_t i = 0; i < md->n; i++) {
        const char *res = verify_one(&md->f[i], buf);
        bool expected = strcmp(res, "ok") == 0 || (!md->f[i].ref && strcmp(res, "eio") == 0);
        bad |= !expected;
        printf("%s %s\n", res, md->f[i].t->name);
    }
    free(buf);
    return bad;
}

/* ------------------------------------------------------------ odd reads */

struct odd {
    unsigned checks, failures;
};

static void odd_expect(struct odd *o, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void odd_expect(struct odd *o, bool ok, const char *fmt, ...)
{
    o->checks++;
    if (ok)
        return;
    if (o->failures++ < MAX_REPORTS) {
        va_list ap;
        va_start(ap, fmt);
        fputs("stress: odd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

/* Zero-length reads anywhere and reads past the end return 0 bytes. */
static void odd_bounds(struct odd *o, const char *path, int fd, uint64_t size)
{
    static const uint64_t past[] = {0, 1, 4095, 4096, 1ull << 20, 1ull << 40, 1ull << 62};
    const uint64_t zero_at[] = {0, 1, size / 2, size ? size - 1 : 0, size, size + 1, 1ull << 40};
    char buf[8192];
    int err;
    for (size_t i = 0; i < sizeof zero_at / sizeof zero_at[0]; i++) {
        ssize_t got = pread_once(fd, buf, 0, zero_at[i], &err);
        odd_expect(o, got == 0, "%s: 0-byte read at %" PRIu64 " returned %zd (%s)", path,
                   zero_at[i], got, got < 0 ? strerror(err) : "");
    }
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        ssize_t got = pread_once(fd, buf, sizeof buf, size + past[i], &err);
        odd_expect(o, got == 0, "%s: read at %" PRIu64 " (past the end) returned %zd (%s)", path,
                   size + past[i], got, got < 0 ? strerror(err) : "");
    }
    if (lseek(fd, 0, SEEK_END) == (off_t)size) {
        ssize_t got = read(fd, buf, sizeof buf);
        odd_expect(o, got == 0, "%s: read(2) at the end returned %zd", path, got);
    }
}

/* Whole read, then 1-byte reads at every position through `fd`, all equal to
 * `want` (size bytes). */
static void odd_bytes(struct odd *o, const char *path, int fd, const unsigned char *want,
                      uint64_t size, const char *how)
{
    unsigned char *whole = malloc(size + 4096);
    int err;
    if (!whole) {
        odd_expect(o, false, "out of memory");
        return;
    }
    ssize_t got = pread_once(fd, whole, size + 4096, 0, &err);
    odd_expect(o, got == (ssize_t)size && memcmp(whole, want, size) == 0,
               "%s: %s whole read returned %zd of %" PRIu64 " bytes, or wrong bytes", path, how,
               got, size);
    unsigned bad = 0;
    for (uint64_t p = 0; p < size; p++) {
        unsigned char b;
        got = pread_once(fd, &b, 1, p, &err);
        if (got != 1 || b != want[p]) {
            if (bad++ == 0)
                odd_expect(o, false, "%s: %s 1-byte read at %" PRIu64 " returned %zd (%s)", path,
                           how, p, got, got == 1 ? "wrong byte" : strerror(err));
        }
    }
    odd_expect(o, bad == 0, "%s: %s: %u of %" PRIu64 " single bytes wrong", path, how, bad, size);
    free(whole);
}

/* Open path with `flags`, run the bound and byte checks, close. */
static void odd_file(struct odd *o, const char *path, int flags, const unsigned char *want,
                     uint64_t size, const char *how)
{
    int fd = open(path, O_RDONLY | flags);
    if (fd < 0) {
        odd_expect(o, false, "open %s (%s): %s", path, how, strerror(errno));
        return;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (want)
        odd_bytes(o, path, fd, want, size, how);
    odd_bounds(o, path, fd, size);
    close(fd);
}

/* The control file: one descriptor's snapshot read whole equals the same
 * descriptor read one byte at a time (up to 64 KiB). */
static void odd_control(struct odd *o, const char *path)
{
    int fd = open(path, O_RDONLY), err;
    unsigned char *text = malloc(CONTROL_MAX);
    ssize_t got = -1;
    if (fd >= 0 && text)
        got = pread_once(fd, text, CONTROL_MAX, 0, &err);
    odd_expect(o, got > 0, "%s: whole read returned %zd", path, got);
    uint64_t n = got > 0 ? (uint64_t)got : 0, bad = 0;
    for (uint64_t p = 0; p < n && p < 65536; p++) {
        unsigned char b;
        if (pread_once(fd, &b, 1, p, &err) != 1 || b != text[p])
            bad++;
    }
    odd_expect(o, bad == 0, "%s: %" PRIu64 " single-byte reads differ from the whole read", path,
               bad);
    if (fd >= 0) {
        odd_bounds(o, path, fd, n);
        close(fd);
    }
    free(text);
}

/* The up to `k` smallest decodable tensors of distinct types, and every
 * undecodable one. */
static int cmd_odd(struct model *md)
{
    struct odd o = {0, 0};
    uint32_t done_types[8];
    size_t k = 0;
    while (k < 3) {
        const struct tfile *best = NULL;
        for (size_t i = 0; i < md->n; i++) {
            const struct tfile *f = &md->f[i];
            bool seen = false;
            for (size_t j = 0; j < k; j++)
                seen |= done_types[j] == f->t->type;
            if (f->ref && !seen && f->size <= 65536 && (!best || f->size < best->size))
                best = f;
        }
        if (!best)
            break;
        done_types[k++] = best->t->type;
        odd_file(&o, best->path, 0, best->ref, best->size, "buffered");
        if (md->direct)
            odd_file(&o, best->path, O_DIRECT, best->ref, best->size, "O_DIRECT");
        printf("odd: %s (%s, %" PRIu64 " bytes): whole, every single byte, 0-byte and "
               "past-the-end reads\n",
               best->path, ggml_type_name(best->t->type, (char[16]){0}), best->size);
    }
    odd_expect(&o, k > 0, "no decodable tensor of at most 64 KiB in the model");
    odd_control(&o, md->control);
    printf("odd: %u checks, %u failures\n", o.checks, o.failures);
    return o.failures ? 1 : 0;
}

/* ------------------------------------------------------------ main */

static int usage(void)
{
    fputs("usage: stress run MODEL MNT | hold MODEL MNT SECONDS | verify MODEL MNT |"
          " odd MODEL MNT | layout MODEL\n",
          stderr);
    return 2;
}

static int cmd_layout(const char *path)
{
    struct gguf_model *m;
    char err[512];
    if (gguf_open(path, &m, err, sizeof err) != 0) {
        fprintf(stderr, "stress: %s: %s\n", path, err);
        return 2;
    }
    for (uint64_t i = 0; i < m->n_tensors; i++)
        printf("%" PRIu64 " %" PRIu64 " %s\n", m->tensors[i].offset, m->tensors[i].nbytes,
               m->tensors[i].name);
    gguf_close(m);
    return 0;
}

static int cmd_run(struct model *md, bool hold, unsigned seconds)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.md = md;
    r.hold = hold;
    r.seed = env_unsigned("GGUFFS_STRESS_SEED", (unsigned)time(NULL));
    pthread_mutex_init(&r.lock, NULL);
    unsigned readers = env_unsigned("GGUFFS_STRESS_THREADS", hold ? 4 : 16);
    int rc = run_threads(&r, readers, hold ? 0 : 2, seconds);
    pthread_mutex_destroy(&r.lock);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "layout") == 0)
        return cmd_layout(argv[2]);
    if (argc < 4)
        return usage();
    const char *cmd = argv[1];
    bool hold = strcmp(cmd, "hold") == 0;
    if (hold != (argc == 5) ||
        (!hold && strcmp(cmd, "run") && strcmp(cmd, "verify") && strcmp(cmd, "odd")))
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct model md;
    if (model_load(&md, argv[2], argv[3]) != 0) {
        model_free(&md);
        return 2;
    }
    int rc;
    if (strcmp(cmd, "verify") == 0)
        rc = cmd_verify(&md);
    else if (strcmp(cmd, "odd") == 0)
        rc = cmd_odd(&md);
    else
        rc = cmd_run(&md, hold,
                     hold ? (unsigned)atoi(argv[4]) : env_unsigned("GGUFFS_STRESS_SECONDS", 20));
    model_free(&md);
    return rc;
}
