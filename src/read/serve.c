/* serve.c - the read path: bytes of a tensor file, as FP32. See serve.h.
 *
 * Three ways to answer a read of [off, off + len) of tensor t:
 *
 *   passthrough  F32 bytes are the file's bytes: one pread into the reply.
 *   cpu          the raw blocks covering the range are preaded into a
 *                thread-local buffer and decoded straight into the reply;
 *                reads of 1 MiB and more are split across the workers pool.
 *   gpu          Q4_0 only. The tensor is cut into windows of window_elems
 *                elements (8 MiB of FP32 by default). A window is decoded
 *                whole by gpu_q4_0() into host memory from gpu_host_alloc()
 *                and kept in an LRU cache. Kernel page-cache reads arrive as
 *                128 KiB requests, so one window serves dozens of reads for
 *                one PCIe round trip, and serve_read_ref() hands the caller
 *                a pointer into the window rather than a copy: the reply is
 *                then the only copy of the bytes. A reader that needs a
 *                window another thread is decoding waits for it rather than
 *                decoding it twice. A read that looks sequential (the window
 *                before it is cached) has the next ra_depth windows decoded
 *                in the background, so the reader rarely waits for the GPU.
 *
 * The cache is bounded by cache_bytes less the resident memory the GPU
 * runtime added when it started (libraries, driver mappings: 100-155 MiB
 * for CUDA), so the daemon's footprint stays near cache_bytes, not above it.
 *
 * Any GPU failure falls back to the CPU for that read and is recorded with
 * its reason. A failure that leaves the GPU unusable (gpu_ready() false)
 * switches the GPU off for the life of the mount, so reads do not pay for a
 * doomed attempt each time.
 *
 * The model file is only ever preaded. After each read the file is fstat'ed:
 * a size or mtime different from the one at mount time fails the read with
 * EIO and says why in the control file, as does a short pread.
 */
#include "read/serve.h"

#include "read/control.h"
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "gpu/gpu.h"
#include "read/knob.h"
#include "read/workers.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define WINDOW_MAX_BYTES (8u * MiB)
#define WINDOW_MIN_BYTES (128u * 1024u)
#define CPU_PASS_BYTES (4u * MiB)         /* bounds the per-thread scratch */
#define PARALLEL_MIN_ELEMS (256u * 1024u) /* 1 MiB of FP32: below, one thread */
#define PARALLEL_GRAIN_ELEMS (64u * 1024u)
#define STAGE_KEEP 4 /* pinned staging buffers kept for reuse */
#define RA_WINDOWS 3 /* windows decoded ahead, when the budget allows */
#define WHY_LEN 256

/* ----------------------------------------------------------------------
 * Decoded windows (GPU path)
 * ---------------------------------------------------------------------- */

enum window_state { WIN_DECODING, WIN_READY };

/* One decoded window of one tensor. Lives on the LRU list (most recently
 * used at head) from the moment a thread starts decoding it; other readers
 * find it there and wait on serve.cond until it is READY or gone. `refs`
 * counts readers copying out of it: a window with refs is never evicted. */
struct window {
    struct window *prev, *next;
    uint64_t t, k;
    float *data; /* window_bytes of host memory */
    bool pinned;
    enum window_state state;
    unsigned refs;
    unsigned path; /* PATH_GPU_HIP or PATH_GPU_CUDA */
};

struct buffer {
    void *p;
    bool pinned;
};

struct serve {
    const struct gguf_model *m;
    struct gpu *g;
    struct control *c;
    struct workers *w; /* NULL: decode on the calling thread only */
    unsigned threads;
    size_t cache_bytes; /* the limit asked for */
    size_t window_bytes;
    uint64_t window_elems;
    size_t stage_bytes; /* raw Q4_0 bytes of one window */
    pthread_key_t scratch_key;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* a window left DECODING */
    size_t budget;        /* window bytes allowed: cache_bytes less the runtime's */
    unsigned ra_want;     /* windows to decode ahead (GGUFFS_GPU_AHEAD) */
    unsigned ra_depth;    /* ... as many as the budget allows */
    struct window *head, *tail;
    size_t n_windows;
    size_t held_bytes; /* window buffers allocated, listed or spare */
    struct buffer spare[STAGE_KEEP];
    unsigned n_spare;
    struct buffer stage[STAGE_KEEP];
    unsigned n_stage;
    bool gpu_off;
    char gpu_why[WHY_LEN];
    atomic_bool gpu_probed; /* outside the lock */
    uint64_t hits, misses, readaheads;

    /* Read-ahead: one background thread decoding windows [ra_next, ra_end)
     * of tensor ra_t, in order. */
    pthread_t ra_thread;
    bool ra_started, ra_quit;
    pthread_cond_t ra_cond;
    uint64_t ra_t, ra_next, ra_end;
};

/* ----------------------------------------------------------------------
 * Helpers: messages, the model file
 * ---------------------------------------------------------------------- */

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* Has the model file changed since it was opened? Writes the reason. */
static bool model_changed(const struct serve *s, char *why, size_t whylen)
{
    struct stat st;
    const struct stat *st0 = &s->m->st;

    if (fstat(s->m->fd, &st) != 0) {
        say(why, whylen, "cannot stat the model file: %s", strerror(errno));
        return true;
    }
    if (st.st_size != st0->st_size) {
        say(why, whylen, "model file changed while mounted (size %jd -> %jd)",
            (intmax_t)st0->st_size, (intmax_t)st.st_size);
        return true;
    }
    if (st.st_mtim.tv_sec != st0->st_mtim.tv_sec || st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec) {
        say(why, whylen, "model file changed while mounted (mtime %jd.%09ld -> %jd.%09ld)",
            (intmax_t)st0->st_mtim.tv_sec, st0->st_mtim.tv_nsec, (intmax_t)st.st_mtim.tv_sec,
            st.st_mtim.tv_nsec);
        return true;
    }
    return false;
}

/* pread exactly `len` bytes at `off`. Returns 0, or -1 with the reason. */
static int read_model(const struct serve *s, void *buf, size_t len, uint64_t off, char *why,
                      size_t whylen)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(s->m->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            say(why, whylen, "read error at byte %" PRIu64 " of the model file: %s", off + done,
                strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (!model_changed(s, why, whylen))
                say(why, whylen, "model file ends early: %zu of %zu bytes read at byte %" PRIu64,
                    done, len, off);
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* ----------------------------------------------------------------------
 * Thread-local scratch: raw blocks and unaligned output
 * ---------------------------------------------------------------------- */

struct scratch {
    void *raw, *out;
    size_t raw_cap, out_cap;
};

static void scratch_free(void *p)
{
    struct scratch *sc = p;
    if (sc == NULL)
        return;
    free(sc->raw);
    free(sc->out);
    free(sc);
}

/* Grow *buf to at least `len` bytes; NULL when out of memory. */
static void *scratch_grow(void **buf, size_t *cap, size_t len)
{
    if (*cap >= len)
        return *buf;
    void *nb = malloc(len);
    if (nb == NULL)
        return NULL;
    free(*buf);
    *buf = nb;
    *cap = len;
    return nb;
}

static struct scratch *scratch_get(struct serve *s)
{
    struct scratch *sc = pthread_getspecific(s->scratch_key);
    if (sc != NULL)
        return sc;
    sc = calloc(1, sizeof(*sc));
    if (sc != NULL && pthread_setspecific(s->scratch_key, sc) != 0) {
        free(sc);
        sc = NULL;
    }
    return sc;
}

/* ----------------------------------------------------------------------
 * CPU decoding
 * ---------------------------------------------------------------------- */

struct cpu_job {
    uint32_t type;
    const void *raw; /* first block */
    uint64_t first;  /* element of raw's first block where output starts */
    float *dst;
    atomic_int failed;
};

static void cpu_job_run(void *ctx, size_t begin, size_t end)
{
    struct cpu_job *j = ctx;
    if (dequant_range(j->type, j->raw, j->first + begin, end - begin, j->dst + begin) != 0)
        atomic_store(&j->failed, 1);
}

/* Decode elements [e0, e0 + ne) of tensor t into dst. */
static int cpu_decode(struct serve *s, const struct gguf_tensor *t, const struct ggml_type_info *ti,
                      uint64_t e0, uint64_t ne, float *dst, char *why, size_t whylen)
{
    uint64_t be = ti->block_elems, bb = ti->block_bytes;
    uint64_t b0 = e0 / be, b1 = (e0 + ne + be - 1) / be;
    size_t raw_len = (size_t)((b1 - b0) * bb);
    struct scratch *sc = scratch_get(s);

    if (b1 * bb > t->nbytes) {
        say(why, whylen, "tensor data ends at block %" PRIu64 " of %" PRIu64, t->nbytes / bb, b1);
        return -EIO;
    }
    void *raw = sc ? scratch_grow(&sc->raw, &sc->raw_cap, raw_len) : NULL;
    if (raw == NULL) {
        say(why, whylen, "out of memory for %zu bytes of raw blocks", raw_len);
        return -ENOMEM;
    }
    if (read_model(s, raw, raw_len, t->offset + b0 * bb, why, whylen) != 0)
        return -EIO;

    struct cpu_job job = {.type = t->type, .raw = raw, .first = e0 - b0 * be, .dst = dst};
    atomic_init(&job.failed, 0);
    if (s->w != NULL && ne >= PARALLEL_MIN_ELEMS)
        workers_run(s->w, (size_t)ne, PARALLEL_GRAIN_ELEMS, cpu_job_run, &job);
    else
        cpu_job_run(&job, 0, (size_t)ne);
    if (atomic_load(&job.failed)) {
        char tb[16];
        say(why, whylen, "type %s has no FP32 decoder", ggml_type_name(t->type, tb));
        return -EIO;
    }
    return 0;
}

/* Serve bytes [off, off + len) of t's FP32 image on the CPU, in passes of
 * CPU_PASS_BYTES. Whole, aligned elements are decoded straight into buf;
 * anything else goes through the scratch buffer. */
static int cpu_read(struct serve *s, const struct gguf_tensor *t, const struct ggml_type_info *ti,
                    char *buf, size_t len, uint64_t off, char *why, size_t whylen)
{
    while (len > 0) {
        size_t n = len < CPU_PASS_BYTES ? len : CPU_PASS_BYTES;
        uint64_t e0 = off / 4, e1 = (off + n + 3) / 4;
        int rc;

        if (off % 4 == 0 && n % 4 == 0 && (uintptr_t)buf % sizeof(float) == 0) {
            rc = cpu_decode(s, t, ti, e0, e1 - e0, (float *)buf, why, whylen);
        } else {
            struct scratch *sc = scratch_get(s);
            float *tmp = sc ? scratch_grow(&sc->out, &sc->out_cap, (e1 - e0) * 4) : NULL;
            if (tmp == NULL) {
                say(why, whylen, "out of memory for %zu bytes of output", (size_t)(e1 - e0) * 4);
                return -ENOMEM;
            }
            rc = cpu_decode(s, t, ti, e0, e1 - e0, tmp, why, whylen);
            if (rc == 0)
                memcpy(buf, (char *)tmp + off % 4, n);
        }
        if (rc != 0)
            return rc;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* ----------------------------------------------------------------------
 * Window cache (GPU path). All list functions need serve.lock held.
 * ---------------------------------------------------------------------- */

static void lru_unlink(struct serve *s, struct window *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
    w->prev = w->next = NULL;
    s->n_windows--;
}

static void lru_push(struct serve *s, struct window *w)
{
    w->prev = NULL;
    w->next = s->head;
    if (s->head)
        s->head->prev = w;
    s->head = w;
    if (s->tail == NULL)
        s->tail = w;
    s->n_windows++;
}

static struct window *lru_find(struct serve *s, uint64_t t, uint64_t k)
{
    for (struct window *w = s->head; w; w = w->next)
        if (w->t == t && w->k == k)
            return w;
    return NULL;
}

/* The least recently used window nobody is using, or NULL. */
static struct window *lru_victim(struct serve *s)
{
    for (struct window *w = s->tail; w; w = w->prev)
        if (w->state == WIN_READY && w->refs == 0)
            return w;
    return NULL;
}

/* A buffer for a new window: a spare, a fresh allocation while under the
 * budget (returns p == NULL: the caller allocates outside the lock), or the
 * buffer of the least recently used idle window. Over the budget with every
 * window busy, it allocates anyway; window_put() trims afterwards. */
static struct buffer buffer_take(struct serve *s)
{
    struct buffer b = {0};
    struct window *v;

    if (s->n_spare > 0)
        return s->spare[--s->n_spare];
    if (s->held_bytes + s->window_bytes > s->budget && (v = lru_victim(s)) != NULL) {
        lru_unlink(s, v);
        b.p = v->data;
        b.pinned = v->pinned;
        free(v);
        return b;
    }
    s->held_bytes += s->window_bytes;
    return b;
}

/* Give a window buffer back: kept as a spare, or freed when over budget. */
static void buffer_give(struct serve *s, struct buffer b)
{
    if (b.p == NULL) {
        s->held_bytes -= s->window_bytes;
        return;
    }
    if (s->held_bytes <= s->budget && s->n_spare < STAGE_KEEP) {
        s->spare[s->n_spare++] = b;
        return;
    }
    gpu_host_free(s->g, b.p, s->window_bytes, b.pinned);
    s->held_bytes -= s->window_bytes;
}

/* Free idle windows until the cache is back under its budget. */
static void cache_trim(struct serve *s)
{
    struct window *v;

    while (s->held_bytes > s->budget && s->n_spare > 0) {
        struct buffer b = s->spare[--s->n_spare];
        gpu_host_free(s->g, b.p, s->window_bytes, b.pinned);
        s->held_bytes -= s->window_bytes;
    }
    while (s->held_bytes > s->budget && (v = lru_victim(s)) != NULL) {
        lru_unlink(s, v);
        gpu_host_free(s->g, v->data, s->window_bytes, v->pinned);
        s->held_bytes -= s->window_bytes;
        free(v);
    }
}

static struct buffer stage_take(struct serve *s)
{
    struct buffer b = {0};
    pthread_mutex_lock(&s->lock);
    if (s->n_stage > 0)
        b = s->stage[--s->n_stage];
    pthread_mutex_unlock(&s->lock);
    if (b.p == NULL)
        b.p = gpu_host_alloc(s->g, s->stage_bytes, &b.pinned);
    return b;
}

static void stage_give(struct serve *s, struct buffer b)
{
    pthread_mutex_lock(&s->lock);
    if (s->n_stage < STAGE_KEEP) {
        s->stage[s->n_stage++] = b;
        b.p = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (b.p != NULL)
        gpu_host_free(s->g, b.p, s->stage_bytes, b.pinned);
}

/* Decode window k of tensor t into dst. Returns 0; -1 for a GPU failure
 * (fall back; why may be "" for backend cpu); -EIO or -ENOMEM otherwise. */
static int window_decode(struct serve *s, uint64_t t, uint64_t k, float *dst, unsigned *path,
                         char *why, size_t whylen)
{
    const struct gguf_tensor *ten = &s->m->tensors[t];
    uint64_t e0 = k * s->window_elems;
    uint64_t ne = ten->n_elements - e0 < s->window_elems ? ten->n_elements - e0 : s->window_elems;
    uint64_t nblocks = (ne + 31) / 32;
    uint64_t raw_off = (e0 / 32) * 18;
    const char *gpath = NULL;

    if (raw_off + nblocks * 18 > ten->nbytes) {
        say(why, whylen, "tensor data ends at block %" PRIu64 " of %" PRIu64, ten->nbytes / 18,
            e0 / 32 + nblocks);
        return -EIO;
    }
    struct buffer st = stage_take(s);
    if (st.p == NULL) {
        say(why, whylen, "out of memory for a %zu-byte staging buffer", s->stage_bytes);
        return -ENOMEM;
    }
    int rc = read_model(s, st.p, (size_t)(nblocks * 18), ten->offset + raw_off, why, whylen);
    if (rc != 0) {
        stage_give(s, st);
        return -EIO;
    }
    why[0] = '\0';
    rc = gpu_q4_0(s->g, st.p, nblocks, dst, &gpath, why, whylen);
    stage_give(s, st);
    if (rc != 0)
        return -1;
    *path = gpath && strcmp(gpath, "gpu-hip") == 0 ? PATH_GPU_HIP : PATH_GPU_CUDA;
    return 0;
}

/* Remember a GPU failure that will not heal, so later reads skip the GPU. */
static void gpu_failed(struct serve *s, const char *why)
{
    if (why[0] != '\0' && gpu_ready(s->g))
        return; /* the runtime is up: this one may be transient */
    pthread_mutex_lock(&s->lock);
    if (!s->gpu_off) {
        snprintf(s->gpu_why, sizeof(s->gpu_why), "%s", why);
        s->gpu_off = true;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Window (t, k), decoded and referenced, or NULL with *err: -1 means fall
 * back to the CPU (why set, "" for backend cpu), else a -errno. */
static struct window *window_get(struct serve *s, uint64_t t, uint64_t k, bool *missed, int *err,
                                 char *why, size_t whylen)
{
    struct window *w;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->gpu_off) {
            snprintf(why, whylen, "%s", s->gpu_why);
            pthread_mutex_unlock(&s->lock);
            *err = -1;
            return NULL;
        }
        w = lru_find(s, t, k);
        if (w == NULL)
            break;
        if (w->state == WIN_READY) {
            w->refs++;
            lru_unlink(s, w);
            lru_push(s, w);
            s->hits++;
            *missed = false;
            pthread_mutex_unlock(&s->lock);
            return w;
        }
        pthread_cond_wait(&s->cond, &s->lock);
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        pthread_mutex_unlock(&s->lock);
        say(why, whylen, "out of memory for a window record");
        *err = -ENOMEM;
        return NULL;
    }
    w->t = t;
    w->k = k;
    w->state = WIN_DECODING;
    w->refs = 1;
    lru_push(s, w);
    s->misses++;
    *missed = true;
    struct buffer b = buffer_take(s);
    pthread_mutex_unlock(&s->lock);

    if (b.p == NULL)
        b.p = gpu_host_alloc(s->g, s->window_bytes, &b.pinned);
    int rc = -ENOMEM;
    if (b.p == NULL)
        say(why, whylen, "out of memory for a %zu-byte window", s->window_bytes);
    else
        rc = window_decode(s, t, k, b.p, &w->path, why, whylen);

    pthread_mutex_lock(&s->lock);
    if (rc == 0) {
        w->data = b.p;
        w->pinned = b.pinned;
        w->state = WIN_READY;
    } else {
        lru_unlink(s, w);
        buffer_give(s, b);
        free(w);
        w = NULL;
        *err = rc;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (rc == -1)
        gpu_failed(s, why);
    if (rc == -ENOMEM)
        *err = -1; /* short of (pinned) memory: the CPU can still serve */
    return w;
}

static void window_put(struct serve *s, struct window *w)
{
    pthread_mutex_lock(&s->lock);
    w->refs--;
    if (s->held_bytes > s->budget)
        cache_trim(s);
    pthread_mutex_unlock(&s->lock);
}

/* ----------------------------------------------------------------------
 * Read-ahead: decode the windows after the one a sequential reader is in.
 * ---------------------------------------------------------------------- */

static void *ra_main(void *arg)
{
    struct serve *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->ra_next >= s->ra_end && !s->ra_quit)
            pthread_cond_wait(&s->ra_cond, &s->lock);
        if (s->ra_quit)
            break;
        uint64_t t = s->ra_t, k = s->ra_next++;
        bool cached = lru_find(s, t, k) != NULL || s->gpu_off;
        if (!cached)
            s->readaheads++;
        pthread_mutex_unlock(&s->lock);
        if (!cached) {
            char why[WHY_LEN];
            bool missed;
            int err;
            struct window *w = window_get(s, t, k, &missed, &err, why, sizeof(why));
            if (w != NULL)
                window_put(s, w);
        }
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* A read was served from window k of tensor t (of nwin windows). If it looks
 * sequential (the window before is cached, or this is the first), have the
 * next ra_depth windows decoded in the background. A request for another
 * tensor replaces one not yet done. Needs serve.lock. */
static void ra_consider(struct serve *s, uint64_t t, uint64_t k, uint64_t nwin)
{
    uint64_t end = k + 1 + s->ra_depth < nwin ? k + 1 + s->ra_depth : nwin;

    if (end <= k + 1 || (t == s->ra_t && end <= s->ra_end))
        return;
    if (k > 0 && lru_find(s, t, k - 1) == NULL)
        return;
    if (!s->ra_started) {
        s->ra_started = pthread_create(&s->ra_thread, NULL, ra_main, s) == 0;
        if (!s->ra_started)
            return;
    }
    if (t != s->ra_t || s->ra_next < k + 1)
        s->ra_next = k + 1;
    s->ra_t = t;
    s->ra_end = end;
    pthread_cond_signal(&s->ra_cond);
}

/* ra_consider(), taking serve.lock. */
static void ra_look(struct serve *s, uint64_t t, uint64_t k, uint64_t nwin)
{
    pthread_mutex_lock(&s->lock);
    ra_consider(s, t, k, nwin);
    pthread_mutex_unlock(&s->lock);
}

/* Bring the GPU runtime up (or learn it will not come) before the first
 * window: buffers from gpu_host_alloc() are pinned only once it is up, and
 * backend cpu should not allocate windows at all. The runtime's own
 * resident memory then comes out of the window budget. 0, or -1 (why set). */
static int gpu_probe(struct serve *s, char *why, size_t whylen)
{
    if (atomic_load(&s->gpu_probed))
        return 0;
    const char *gpath;
    int rc = gpu_q4_0(s->g, NULL, 0, NULL, &gpath, why, whylen);
    if (rc != 0) {
        gpu_failed(s, why);
    } else {
        size_t rt = gpu_start_bytes(s->g);
        size_t floor = 2 * s->window_bytes;
        pthread_mutex_lock(&s->lock);
        s->budget = s->cache_bytes > rt + floor ? s->cache_bytes - rt : floor;
        /* Read-ahead may use half the budget: the other half holds the
         * windows readers are in and the ones just left. */
        size_t nwin = s->budget / s->window_bytes;
        size_t cap = nwin >= 2 ? nwin / 2 - 1 : 0;
        s->ra_depth = (unsigned)(s->ra_want < cap ? s->ra_want : cap);
        pthread_mutex_unlock(&s->lock);
    }
    atomic_store(&s->gpu_probed, true);
    return rc;
}

/* Serve [off, off + len) of Q4_0 tensor t from GPU windows. Returns 0
 * (paths in *path), -1 to fall back to the CPU (why set), or -errno. With
 * `hold` non-NULL and the range inside one window, nothing is copied: *data
 * points into the window and *hold keeps it until serve_release(). */
static int gpu_read(struct serve *s, uint64_t t, char *buf, size_t len, uint64_t off,
                    const void **data, struct window **hold, unsigned *path, char *why,
                    size_t whylen)
{
    uint64_t wbytes = s->window_elems * 4;
    uint64_t size = s->m->tensors[t].n_elements * 4;
    uint64_t nwin = (size + wbytes - 1) / wbytes;
    uint64_t end = off + len, pos = off;

    if (gpu_probe(s, why, whylen) != 0)
        return -1;
    while (pos < end) {
        uint64_t k = pos / wbytes;
        uint64_t wend = (k + 1) * wbytes < size ? (k + 1) * wbytes : size;
        uint64_t n = (end < wend ? end : wend) - pos;
        bool missed;
        int err = 0;
        struct window *w = window_get(s, t, k, &missed, &err, why, whylen);
        if (w == NULL)
            return err;
        *path |= w->path;
        ra_look(s, t, k, nwin);
        const char *src = (const char *)w->data + (pos - k * wbytes);
        if (hold != NULL && pos == off && n == len) {
            *data = src;
            *hold = w;
            return 0;
        }
        memcpy(buf + (pos - off), src, (size_t)n);
        window_put(s, w);
        pos += n;
    }
    return 0;
}

/* ----------------------------------------------------------------------
 * Public interface
 * ---------------------------------------------------------------------- */

static ssize_t read_failed(struct serve *s, uint64_t t, int err, const char *why)
{
    control_record(s->c, t, PATH_ERROR, 0, why);
    return err == -ENOMEM ? -ENOMEM : -EIO;
}

/* A quantized read: the GPU for Q4_0 when there is one, else (or when it
 * fails) the CPU. Returns 0 or -errno with why; *reason is the fallback's
 * reason to record, if any. */
static int decoded_read(struct serve *s, uint64_t t, const struct ggml_type_info *ti, char *buf,
                        size_t len, uint64_t off, const void **data, struct window **hold,
                        unsigned *path, char *why, size_t whylen, char *reason)
{
    const struct gguf_tensor *ten = &s->m->tensors[t];
    int rc = -1;

    if (ten->type == GT_Q4_0 && s->g != NULL)
        rc = gpu_read(s, t, buf, len, off, data, hold, path, why, whylen);
    if (rc != -1)
        return rc;
    *path = s->g != NULL && ten->type == GT_Q4_0 && why[0] ? PATH_CPU_FALLBACK : PATH_CPU;
    if (*path == PATH_CPU_FALLBACK)
        snprintf(reason, whylen, "%s", why);
    return cpu_read(s, ten, ti, buf, len, off, why, whylen);
}

ssize_t serve_read_ref(struct serve *s, uint64_t t, void *buf, size_t len, uint64_t off,
                       const void **data, struct serve_hold **hold)
{
    char why[WHY_LEN] = "", reason[WHY_LEN] = "", tb[16];
    unsigned path = 0;
    struct window *held = NULL;

    *data = buf;
    if (hold != NULL)
        *hold = NULL;
    if (t >= s->m->n_tensors)
        return -EINVAL;
    const struct gguf_tensor *ten = &s->m->tensors[t];
    uint64_t size = ten->n_elements * 4;
    if (off >= size || len == 0)
        return 0;
    if (len > size - off)
        len = (size_t)(size - off);

    const struct ggml_type_info *ti = ggml_type_find(ten->type);
    if (ti == NULL) {
        say(why, sizeof(why), "unknown type id %" PRIu32, ten->type);
        return read_failed(s, t, -EIO, why);
    }
    if (ten->type == GT_F32) {
        if (off + len > ten->nbytes) {
            say(why, sizeof(why), "tensor data holds %" PRIu64 " bytes, not %" PRIu64, ten->nbytes,
                size);
            return read_failed(s, t, -EIO, why);
        }
        if (read_model(s, buf, len, ten->offset + off, why, sizeof(why)) != 0)
            return read_failed(s, t, -EIO, why);
        path = PATH_PASSTHROUGH;
    } else if (!dequant_supported(ten->type)) {
        say(why, sizeof(why), "type %s has no FP32 decoder", ggml_type_name(ten->type, tb));
        return read_failed(s, t, -EIO, why);
    } else {
        int rc = decoded_read(s, t, ti, buf, len, off, data, hold ? &held : NULL, &path, why,
                              sizeof(why), reason);
        if (rc != 0)
            return read_failed(s, t, rc, why);
    }
    /* Bytes read before the file changed under us may be a mix of old and
     * new: fail the read rather than serve them. */
    if (model_changed(s, why, sizeof(why))) {
        serve_release(s, (struct serve_hold *)held);
        *data = buf;
        return read_failed(s, t, -EIO, why);
    }
    if (hold != NULL)
        *hold = (struct serve_hold *)held;
    control_record(s->c, t, path, len, reason[0] ? reason : NULL);
    return (ssize_t)len;
}

ssize_t serve_read(struct serve *s, uint64_t t, void *buf, size_t len, uint64_t off)
{
    const void *data;
    return serve_read_ref(s, t, buf, len, off, &data, NULL);
}

void serve_release(struct serve *s, struct serve_hold *hold)
{
    if (hold != NULL)
        window_put(s, (struct window *)hold);
}

/* Window size: 8 MiB (GGUFFS_GPU_WINDOW_KIB), or a quarter of a smaller
 * cache, at least 128 KiB; a multiple of 32 elements so windows start on
 * Q4_0 block boundaries. */
static size_t window_size(size_t cache_bytes)
{
    size_t w = cache_bytes / 4;
    size_t max = (size_t)knob_get("GGUFFS_GPU_WINDOW_KIB", WINDOW_MAX_BYTES / 1024,
                                  WINDOW_MIN_BYTES / 1024, 1024 * 1024) *
                 1024;
    if (w > max)
        w = max;
    if (w < WINDOW_MIN_BYTES)
        w = WINDOW_MIN_BYTES;
    return w - w % (32 * sizeof(float));
}

struct serve *serve_new(const struct gguf_model *m, struct gpu *g, struct control *c,
                        const struct serve_options *opt)
{
    struct serve *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->m = m;
    s->g = g;
    s->c = c;
    s->cache_bytes = opt->cache_bytes;
    s->window_bytes = window_size(opt->cache_bytes);
    s->window_elems = s->window_bytes / sizeof(float);
    s->stage_bytes = (size_t)(s->window_elems / 32 * 18);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = opt->threads ? opt->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
    if (s->threads > 1 && (s->w = workers_new(s->threads - 1)) == NULL)
        goto fail;
    if (pthread_key_create(&s->scratch_key, scratch_free) != 0)
        goto fail_workers;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->ra_cond, NULL);
    atomic_init(&s->gpu_probed, false);
    s->budget = s->cache_bytes;
    s->ra_want = (unsigned)knob_get("GGUFFS_GPU_AHEAD", RA_WINDOWS, 0, 1024);
    s->ra_depth = s->ra_want;
    s->ra_t = UINT64_MAX;
    return s;

fail_workers:
    workers_free(s->w);
fail:
    free(s);
    return NULL;
}

void serve_free(struct serve *s)
{
    if (s == NULL)
        return;
    if (s->ra_started) {
        pthread_mutex_lock(&s->lock);
        s->ra_quit = true;
        pthread_cond_signal(&s->ra_cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->ra_thread, NULL);
    }
    while (s->head != NULL) {
        struct window *w = s->head;
        lru_unlink(s, w);
        gpu_host_free(s->g, w->data, s->window_bytes, w->pinned);
        free(w);
    }
    for (unsigned i = 0; i < s->n_spare; i++)
        gpu_host_free(s->g, s->spare[i].p, s->window_bytes, s->spare[i].pinned);
    for (unsigned i = 0; i < s->n_stage; i++)
        gpu_host_free(s->g, s->stage[i].p, s->stage_bytes, s->stage[i].pinned);
    scratch_free(pthread_getspecific(s->scratch_key));
    pthread_key_delete(s->scratch_key);
    workers_free(s->w);
    pthread_cond_destroy(&s->ra_cond);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ----------------------------------------------------------------------
 * Description for the control file
 * ---------------------------------------------------------------------- */

static int appendf(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int appendf(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char *nb = realloc(*buf, *len + (size_t)n + 1);
    if (nb == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(nb + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *buf = nb;
    *len += (size_t)n;
    return 0;
}

/* "q4_0 avx2, f16 avx2" for the decodable types the model holds. */
static int describe_simd(const struct serve *s, char **buf, size_t *len)
{
    uint8_t seen[64] = {0};
    int rc = appendf(buf, len, "# simd:");
    bool any = false;

    for (uint64_t i = 0; i < s->m->n_tensors && rc == 0; i++) {
        uint32_t type = s->m->tensors[i].type;
        char tb[16];
        if (type >= sizeof(seen) || seen[type] || type == GT_F32 || !dequant_supported(type))
            continue;
        seen[type] = 1;
        rc = appendf(buf, len, "%s %s %s", any ? "," : "", ggml_type_name(type, tb),
                     dequant_isa(type));
        any = true;
    }
    return rc ? rc : appendf(buf, len, "%s\n", any ? "" : " (no quantized tensors)");
}

char *serve_describe(struct serve *s)
{
    char *buf = NULL;
    size_t len = 0;

    pthread_mutex_lock(&s->lock);
    size_t held = s->held_bytes, nwin = s->n_windows, budget = s->budget;
    uint64_t hits = s->hits, misses = s->misses, ra = s->readaheads;
    unsigned depth = s->ra_depth;
    pthread_mutex_unlock(&s->lock);

    int rc = appendf(&buf, &len,
                     "# cache: %zu MiB limit, %zu MiB of it for windows, %zu KiB windows, "
                     "%u decoded ahead, %zu windows held, %zu MiB allocated, %" PRIu64
                     " hits, %" PRIu64 " misses, %" PRIu64 " read-aheads\n",
                     s->cache_bytes / MiB, budget / MiB, s->window_bytes / 1024, depth, nwin,
                     held / MiB, hits, misses, ra);
    if (rc == 0)
        rc = appendf(&buf, &len, "# decode threads: %u\n", s->threads);
    if (rc == 0)
        rc = describe_simd(s, &buf, &len);
    if (rc == 0 && s->g != NULL) {
        char probe[1];
        size_t want = gpu_describe(s->g, probe, sizeof(probe));
        char *nb = realloc(buf, len + want + 2);
        if (nb == NULL) {
            rc = -1;
        } else {
            buf = nb;
            gpu_describe(s->g, buf + len, want + 1);
            len += strlen(buf + len);
            if (len > 0 && buf[len - 1] != '\n') {
                buf[len++] = '\n';
                buf[len] = '\0';
            }
        }
    }
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
