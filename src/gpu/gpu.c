/* gpu.c - backend selection, the kernels, and whether the GPU is usable.
 *
 * One `struct gpu` per mount. Its runtime starts at the first gpu_start(),
 * gpu_decode() or gpu_host_alloc() call: after the daemon has forked, since
 * a GPU context does not survive fork. Starting picks the backend, opens the
 * device, loads the code object (embedded, or the file main.c was given
 * from Q4_0_DEQUANT_FATBIN / Q4_0_DEQUANT_HSACO) and looks up the kernel of
 * every type the type table gives one, exactly once, under the lock; a
 * failure there is kept and returned to every later call without touching
 * the runtime again. The transfer pipeline is gpu_pipeline.c's.
 */
#include "gpu/gpu_internal.h"

#include "common/facts.h"
#include "common/log.h"
#include "format/ggml_types.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Values per pipeline chunk: 4 MiB out (0.6 MiB in for Q4_0 and Q4_K,
 * 1.1 MiB for Q8_0). A multiple of every block size. */
#define CHUNK_VALUES ((uint64_t)1 << 20)
#define CHUNK_MIN ((uint64_t)1 << 15)
#define CHUNK_MAX ((uint64_t)1 << 27)
#define CHUNK_ALIGN 256 /* the largest block */
/* CTAs per launch at most: 2^16 x 256 threads, so a large launch gives each
 * thread a few items; measured 5% faster than one item per thread on an
 * H200 (docs/gpu.md). */
#define GRID_MAX (1u << 16)
#define MAX_OBJECT_BYTES ((size_t)1 << 30)

/* The environment variable main.c takes a backend's code object from: named
 * in messages, so a user knows what to fix. */
static const char *object_var(const struct gpu_ops *be)
{
    return be->id == GPU_BACKEND_HIP ? "Q4_0_DEQUANT_HSACO" : "Q4_0_DEQUANT_FATBIN";
}

static const char *object_path(const struct gpu *g, const struct gpu_ops *be)
{
    return be->id == GPU_BACKEND_HIP ? g->opt.hsaco : g->opt.fatbin;
}

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

unsigned gpu_grid_for(uint64_t nvalues, unsigned max_grid)
{
    uint64_t threads = (nvalues + GPU_VALUES_PER_THREAD - 1) / GPU_VALUES_PER_THREAD;
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

/* Bytes of one chunk in, for the GPU type with the most bytes per value,
 * and out: lanes are sized so. */
static void chunk_sizes(struct gpu *g)
{
    g->chunk_out = g->chunk * sizeof(float);
    for (uint32_t id = 0; id < GPU_TYPES; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti == NULL || ti->gpu_kernel == NULL)
            continue;
        size_t in = (size_t)(g->chunk / ti->block_elems) * ti->block_bytes;
        if (in > g->chunk_in)
            g->chunk_in = in;
    }
}

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
    atomic_init(&g->state, GPU_NEW);
    g->chunk = opt->chunk_values >= CHUNK_MIN && opt->chunk_values <= CHUNK_MAX
                   ? opt->chunk_values - opt->chunk_values % CHUNK_ALIGN
                   : CHUNK_VALUES;
    g->grid_max = opt->grid_max ? opt->grid_max : GRID_MAX;
    chunk_sizes(g);
    return g;
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
            gpu_lane_free(g, l);
        }
        g->be->close(g->rt);
    }
    free(g->pins);
    pthread_cond_destroy(&g->lane_back);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

/* -------------------------------------------------------------- start -- */

/* Read the code object file main.c was given. Returns a malloc'd buffer
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
        snprintf(why, whylen, "%s: %s=%s: %s", be->name, object_var(be), path, strerror(errno));
    } else if (n == 0 || (size_t)n > MAX_OBJECT_BYTES) {
        snprintf(why, whylen, "%s: %s=%s: %s", be->name, object_var(be), path,
                 n == 0 ? "empty file" : "larger than 1 GiB");
    } else if (!(buf = calloc(1, (size_t)n + 1))) {
        snprintf(why, whylen, "%s: %s=%s: out of memory", be->name, object_var(be), path);
    } else if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(why, whylen, "%s: %s=%s: short read", be->name, object_var(be), path);
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* Look up the kernel of every type the table gives one. 0, or -1 with why. */
static int find_kernels(struct gpu *g, char *why, size_t whylen)
{
    for (uint32_t id = 0; id < GPU_TYPES; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti == NULL || ti->gpu_kernel == NULL)
            continue;
        int rc = g->be->function(g->rt, ti->gpu_kernel, &g->kernel[id]);
        if (rc != 0) {
            snprintf(why, whylen, "%s: %s finding %s in %.400s", g->be->name,
                     g->be->error_name(g->rt, rc), ti->gpu_kernel, g->source);
            return -1;
        }
    }
    return 0;
}

/* Load the code object into g->rt: the file main.c was given for the
 * backend if any, else the embedded object; then find the kernels. 0, or
 * -1 with why. */
static int load_kernels(struct gpu *g, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    const char *path = object_path(g, be);
    const void *image;
    void *owned = NULL;
    size_t size;
    if (path && *path) {
        if (!(image = owned = read_object(be, path, &size, why, whylen)))
            return -1;
        snprintf(g->source, sizeof g->source, "%s=%s (%zu bytes)", object_var(be), path, size);
    } else {
        if (!(image = be->embedded(&size))) {
            snprintf(why, whylen, "%s: no embedded %s (built without its compiler); set %s",
                     be->name, be->objkind, object_var(be));
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
    return find_kernels(g, why, whylen);
}

/* Open one backend and load the kernels. 0, or -1 with why. */
static int start_backend(struct gpu *g, const struct gpu_ops *be, char *why, size_t whylen)
{
    g->be = be;
    g->rt = be->open(g->opt.device, why, whylen);
    if (!g->rt)
        return -1;
    if (load_kernels(g, why, whylen) != 0) {
        be->close(g->rt);
        g->rt = NULL;
        memset(g->kernel, 0, sizeof g->kernel);
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
    char hip_why[GPU_REASON_MAX / 2 - 8] = "", cuda_why[GPU_REASON_MAX / 2 - 8] = "";
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
    size_t rss1 = resident_bytes();
    g->start_bytes = rc == 0 && rss1 > rss0 ? rss1 - rss0 : 0;
    atomic_store(&g->state, rc == 0 ? GPU_READY : GPU_FAILED);
    if (rc == 0)
        log_event("GPU started: %s, device %d (%s), in %.1f ms", g->be->name, g->opt.device,
                  g->be->device_name(g->rt), g->load_ms);
}

int gpu_ensure_ready(struct gpu *g, char *why, size_t whylen)
{
    pthread_mutex_lock(&g->lock);
    if (atomic_load(&g->state) == GPU_NEW)
        start_locked(g);
    int rc = atomic_load(&g->state) == GPU_READY ? 0 : -1;
    if (rc != 0)
        snprintf(why, whylen, "%s", g->fail);
    pthread_mutex_unlock(&g->lock);
    return rc;
}

bool gpu_wanted(const struct gpu *g)
{
    return g != NULL && g->opt.backend != GPU_BACKEND_CPU;
}

int gpu_start(struct gpu *g, char *why, size_t whylen)
{
    return gpu_ensure_ready(g, why, whylen);
}

bool gpu_unusable(struct gpu *g, char *why, size_t whylen)
{
    if (gpu_wanted(g) && atomic_load(&g->state) != GPU_FAILED)
        return false;
    if (why != NULL && whylen > 0) {
        pthread_mutex_lock(&g->lock);
        snprintf(why, whylen, "%s", gpu_wanted(g) ? g->fail : "backend cpu");
        pthread_mutex_unlock(&g->lock);
    }
    return true;
}

bool gpu_ready(struct gpu *g)
{
    return atomic_load(&g->state) == GPU_READY;
}

size_t gpu_start_bytes(struct gpu *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = atomic_load(&g->state) == GPU_READY ? g->start_bytes : 0;
    pthread_mutex_unlock(&g->lock);
    return n;
}

int gpu_runtime(struct gpu *g, uint32_t type, const struct gpu_ops **be, struct gpu_rt **rt,
                gpu_fn *kernel, char *why, size_t whylen)
{
    if (!gpu_wanted(g)) {
        snprintf(why, whylen, "backend cpu");
        return -1;
    }
    if (gpu_ensure_ready(g, why, whylen) != 0)
        return -1;
    int rc = g->be->bind(g->rt);
    if (rc != 0) {
        snprintf(why, whylen, "%s: bind: %s", g->be->name, g->be->error_name(g->rt, rc));
        return -1;
    }
    *be = g->be;
    *rt = g->rt;
    *kernel = type < GPU_TYPES ? g->kernel[type] : NULL;
    return 0;
}

/* ------------------------------------------------------------ failure -- */

void gpu_runtime_failed(struct gpu *g, const char *call, int code, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s: %s: %s", g->be->name, call, g->be->error_name(g->rt, code));
    pthread_mutex_lock(&g->lock);
    if (g->be->sticky(code)) {
        snprintf(g->fail, sizeof g->fail, "%s", why);
        atomic_store(&g->state, GPU_FAILED);
    } else {
        g->transient++;
        snprintf(g->last_transient, sizeof g->last_transient, "%s", why);
    }
    pthread_mutex_unlock(&g->lock);
}

/* ------------------------------------------------------------ describe -- */

/* The kernels the table names ("q4_0_to_fp32_kernel, ..."), or the types that
 * have one ("q4_0"), comma-separated. */
static void table_names(bool kernels, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t id = 0; id < GPU_TYPES; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti == NULL || ti->gpu_kernel == NULL)
            continue;
        int k =
            snprintf(buf + n, len - n, "%s%s", n ? ", " : "", kernels ? ti->gpu_kernel : ti->name);
        if (k > 0 && (size_t)k < len - n)
            n += (size_t)k;
    }
}

void gpu_describe(struct gpu *g, struct facts *f)
{
    char kernels[512], gpu_types[128];
    table_names(true, kernels, sizeof kernels);
    table_names(false, gpu_types, sizeof gpu_types);
    pthread_mutex_lock(&g->lock);
    int state = atomic_load(&g->state);
    const char *asked = gpu_backend_name(g->opt.backend);
    if (g->opt.backend == GPU_BACKEND_CPU) {
        facts_add(f, "gpu", "off (backend cpu)");
    } else if (state == GPU_NEW) {
        facts_add(f, "gpu", "not started (backend %s, device %d; starts at the first %s read)",
                  asked, g->opt.device, gpu_types);
    } else if (g->rt) {
        facts_add(f, "gpu", "backend %s (asked %s), device %d: %s", g->be->name, asked,
                  g->opt.device, g->be->device_name(g->rt));
        facts_add(f, "gpu", "kernels %s from %s, started in %.1f ms, %zu MiB resident", kernels,
                  g->source, g->load_ms, g->start_bytes >> 20);
        facts_add(f, "gpu", "%u lanes at most, %u made, chunks of %llu values", GPU_MAX_LANES,
                  g->nlanes, (unsigned long long)g->chunk);
    }
    if (state == GPU_FAILED)
        facts_add(f, "gpu", "unavailable: %s", g->fail);
    if (g->transient)
        facts_add(f, "gpu", "transient failures: %llu (last: %s)", (unsigned long long)g->transient,
                  g->last_transient);
    pthread_mutex_unlock(&g->lock);
}
