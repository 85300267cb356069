/* gpu.c - backend selection, the kernel cache, and the Q4_0 transfer pipeline.
 *
 * One `struct gpu` per mount. Its runtime starts at the first gpu_q4_0() (or
 * gpu_host_alloc()) call: after the daemon has forked, since a GPU context
 * does not survive fork. Starting picks the backend, opens the device and
 * loads the kernel's code object (embedded, or the file named by
 * Q4_0_DEQUANT_FATBIN / Q4_0_DEQUANT_HSACO) exactly once, under the lock; a
 * failure there is kept and returned to every later call without touching
 * the runtime again.
 *
 * The pipeline: a read of n blocks is cut into chunks (CHUNK_BLOCKS; for
 * benchmarks, GGUFFS_GPU_CHUNK_BLOCKS and GGUFFS_GPU_GRID_MAX in the
 * environment set the chunk and the largest grid). Each
 * chunk goes host->device, through the kernel and device->host on one of two
 * streams, alternately, so one chunk's copy-out overlaps the next one's
 * copy-in and kernel; the device->host copy (4 bytes out per 0.5625 in) is
 * what bounds the whole. Copies run at PCIe speed only from page-locked
 * memory: src and dst that came from gpu_host_alloc() are used as they are,
 * any other memory is staged through the lane's own pinned buffers.
 *
 * Lanes: a lane is two streams with their device and staging buffers,
 * allocated once and reused. Concurrent callers each take a lane (at most
 * MAX_LANES exist; beyond that a caller waits for one to come back), so
 * readers never share buffers and the device memory used stays bounded.
 */
#include "gpu/gpu.h"
#include "gpu/gpu_backend.h"
#include "read/knob.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define Q4_0_BYTES 18
#define Q4_0_OUT_BYTES (32 * sizeof(float))
#define CHUNK_BLOCKS ((uint64_t)1 << 15) /* 4 MiB out, 0.6 MiB in */
#define CHUNK_MIN ((uint64_t)1 << 10)
#define CHUNK_MAX ((uint64_t)1 << 22)
/* CTAs per launch at most: 2^16 x 256 threads, so a large launch gives each
 * thread a few items; measured 5% faster than one item per thread on an
 * H200 (docs/gpu.md). */
#define GRID_MAX (1u << 16)
#define NSTREAMS 2
#define MAX_LANES 4
#define MAX_OBJECT_BYTES ((size_t)1 << 30)
#define REASON_MAX 512

enum gpu_state { GPU_NEW, GPU_READY, GPU_FAILED };

struct lane {
    struct lane *next; /* free list */
    gpu_stream stream[NSTREAMS];
    gpu_dptr din[NSTREAMS], dout[NSTREAMS];
    void *hin[NSTREAMS], *hout[NSTREAMS]; /* pinned staging, made on first need */
};

struct pin {
    uintptr_t p;
    size_t n;
};

struct gpu {
    struct gpu_options opt;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t lane_back;
    enum gpu_state state;
    const struct gpu_ops *be;
    struct gpu_rt *rt;
    char fail[REASON_MAX];   /* the permanent failure, once state is GPU_FAILED */
    char source[REASON_MAX]; /* where the code object came from */
    double load_ms;          /* runtime start + module load */
    size_t start_bytes;      /* resident memory the start added */
    uint64_t chunk;          /* blocks per pipeline chunk */
    unsigned grid_max;       /* CTAs per launch, at most */
    struct lane *free_lanes;
    unsigned nlanes;
    struct pin *pins; /* gpu_host_alloc()'s live allocations */
    size_t npins, cappins;
    uint64_t transient;
    char last_transient[REASON_MAX];
};

/* ---------------------------------------------------------------- names -- */

int gpu_backend_parse(const char *s, enum gpu_backend *out)
{
    static const struct {
        const char *name;
        enum gpu_backend b;
    } names[] = {{"auto", GPU_BACKEND_AUTO},
                 {"cpu", GPU_BACKEND_CPU},
                 {"hip", GPU_BACKEND_HIP},
                 {"cuda", GPU_BACKEND_CUDA}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].b;
            return 0;
        }
    }
    return -1;
}

const char *gpu_backend_name(enum gpu_backend b)
{
    switch (b) {
    case GPU_BACKEND_AUTO:
        return "auto";
    case GPU_BACKEND_CPU:
        return "cpu";
    case GPU_BACKEND_HIP:
        return "hip";
    case GPU_BACKEND_CUDA:
        return "cuda";
    }
    return "?";
}

unsigned gpu_grid_for(uint64_t nblocks, unsigned max_grid)
{
    uint64_t threads = nblocks * GPU_Q4_0_THREADS_PER_BLOCK;
    uint64_t grid = (threads + GPU_CTA_THREADS - 1) / GPU_CTA_THREADS;
    if (grid == 0)
        grid = 1;
    return (unsigned)(grid < max_grid ? grid : max_grid);
}

bool gpu_code_is_sticky(int code)
{
    switch (code) {
    case 3:   /* not initialized */
    case 4:   /* deinitialized */
    case 46:  /* devices unavailable */
    case 700: /* illegal address */
    case 702: /* launch timeout */
    case 709: /* context destroyed */
    case 714: /* hardware stack error */
    case 715: /* illegal instruction */
    case 716: /* misaligned address */
    case 717: /* invalid address space */
    case 718: /* invalid pc */
    case 719: /* launch failed */
    case 999: /* unknown */
        return true;
    default:
        return false;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------- handle -- */

struct gpu *gpu_new(const struct gpu_options *opt)
{
    struct gpu *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->opt = *opt;
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return NULL;
    }
    if (pthread_cond_init(&g->lane_back, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    g->state = GPU_NEW;
    g->chunk = knob_get("GGUFFS_GPU_CHUNK_BLOCKS", CHUNK_BLOCKS, CHUNK_MIN, CHUNK_MAX);
    g->grid_max = (unsigned)knob_get("GGUFFS_GPU_GRID_MAX", GRID_MAX, 1, 1u << 30);
    return g;
}

static void lane_free(struct gpu *g, struct lane *l)
{
    for (int k = 0; k < NSTREAMS; k++) {
        if (l->stream[k]) {
            g->be->stream_sync(g->rt, l->stream[k]);
            g->be->stream_free(g->rt, l->stream[k]);
        }
        if (l->din[k])
            g->be->dev_free(g->rt, l->din[k]);
        if (l->dout[k])
            g->be->dev_free(g->rt, l->dout[k]);
        if (l->hin[k])
            g->be->host_free(g->rt, l->hin[k]);
        if (l->hout[k])
            g->be->host_free(g->rt, l->hout[k]);
    }
    free(l);
}

void gpu_free(struct gpu *g)
{
    if (!g)
        return;
    if (g->rt) {
        g->be->bind(g->rt);
        while (g->free_lanes) {
            struct lane *l = g->free_lanes;
            g->free_lanes = l->next;
            lane_free(g, l);
        }
        g->be->close(g->rt);
    }
    free(g->pins);
    pthread_cond_destroy(&g->lane_back);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

/* -------------------------------------------------------------- start -- */

/* Read a code object named by the environment. Returns a malloc'd buffer
 * with a NUL after the data (a runtime that takes the bytes for PTX text
 * must find an end), or NULL with why. */
static void *read_object(const struct gpu_ops *be, const char *path, size_t *size, char *why,
                         size_t whylen)
{
    FILE *f = fopen(path, "rb");
    void *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (!f || n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(why, whylen, "%s: %s=%s: %s", be->name, be->env, path, strerror(errno));
    } else if (n == 0 || (size_t)n > MAX_OBJECT_BYTES) {
        snprintf(why, whylen, "%s: %s=%s: %s", be->name, be->env, path,
                 n == 0 ? "empty file" : "larger than 1 GiB");
    } else if (!(buf = calloc(1, (size_t)n + 1))) {
        snprintf(why, whylen, "%s: %s=%s: out of memory", be->name, be->env, path);
    } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(why, whylen, "%s: %s=%s: short read", be->name, be->env, path);
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* Load the kernel into g->rt: from the file in the backend's environment
 * variable if set, else the embedded object. 0, or -1 with why. */
static int load_kernel(struct gpu *g, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    const char *path = getenv(be->env);
    const void *image;
    void *owned = NULL;
    size_t size;
    if (path && *path) {
        if (!(image = owned = read_object(be, path, &size, why, whylen)))
            return -1;
        snprintf(g->source, sizeof g->source, "%s=%s (%zu bytes)", be->env, path, size);
    } else {
        if (!(image = be->embedded(&size))) {
            snprintf(why, whylen, "%s: no embedded %s (built without its compiler); set %s",
                     be->name, be->objkind, be->env);
            return -1;
        }
        snprintf(g->source, sizeof g->source, "embedded %s (%zu bytes)", be->objkind, size);
    }
    int rc = be->load(g->rt, image);
    free(owned);
    if (rc != 0) {
        snprintf(why, whylen, "%s: %s loading %.400s", be->name, be->error_name(g->rt, rc),
                 path && *path ? path : g->source);
        return -1;
    }
    return 0;
}

/* Open one backend and load the kernel. 0, or -1 with why. */
static int start_backend(struct gpu *g, const struct gpu_ops *be, char *why, size_t whylen)
{
    g->be = be;
    g->rt = be->open(g->opt.device, why, whylen);
    if (!g->rt)
        return -1;
    if (load_kernel(g, why, whylen) != 0) {
        be->close(g->rt);
        g->rt = NULL;
        return -1;
    }
    return 0;
}

/* This process's resident memory in bytes, or 0 when /proc says nothing. */
static size_t resident_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Under g->lock: bring the runtime up once. */
static void start_locked(struct gpu *g)
{
    char hip_why[REASON_MAX / 2 - 8] = "", cuda_why[REASON_MAX / 2 - 8] = "";
    double t0 = now_ms();
    size_t rss0 = resident_bytes();
    int rc = -1;
    switch (g->opt.backend) {
    case GPU_BACKEND_HIP:
        rc = start_backend(g, &gpu_ops_hip, g->fail, sizeof g->fail);
        break;
    case GPU_BACKEND_CUDA:
        rc = start_backend(g, &gpu_ops_cuda, g->fail, sizeof g->fail);
        break;
    case GPU_BACKEND_AUTO:
        rc = start_backend(g, &gpu_ops_hip, hip_why, sizeof hip_why);
        if (rc != 0)
            rc = start_backend(g, &gpu_ops_cuda, cuda_why, sizeof cuda_why);
        if (rc != 0)
            snprintf(g->fail, sizeof g->fail, "no GPU (%s; %s)", hip_why, cuda_why);
        break;
    case GPU_BACKEND_CPU:
        snprintf(g->fail, sizeof g->fail, "backend cpu");
        break;
    }
    g->load_ms = now_ms() - t0;
    g->state = rc == 0 ? GPU_READY : GPU_FAILED;
    size_t rss1 = resident_bytes();
    g->start_bytes = rc == 0 && rss1 > rss0 ? rss1 - rss0 : 0;
}

/* Start if needed; 0 when ready, else -1 with the kept reason. */
static int ensure_ready(struct gpu *g, char *why, size_t whylen)
{
    pthread_mutex_lock(&g->lock);
    if (g->state == GPU_NEW)
        start_locked(g);
    int rc = g->state == GPU_READY ? 0 : -1;
    if (rc != 0)
        snprintf(why, whylen, "%s", g->fail);
    pthread_mutex_unlock(&g->lock);
    return rc;
}

bool gpu_ready(struct gpu *g)
{
    pthread_mutex_lock(&g->lock);
    bool r = g->state == GPU_READY;
    pthread_mutex_unlock(&g->lock);
    return r;
}

size_t gpu_start_bytes(struct gpu *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->state == GPU_READY ? g->start_bytes : 0;
    pthread_mutex_unlock(&g->lock);
    return n;
}

int gpu_runtime(struct gpu *g, const struct gpu_ops **be, struct gpu_rt **rt, char *why,
                size_t whylen)
{
    if (g->opt.backend == GPU_BACKEND_CPU) {
        snprintf(why, whylen, "backend cpu");
        return -1;
    }
    if (ensure_ready(g, why, whylen) != 0)
        return -1;
    int rc = g->be->bind(g->rt);
    if (rc != 0) {
        snprintf(why, whylen, "%s: bind: %s", g->be->name, g->be->error_name(g->rt, rc));
        return -1;
    }
    *be = g->be;
    *rt = g->rt;
    return 0;
}

/* ------------------------------------------------------------ failure -- */

/* Word a runtime error as "cuda: <call>: <NAME>" into why. A sticky error
 * leaves the context unusable: it becomes the permanent failure. */
static void runtime_failed(struct gpu *g, const char *call, int code, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s: %s: %s", g->be->name, call, g->be->error_name(g->rt, code));
    pthread_mutex_lock(&g->lock);
    if (g->be->sticky(code)) {
        g->state = GPU_FAILED;
        snprintf(g->fail, sizeof g->fail, "%s", why);
    } else {
        g->transient++;
        snprintf(g->last_transient, sizeof g->last_transient, "%s", why);
    }
    pthread_mutex_unlock(&g->lock);
}

/* -------------------------------------------------------------- lanes -- */

static int lane_init(struct gpu *g, struct lane *l, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    int rc = 0;
    const char *call = "";
    for (int k = 0; k < NSTREAMS && rc == 0; k++) {
        call = "stream create";
        if ((rc = be->stream_new(g->rt, &l->stream[k])) != 0)
            break;
        call = "device alloc";
        if ((rc = be->dev_alloc(g->rt, &l->din[k], g->chunk * Q4_0_BYTES)) != 0)
            break;
        rc = be->dev_alloc(g->rt, &l->dout[k], g->chunk * Q4_0_OUT_BYTES);
    }
    if (rc != 0)
        runtime_failed(g, call, rc, why, whylen);
    return rc ? -1 : 0;
}

/* Take a lane, making one if fewer than MAX_LANES exist, else waiting. */
static struct lane *lane_get(struct gpu *g, char *why, size_t whylen)
{
    pthread_mutex_lock(&g->lock);
    while (!g->free_lanes && g->nlanes >= MAX_LANES)
        pthread_cond_wait(&g->lane_back, &g->lock);
    struct lane *l = g->free_lanes;
    if (l) {
        g->free_lanes = l->next;
        pthread_mutex_unlock(&g->lock);
        return l;
    }
    g->nlanes++;
    pthread_mutex_unlock(&g->lock);
    l = calloc(1, sizeof *l);
    if (!l)
        snprintf(why, whylen, "%s: out of host memory", g->be->name);
    if (!l || lane_init(g, l, why, whylen) != 0) {
        if (l)
            lane_free(g, l);
        pthread_mutex_lock(&g->lock);
        g->nlanes--;
        pthread_cond_signal(&g->lane_back);
        pthread_mutex_unlock(&g->lock);
        return NULL;
    }
    return l;
}

static void lane_put(struct gpu *g, struct lane *l)
{
    pthread_mutex_lock(&g->lock);
    l->next = g->free_lanes;
    g->free_lanes = l;
    pthread_cond_signal(&g->lane_back);
    pthread_mutex_unlock(&g->lock);
}

/* The lane's pinned staging, made the first time pageable memory comes. */
static int lane_staging(struct gpu *g, struct lane *l, char *why, size_t whylen)
{
    for (int k = 0; k < NSTREAMS; k++) {
        int rc = 0;
        if (!l->hin[k])
            rc = g->be->host_alloc(g->rt, &l->hin[k], g->chunk * Q4_0_BYTES);
        if (rc == 0 && !l->hout[k])
            rc = g->be->host_alloc(g->rt, &l->hout[k], g->chunk * Q4_0_OUT_BYTES);
        if (rc != 0) {
            runtime_failed(g, "pinned alloc", rc, why, whylen);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------ pinned memory -- */

static bool is_pinned(struct gpu *g, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    bool found = false;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->npins && !found; i++)
        found = a >= g->pins[i].p && n <= g->pins[i].n && a - g->pins[i].p <= g->pins[i].n - n;
    pthread_mutex_unlock(&g->lock);
    return found;
}

static int pin_add(struct gpu *g, void *p, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    if (g->npins == g->cappins) {
        size_t cap = g->cappins ? 2 * g->cappins : 16;
        struct pin *np = realloc(g->pins, cap * sizeof *np);
        if (np) {
            g->pins = np;
            g->cappins = cap;
        } else {
            rc = -1;
        }
    }
    if (rc == 0)
        g->pins[g->npins++] = (struct pin){(uintptr_t)p, n};
    pthread_mutex_unlock(&g->lock);
    return rc;
}

static void pin_remove(struct gpu *g, void *p)
{
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->npins; i++) {
        if (g->pins[i].p == (uintptr_t)p) {
            g->pins[i] = g->pins[--g->npins];
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
}

void *gpu_host_alloc(struct gpu *g, size_t bytes, bool *pinned)
{
    char why[REASON_MAX];
    void *p = NULL;
    *pinned = false;
    if (g && g->opt.backend != GPU_BACKEND_CPU && ensure_ready(g, why, sizeof why) == 0 &&
        g->be->bind(g->rt) == 0 && g->be->host_alloc(g->rt, &p, bytes ? bytes : 1) == 0) {
        if (pin_add(g, p, bytes) == 0) {
            *pinned = true;
            return p;
        }
        g->be->host_free(g->rt, p);
    }
    return malloc(bytes ? bytes : 1);
}

void gpu_host_free(struct gpu *g, void *p, size_t bytes, bool pinned)
{
    (void)bytes;
    if (!p)
        return;
    if (!pinned) {
        free(p);
        return;
    }
    pin_remove(g, p);
    g->be->bind(g->rt);
    g->be->host_free(g->rt, p);
}

/* ----------------------------------------------------------- pipeline -- */

/* One read's walk through the lane: which chunk each stream holds. */
struct flight {
    const uint8_t *src;
    float *dst;
    bool src_pinned, dst_pinned;
    uint64_t b0[NSTREAMS], n[NSTREAMS]; /* chunk on stream k; n == 0: none */
};

/* Wait for stream k's chunk and, for pageable dst, copy it out of staging. */
static int chunk_finish(struct gpu *g, struct lane *l, struct flight *f, int k, char *why,
                        size_t whylen)
{
    if (f->n[k] == 0)
        return 0;
    int rc = g->be->stream_sync(g->rt, l->stream[k]);
    if (rc != 0) {
        runtime_failed(g, "stream sync", rc, why, whylen);
        return -1;
    }
    if (!f->dst_pinned)
        memcpy(f->dst + f->b0[k] * 32, l->hout[k], f->n[k] * Q4_0_OUT_BYTES);
    f->n[k] = 0;
    return 0;
}

/* Enqueue copy-in, kernel, copy-out of blocks [b0, b0 + n) on stream k. */
static int chunk_start(struct gpu *g, struct lane *l, struct flight *f, int k, uint64_t b0,
                       uint64_t n, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    const void *in = f->src + b0 * Q4_0_BYTES;
    void *out = f->dst_pinned ? (void *)(f->dst + b0 * 32) : l->hout[k];
    int rc;
    if (!f->src_pinned) {
        memcpy(l->hin[k], in, n * Q4_0_BYTES);
        in = l->hin[k];
    }
    if ((rc = be->h2d(g->rt, l->din[k], in, n * Q4_0_BYTES, l->stream[k])) != 0) {
        runtime_failed(g, "copy to device", rc, why, whylen);
        return -1;
    }
    if ((rc = be->launch(g->rt, l->stream[k], l->din[k], l->dout[k], n,
                         gpu_grid_for(n, g->grid_max))) != 0) {
        runtime_failed(g, "kernel launch", rc, why, whylen);
        return -1;
    }
    if ((rc = be->d2h(g->rt, out, l->dout[k], n * Q4_0_OUT_BYTES, l->stream[k])) != 0) {
        runtime_failed(g, "copy from device", rc, why, whylen);
        return -1;
    }
    f->b0[k] = b0;
    f->n[k] = n;
    return 0;
}

static int run_chunks(struct gpu *g, struct lane *l, struct flight *f, uint64_t nblocks, char *why,
                      size_t whylen)
{
    uint64_t b0 = 0;
    int rc = 0;
    for (uint64_t i = 0; b0 < nblocks && rc == 0; i++) {
        int k = (int)(i % NSTREAMS);
        uint64_t n = nblocks - b0 < g->chunk ? nblocks - b0 : g->chunk;
        rc = chunk_finish(g, l, f, k, why, whylen);
        if (rc == 0)
            rc = chunk_start(g, l, f, k, b0, n, why, whylen);
        b0 += n;
    }
    for (int k = 0; k < NSTREAMS; k++) {
        if (rc != 0) /* drain without copying: the caller decodes on the CPU */
            g->be->stream_sync(g->rt, l->stream[k]);
        else
            rc = chunk_finish(g, l, f, k, why, whylen);
    }
    return rc;
}

int gpu_q4_0(struct gpu *g, const void *src, uint64_t nblocks, float *dst, const char **path,
             char *why, size_t whylen)
{
    if (whylen)
        why[0] = '\0';
    if (g->opt.backend == GPU_BACKEND_CPU)
        return -1;
    if (ensure_ready(g, why, whylen) != 0)
        return -1;
    int rc = g->be->bind(g->rt);
    if (rc != 0) {
        runtime_failed(g, "bind", rc, why, whylen);
        return -1;
    }
    if (nblocks == 0) {
        *path = g->be->path;
        return 0;
    }
    struct flight f = {
        .src = src,
        .dst = dst,
        .src_pinned = is_pinned(g, src, nblocks * Q4_0_BYTES),
        .dst_pinned = is_pinned(g, dst, nblocks * Q4_0_OUT_BYTES),
    };
    struct lane *l = lane_get(g, why, whylen);
    if (!l)
        return -1;
    rc = (f.src_pinned && f.dst_pinned) ? 0 : lane_staging(g, l, why, whylen);
    if (rc == 0)
        rc = run_chunks(g, l, &f, nblocks, why, whylen);
    lane_put(g, l);
    if (rc != 0)
        return -1;
    *path = g->be->path;
    return 0;
}

/* ------------------------------------------------------------ describe -- */

size_t gpu_describe(struct gpu *g, char *buf, size_t len)
{
    char tmp[4 * REASON_MAX + 256];
    int n = 0;
    pthread_mutex_lock(&g->lock);
    const char *asked = gpu_backend_name(g->opt.backend);
    if (g->opt.backend == GPU_BACKEND_CPU) {
        n = snprintf(tmp, sizeof tmp, "# gpu: off (backend cpu)\n");
    } else if (g->state == GPU_NEW) {
        n = snprintf(tmp, sizeof tmp,
                     "# gpu: not started (backend %s, device %d; starts at the first Q4_0 read)\n",
                     asked, g->opt.device);
    } else if (g->rt) {
        n = snprintf(tmp, sizeof tmp,
                     "# gpu: backend %s (asked %s), device %d: %s\n"
                     "# gpu: kernel q4_0_to_fp32_kernel from %s, started in %.1f ms, "
                     "%zu MiB resident\n"
                     "# gpu: %u lanes at most, %u made, chunks of %llu blocks\n",
                     g->be->name, asked, g->opt.device, g->be->device_name(g->rt), g->source,
                     g->load_ms, g->start_bytes >> 20, MAX_LANES, g->nlanes,
                     (unsigned long long)g->chunk);
    }
    if (g->state == GPU_FAILED)
        n += snprintf(tmp + n, sizeof tmp - n, "# gpu: unavailable: %s\n", g->fail);
    if (g->transient)
        n += snprintf(tmp + n, sizeof tmp - n, "# gpu: transient failures: %llu (last: %s)\n",
                      (unsigned long long)g->transient, g->last_transient);
    pthread_mutex_unlock(&g->lock);
    if (len)
        snprintf(buf, len, "%s", tmp);
    return (size_t)n;
}
