/* cpu_dequant - CPU decoding throughput, gguffs vs ggml's to_float.
 *
 *   cpu_dequant LIBDIR [OUT_KIB] [TYPES]
 *
 * LIBDIR holds ggml's libggml-base.so (tests/conformance/fetch-ggml prints
 * one). For each type (default: every type both gguffs and ggml decode, in
 * id order; TYPES is a comma list of ggml names), decodes OUT_KIB (default 65536: 64 MiB) KiB of
 * FP32 output from random blocks, on one thread and on all threads (the worker pool, with the
 * caller), by gguffs and by ggml, and prints GB/s of FP32 written and the ratio as a Markdown
 * table. Each figure is the best of several runs after a warm-up run, ours and ggml's alternating,
 * so first-touch page faults and a busy neighbour weigh less. GGUFFS_SIMD caps our vector level, as
 * in the daemon.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "random_blocks.h"
#include "read/workers.h"

typedef void (*to_float_t)(const void *x, float *y, int64_t k);

/* ggml_type_traits of this ggml (checked by name and size before use). */
struct ggml_traits {
    const char *type_name;
    int64_t blck_size, blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    to_float_t to_float;
    void *from_float_ref;
};

typedef const struct ggml_traits *(*traits_fn)(int type);

struct job {
    uint32_t type;
    bool ggml;
    to_float_t ggml_fn;
    const uint8_t *src;
    float *dst;
    uint32_t belems, bbytes;
};

/* Decodes blocks [begin, end) of the job, by gguffs or by ggml. */
static void run_blocks(void *ctx, size_t begin, size_t end)
{
    const struct job *j = ctx;
    const uint8_t *s = j->src + begin * j->bbytes;
    float *d = j->dst + begin * j->belems;
    if (j->ggml && j->ggml_fn == NULL)
        memcpy(d, s, (end - begin) * j->bbytes); /* F32: ggml reads it as is */
    else if (j->ggml)
        j->ggml_fn(s, d, (int64_t)((end - begin) * j->belems));
    else if (dequant_blocks(j->type, s, end - begin, d) != 0)
        abort(); /* only supported types are benchmarked */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Decodes the job's whole buffer `times` times. On the pool, no chunk is
 * smaller than 1 MiB of output: waking a thread costs more than decoding a
 * smaller piece, so a request-sized buffer stays on the calling thread. */
static void run_times(struct job *j, size_t nblocks, struct workers *pool, size_t times)
{
    for (size_t k = 0; k < times; k++) {
        if (pool != NULL)
            workers_run(pool, nblocks, (1 << 20) / (j->belems * sizeof(float)), run_blocks, j);
        else
            run_blocks(j, 0, nblocks);
    }
}

static double time_run(struct job *j, size_t nblocks, struct workers *pool, size_t times)
{
    const double t0 = now();
    run_times(j, nblocks, pool, times);
    return now() - t0;
}

/* Best GB/s (of FP32 out) of ours (best[0]) and ggml's (best[1]) over a few
 * runs after a warm-up run, the two alternating so that a busy neighbour
 * slows both alike. A small buffer is decoded repeatedly within a run (64 MiB
 * of output per run), as the daemon sees it: one request-sized buffer, over
 * and over. */
static void measure(struct job *j, size_t nblocks, struct workers *pool, double best[2])
{
    const double bytes = (double)nblocks * j->belems * sizeof(float);
    const size_t times = bytes >= (64 << 20) ? 1 : (size_t)((64 << 20) / bytes);
    double spent = 0;
    best[0] = best[1] = 0;
    for (int rep = 0; rep < 16 && (rep < 5 || spent < 2.0); rep++) {
        for (int k = 0; k < 2; k++) {
            j->ggml = k == 1;
            const double t = time_run(j, nblocks, pool, times);
            spent += t;
            if (rep > 0 && bytes * times / t / 1e9 > best[k])
                best[k] = bytes * times / t / 1e9;
        }
    }
}

/* ggml's decoder: to_float, else the exported dequantize_row_<name>. */
static to_float_t ggml_decoder(void *lib, const struct ggml_traits *t)
{
    if (t->to_float != NULL)
        return t->to_float;
    char name[64];
    snprintf(name, sizeof(name), "dequantize_row_%s", t->type_name);
    void *p = dlsym(lib, name);
    to_float_t fn;
    memcpy(&fn, &p, sizeof(fn));
    return fn;
}

static bool wanted(const char *list, const char *name)
{
    if (list == NULL)
        return true;
    size_t len = strlen(name);
    for (const char *p = list; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncasecmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

/* A buffer on 2 MiB boundaries with transparent huge pages requested, for
 * ours and ggml's alike: fewer TLB misses on the 64 MiB runs. */
static void *big_alloc(size_t len)
{
    const size_t huge = 2u << 20;
    void *p = aligned_alloc(huge, (len + huge - 1) / huge * huge);
    if (p != NULL)
        madvise(p, len, MADV_HUGEPAGE); /* advice only: failure is harmless */
    return p;
}

static void bench_type(void *lib, const struct ggml_traits *t, uint32_t type, size_t out_bytes,
                       struct workers *pool)
{
    struct job j = {.type = type, .belems = rb_block_elems(type), .bbytes = rb_block_bytes(type)};
    const size_t nblocks = out_bytes / sizeof(float) / j.belems;
    uint8_t *src = big_alloc(nblocks * j.bbytes);
    j.dst = big_alloc(nblocks * j.belems * sizeof(float));
    struct rb_rng rng = {type};
    if (src == NULL || j.dst == NULL || rb_fill(type, nblocks, &rng, src) != 0) {
        fprintf(stderr, "cpu_dequant: cannot prepare %s\n", t->type_name);
        exit(1);
    }
    j.src = src;
    memset(j.dst, 0, nblocks * j.belems * sizeof(float)); /* fault the pages in */
    j.ggml_fn = type == 0 ? NULL : ggml_decoder(lib, t);
    double r[4];
    measure(&j, nblocks, NULL, r);
    measure(&j, nblocks, pool, r + 2);
    printf("| %s | %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |\n", t->type_name,
           dequant_isa(type), r[0], r[1], r[0] / r[1], r[2], r[3], r[2] / r[3]);
    fflush(stdout);
    free(src);
    free(j.dst);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: cpu_dequant LIBDIR [OUT_KIB] [TYPES]\n");
        return 2;
    }
    const char *simd = getenv("GGUFFS_SIMD");
    enum dequant_level cap;
    if (simd != NULL && dequant_level_parse(simd, &cap) == 0)
        dequant_set_cap(cap);
    char path[4096];
    snprintf(path, sizeof(path), "%s/libggml-base.so", argv[1]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    traits_fn traits = NULL;
    void *p = lib ? dlsym(lib, "ggml_get_type_traits") : NULL;
    memcpy(&traits, &p, sizeof(traits));
    if (traits == NULL) {
        fprintf(stderr, "cpu_dequant: cannot load ggml from %s: %s\n", path, dlerror());
        return 1;
    }
    const size_t kib = argc > 2 ? strtoul(argv[2], NULL, 10) : 65536;
    struct workers *pool = workers_new(0);
    if (pool == NULL || kib == 0) {
        fprintf(stderr, "cpu_dequant: no worker pool, or a zero size\n");
        return 1;
    }
    printf("%zu KiB of FP32 out per run; all threads = %u pool threads + caller\n\n", kib,
           workers_count(pool));
    printf("| type | isa | ours 1T GB/s | ggml 1T GB/s | ratio 1T | ours all GB/s | ggml all GB/s "
           "| ratio all |\n|---|---|---|---|---|---|---|---|\n");
    /* Ids below GT_COUNT only: ggml_get_type_traits() does not check its
     * argument, and GT_COUNT is this ggml's type count (ggml_check types). */
    for (uint32_t id = 0; id < GT_COUNT; id++) {
        if (!dequant_supported(id))
            continue;
        const struct ggml_traits *t = traits((int)id);
        if (t == NULL || t->type_name == NULL || (size_t)t->type_size != rb_block_bytes(id) ||
            (uint32_t)t->blck_size != rb_block_elems(id)) {
            fprintf(stderr, "cpu_dequant: ggml's traits for type %u do not match\n", id);
            return 1;
        }
        if ((id == GT_F32 || ggml_decoder(lib, t) != NULL) &&
            wanted(argc > 3 ? argv[3] : NULL, t->type_name))
            bench_type(lib, t, id, kib << 10, pool);
    }
    workers_free(pool);
    return 0;
}
