/* cpu_dequant - CPU decoding throughput, gguffs vs ggml's to_float.
 *
 *   cpu_dequant LIBDIR [OUT_KIB] [TYPES]
 *
 * LIBDIR holds ggml's libggml-base.so (tests/conformance/fetch-ggml prints
 * one). For each type (default: every type ggml decodes, in id order, which
 * the type table's rows pick out; TYPES is a comma list of ggml names),
 * decodes OUT_KIB (default 65536: 64 MiB) KiB of FP32 output from random
 * blocks, on one thread and on all threads (the worker pool, with the
 * caller), by gguffs and by ggml, and prints GB/s of FP32 written and the
 * ratio as a Markdown table. A type ggml decodes and gguffs does not gets a
 * row saying so.
 *
 * Each row also has the memory bound (AVX-512 CPUs only, else "-"): the
 * GB/s of output of the slower of two passes that compute nothing, one
 * reading every block, one writing the output with the stores gguffs would
 * use (streaming past DQ_STREAM_MIN_BYTES, ordinary below). A decoder must
 * do both, so it can beat the bound only where it gets more from the memory
 * system than these plain loops; where 1.5x ggml's figure is above the
 * bound, that goal is out of reach on this machine.
 *
 * Each figure is the best of several runs after a warm-up run, ours, ggml's
 * and the bound's passes alternating, so first-touch page faults and a busy
 * neighbour weigh less. A run writes 64 MiB of output; an output smaller
 * than that is written over and over, as the daemon reuses a request's
 * reply buffer, but each time from the next blocks of a 64 MiB-output
 * source: the daemon never decodes the same blocks twice in a row, and a
 * decoder whose branches follow the data (ggml's sign bits) would otherwise
 * learn a small buffer's branches by heart. GGUFFS_SIMD caps our vector
 * level, as in the daemon.
 */
#include <dlfcn.h>
#include <immintrin.h>
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

/* Who decodes: gguffs, ggml, or one half of the memory bound (the blocks
 * read, or the output written, nothing computed). */
enum who { OURS, GGML, READ, WRITE, WHO_COUNT };

struct job {
    uint32_t type;
    enum who who;
    to_float_t ggml_fn;
    const uint8_t *src; /* the blocks of this pass */
    float *dst;
    uint32_t belems, bbytes;
};

/* As DQ_STREAM_MIN_BYTES (decode/dequant.h): the output size from which
 * gguffs streams its stores past the caches. */
#define STREAM_MIN_BYTES ((size_t)8 << 20)

/* The bound's two halves, each a pass over the call's blocks that does only
 * what every decoder must: read the blocks (64-byte loads, with software
 * prefetch 4 KiB ahead, folded together so that none is dead; up to 63
 * bytes past the last block: the source has that much slack), or write the
 * output (with the stores gguffs would use: streaming past
 * DQ_STREAM_MIN_BYTES where y is aligned for them, else ordinary). A
 * decoder that overlapped its reads and writes perfectly would take as long
 * as the slower half, so the bound is optimistic: a goal above it is out of
 * reach, one below it may still be. */
__attribute__((target("avx512f"))) static void read_avx512(const struct job *j, const uint8_t *s,
                                                           size_t nblocks, float *y)
{
    const size_t len = nblocks * j->bbytes;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t k = 0;
    for (; k + 256 <= len; k += 256) {
        for (size_t p = 0; p < 256; p += 64)
            _mm_prefetch((const char *)s + k + p + 4096, _MM_HINT_T0);
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(s + k));
        a1 = _mm512_xor_si512(a1, _mm512_loadu_si512(s + k + 64));
        a2 = _mm512_xor_si512(a2, _mm512_loadu_si512(s + k + 128));
        a3 = _mm512_xor_si512(a3, _mm512_loadu_si512(s + k + 192));
    }
    for (; k < len; k += 64)
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(s + k));
    const __m512i a = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    const size_t out = nblocks * j->belems;
    memcpy(y, &a, out >= 16 ? 64 : out * sizeof(float));
}

__attribute__((target("avx512f"))) static void write_avx512(const struct job *j, size_t nblocks,
                                                            float *y)
{
    const size_t out = nblocks * j->belems;
    const bool nt = out * sizeof(float) > STREAM_MIN_BYTES && (uintptr_t)y % 64 == 0;
    const __m512 zero = _mm512_setzero_ps();
    size_t k = 0;
    for (; nt && k + 16 <= out; k += 16)
        _mm512_stream_ps(y + k, zero);
    for (; k + 16 <= out; k += 16)
        _mm512_storeu_ps(y + k, zero);
    memset(y + k, 0, (out - k) * sizeof(float));
    _mm_sfence();
}

/* Decodes blocks [begin, end) of the job, by gguffs or ggml, or runs one
 * of the bound's passes on them. */
static void run_blocks(void *ctx, size_t begin, size_t end)
{
    const struct job *j = ctx;
    const uint8_t *s = j->src + begin * j->bbytes;
    float *d = j->dst + begin * j->belems;
    if (j->who == READ)
        read_avx512(j, s, end - begin, d);
    else if (j->who == WRITE)
        write_avx512(j, end - begin, d);
    else if (j->who == GGML && j->ggml_fn == NULL)
        memcpy(d, s, (end - begin) * j->bbytes); /* F32: ggml reads it as is */
    else if (j->who == GGML)
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

/* The blocks: `passes` consecutive slices of `nblocks` blocks each, a
 * pass decoding the next slice into the same output. */
struct source {
    const uint8_t *base;
    size_t nblocks, passes;
};

/* One run: `passes` decodes of nblocks blocks. On the pool, no chunk is
 * smaller than 1 MiB of output: waking a thread costs more than decoding a
 * smaller piece, so a request-sized buffer stays on the calling thread. */
static double time_run(struct job *j, const struct source *src, struct workers *pool)
{
    const double t0 = now();
    for (size_t k = 0; k < src->passes; k++) {
        j->src = src->base + k * src->nblocks * j->bbytes;
        if (pool != NULL)
            workers_run(pool, src->nblocks, (1 << 20) / (j->belems * sizeof(float)), run_blocks, j);
        else
            run_blocks(j, 0, src->nblocks);
    }
    return now() - t0;
}

/* Best GB/s (of FP32 out) of ours, ggml's and the bound (best[who]) over a
 * few runs after a warm-up run, all alternating so that a busy
 * neighbour slows all alike. */
static void measure(struct job *j, const struct source *src, struct workers *pool,
                    double best[WHO_COUNT])
{
    const double bytes = (double)src->nblocks * src->passes * j->belems * sizeof(float);
    double spent = 0;
    for (int w = 0; w < WHO_COUNT; w++)
        best[w] = 0;
    for (int rep = 0; rep < 16 && (rep < 5 || spent < 2.0); rep++) {
        for (int w = 0; w < (__builtin_cpu_supports("avx512f") ? WHO_COUNT : READ); w++) {
            j->who = (enum who)w;
            const double t = time_run(j, src, pool);
            spent += t;
            if (rep > 0 && bytes / t / 1e9 > best[w])
                best[w] = bytes / t / 1e9;
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
 * every decoder alike: fewer TLB misses on the 64 MiB runs. */
static void *big_alloc(size_t len)
{
    const size_t huge = 2u << 20;
    void *p = aligned_alloc(huge, (len + huge - 1) / huge * huge);
    if (p != NULL)
        madvise(p, len, MADV_HUGEPAGE); /* advice only: failure is harmless */
    return p;
}

/* The source for `out_bytes` of output: enough passes to write 64 MiB, from
 * as many distinct blocks (see the header), plus 64 bytes of slack for the
 * bound's last load. */
static struct source make_source(uint32_t type, size_t out_bytes)
{
    const size_t nblocks = out_bytes / sizeof(float) / rb_block_elems(type);
    const size_t passes = out_bytes >= (64 << 20) ? 1 : (64 << 20) / out_bytes;
    const size_t len = nblocks * passes * rb_block_bytes(type);
    uint8_t *base = big_alloc(len + 64);
    struct rb_rng rng = {type};
    if (base == NULL || rb_fill(type, nblocks * passes, &rng, base) != 0)
        return (struct source){NULL, 0, 0};
    memset(base + len, 0, 64);
    return (struct source){base, nblocks, passes};
}

/* The memory bound from its halves' best GB/s: the slower half (0 where
 * they were not run). */
static double bound(const double best[WHO_COUNT])
{
    return best[READ] < best[WRITE] ? best[READ] : best[WRITE];
}

/* A figure, or "-" for 0 (not measured). */
static const char *fig(double v, char buf[32])
{
    if (v <= 0)
        return "-";
    snprintf(buf, 32, "%.2f", v);
    return buf;
}

static int bench_type(void *lib, const struct ggml_traits *t, uint32_t type, size_t out_bytes,
                      struct workers *pool)
{
    struct job j = {.type = type, .belems = rb_block_elems(type), .bbytes = rb_block_bytes(type)};
    const struct source src = make_source(type, out_bytes);
    const size_t out = src.nblocks * j.belems * sizeof(float);
    j.dst = big_alloc(out);
    if (src.base == NULL || j.dst == NULL) {
        fprintf(stderr, "cpu_dequant: cannot prepare %s\n", t->type_name);
        return -1;
    }
    memset(j.dst, 0, out); /* fault the pages in */
    j.ggml_fn = type == GT_F32 ? NULL : ggml_decoder(lib, t);
    double one[WHO_COUNT], all[WHO_COUNT];
    measure(&j, &src, NULL, one);
    measure(&j, &src, pool, all);
    char b1[32], b2[32];
    printf("| %s | %s | %.2f | %.2f | %.2fx | %s | %.2f | %.2f | %.2fx | %s |\n", t->type_name,
           dequant_isa(type), one[OURS], one[GGML], one[OURS] / one[GGML], fig(bound(one), b1),
           all[OURS], all[GGML], all[OURS] / all[GGML], fig(bound(all), b2));
    fflush(stdout);
    free((void *)src.base);
    free(j.dst);
    return 0;
}

/* Benchmarks type `id` if ggml decodes it and it is wanted; a type ggml
 * decodes and gguffs does not gets a row saying so. -1 on a mismatch with
 * ggml or a failure. */
static int bench_id(void *lib, traits_fn traits, uint32_t id, const char *list, size_t out_bytes,
                    struct workers *pool)
{
    const struct ggml_traits *t = traits((int)id);
    if (t == NULL || t->type_name == NULL || t->blck_size == 0)
        return 0; /* an id this ggml has retired */
    if ((id != GT_F32 && ggml_decoder(lib, t) == NULL) || !wanted(list, t->type_name))
        return 0;
    if (!dequant_supported(id)) {
        printf("| %s | not decoded by gguffs | - | - | - | - | - | - | - | - |\n", t->type_name);
        return 0;
    }
    if ((size_t)t->type_size != rb_block_bytes(id) ||
        (uint32_t)t->blck_size != rb_block_elems(id)) {
        fprintf(stderr, "cpu_dequant: ggml's traits for type %u do not match\n", id);
        return -1;
    }
    return bench_type(lib, t, id, out_bytes, pool);
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
    printf("%zu KiB of FP32 out per run; all threads = %u pool threads + caller; bound = bytes "
           "moved, nothing computed\n\n",
           kib, workers_count(pool));
    printf("| type | isa | ours 1T GB/s | ggml 1T GB/s | ratio 1T | bound 1T GB/s | ours all GB/s "
           "| ggml all GB/s | ratio all | bound all GB/s |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n");
    /* Ids below GT_COUNT only: ggml_get_type_traits() does not check its
     * argument, and GT_COUNT is this ggml's type count (ggml_check types). */
    int rc = 0;
    for (uint32_t id = 0; id < GT_COUNT && rc == 0; id++)
        rc = bench_id(lib, traits, id, argc > 3 ? argv[3] : NULL, kib << 10, pool);
    workers_free(pool);
    return rc == 0 ? 0 : 1;
}
