/* gpu_exact - every GPU type's decode (the type table's gpu_kernel column:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) against the CPU's scalar
 * reference, with memcmp: signed zeros and NaN payloads must match too.
 *
 * Exits 77 when no GPU can be had (the reason is printed), so it runs
 * everywhere and means something only where a GPU is. Cases, for each
 * type: one block, every fp16 value in every fp16 field (both fields of
 * the types with two, so NaN meets NaN), random blocks from
 * tests/lib/random_blocks.h at the sizes around the pipeline's chunk
 * boundaries, pinned and pageable memory at odd offsets, and tiny grids.
 * Then: Q8_0 with every scale times 1 (the fp16 conversion itself, all
 * 65536 inputs), Q4_0 with every nibble and nibble 8 (signed zeros), eight
 * concurrent callers on different types, and a Q4_0 read of more than 2^31
 * elements when the host has the memory for it, through the pipeline and in
 * one kernel launch, so the 64-bit indexing and the grid stride are
 * exercised.
 *
 *   gpu_exact [TYPE...]
 *
 * Type names limit the run to those types (and the Q8_0 and Q4_0 cases to
 * runs that name them). The code object is the embedded one, or the file
 * Q4_0_DEQUANT_FATBIN / Q4_0_DEQUANT_HSACO names, as for the mount:
 * bench/kernel_variants checks each variant's build that way.
 */
#include "common/facts.h"
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "gpu/gpu.h"
#include "gpu/gpu_backend.h"
#include "random_blocks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHUNK_VALUES ((uint64_t)1 << 20) /* gpu.c's default chunk */

static struct gpu *gpu;
static int failures;

/* The types the type table gives a kernel. */
static uint32_t gpu_types[16];
static size_t n_gpu_types;

/* The geometry of the type under test. */
struct ty {
    uint32_t id;
    const char *name;
    uint64_t elems, bytes; /* per block */
    uint64_t chunk;        /* blocks per pipeline chunk */
};

static struct ty ty_of(uint32_t id)
{
    const struct ggml_type_info *ti = ggml_type_find(id);
    return (struct ty){id, ti->name, ti->block_elems, ti->block_bytes,
                       CHUNK_VALUES / ti->block_elems};
}

/* Random blocks from the shared generator (tests/lib/random_blocks.h),
 * which plants the hard scales (signed zeros, subnormals, infinities, NaNs)
 * and nibble 8. */
static void fill_random(const struct ty *t, uint8_t *b, uint64_t nblocks, uint64_t seed)
{
    struct rb_rng r = {seed};
    rb_fill(t->id, nblocks, &r, b);
}

/* gpu_decode(), with the backend used worded as the read path records it. */
static int gpu_path(struct gpu *g, uint32_t type, const void *src, uint64_t nblocks, float *dst,
                    const char **path, char *why, size_t whylen)
{
    enum gpu_backend used;
    int rc = gpu_decode(g, type, src, nblocks, dst, &used, why, whylen);
    if (rc == 0)
        *path = used == GPU_BACKEND_HIP ? "gpu-hip" : "gpu-cuda";
    return rc;
}

/* Say where dst and ref first differ, with the block's bytes. */
static void report_diff(const struct ty *t, const char *what, const uint8_t *src, const float *dst,
                        const float *ref, uint64_t nvalues)
{
    for (uint64_t i = 0; i < nvalues; i++) {
        uint32_t a, b;
        memcpy(&a, dst + i, 4);
        memcpy(&b, ref + i, 4);
        if (a == b)
            continue;
        const uint8_t *blk = src + (i / t->elems) * t->bytes;
        fprintf(stderr,
                "FAIL %s %s: element %llu (%llu of its block): gpu %08x, cpu %08x; block:", t->name,
                what, (unsigned long long)i, (unsigned long long)(i % t->elems), a, b);
        for (uint64_t k = 0; k < t->bytes && k < 48; k++)
            fprintf(stderr, " %02x", blk[k]);
        fprintf(stderr, "%s\n", t->bytes > 48 ? " ..." : "");
        return;
    }
}

/* Decode on both sides and compare; dst is the caller's (any memory). */
static int check_into(const struct ty *t, const char *what, const uint8_t *src, uint64_t nblocks,
                      float *dst)
{
    char why[512];
    const char *path = NULL;
    uint64_t nv = nblocks * t->elems;
    float *ref = malloc(nv * sizeof(float));
    if (!ref) {
        fprintf(stderr, "%s: out of memory\n", what);
        return -1;
    }
    memset(dst, 0xa5, nv * sizeof(float)); /* poison: every value must be written */
    int rc = gpu_path(gpu, t->id, src, nblocks, dst, &path, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "FAIL %s %s: gpu_decode: %s\n", t->name, what, why);
        failures++;
    } else if (dequant_blocks_scalar(t->id, src, nblocks, ref) != 0) {
        fprintf(stderr, "FAIL %s %s: no scalar decoder\n", t->name, what);
        failures++;
    } else if (memcmp(dst, ref, nv * sizeof(float)) != 0) {
        report_diff(t, what, src, dst, ref, nv);
        failures++;
    } else {
        printf("ok   %s %s (%llu blocks, %s)\n", t->name, what, (unsigned long long)nblocks, path);
    }
    free(ref);
    return rc;
}

static void check(const struct ty *t, const char *what, const uint8_t *src, uint64_t nblocks)
{
    float *dst = malloc(nblocks * t->elems * sizeof(float));
    if (!dst) {
        fprintf(stderr, "FAIL %s %s: out of memory\n", t->name, what);
        failures++;
        return;
    }
    check_into(t, what, src, nblocks, dst);
    free(dst);
}

/* Offsets of a type's fp16 fields in its block (-1: none). */
static void f16_fields(uint32_t type, int at[2])
{
    at[0] = type == GT_Q6_K ? 208 : 0;
    at[1] = type == GT_Q4_1 || type == GT_Q5_1 || type == GT_Q4_K || type == GT_Q5_K ? 2 : -1;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* 65536 random blocks, block i with fp16 value i in its first field and
 * the odd multiple 40503 i (a permutation of 16 bits) in its second, so
 * every value meets quants, and NaN meets NaN and infinity. */
static void check_all_scales(const struct ty *t)
{
    uint64_t n = 65536;
    int at[2];
    uint8_t *src = malloc(n * t->bytes);
    if (!src) {
        failures++;
        return;
    }
    f16_fields(t->id, at);
    fill_random(t, src, n, 3);
    for (uint64_t i = 0; i < n; i++) {
        put16(src + i * t->bytes + at[0], (uint32_t)i);
        if (at[1] >= 0)
            put16(src + i * t->bytes + at[1], (uint32_t)(i * 40503u));
    }
    check(t, "every fp16 value in every scale field", src, n);
    free(src);
}

/* Q8_0 with every fp16 scale times 1: the output is the converted scale
 * itself, so this is ggml's fp16 -> fp32 for all 65536 inputs. */
static void check_fp16_conversion(void)
{
    struct ty t = ty_of(GT_Q8_0);
    uint64_t n = 65536;
    uint8_t *src = malloc(n * t.bytes);
    if (!src) {
        failures++;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        put16(src + i * t.bytes, (uint32_t)i);
        memset(src + i * t.bytes + 2, 1, 32);
    }
    check(&t, "every fp16 scale times 1 (the conversion)", src, n);
    free(src);
}

/* Q4_0: every fp16 scale with all sixteen nibbles in both halves, then
 * nibble 8, which under a negative scale must give -0.0, not +0.0. */
static void check_q4_0_nibbles(void)
{
    struct ty t = ty_of(GT_Q4_0);
    uint64_t n = 65536;
    uint8_t *src = malloc(n * t.bytes);
    if (!src) {
        failures++;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *p = src + i * t.bytes;
        put16(p, (uint32_t)i);
        for (int j = 0; j < 16; j++)
            p[2 + j] = (uint8_t)(j | (15 - j) << 4);
    }
    check(&t, "every fp16 scale x every nibble", src, n);
    for (uint64_t i = 0; i < n; i++)
        memset(src + i * t.bytes + 2, 0x88, 16);
    check(&t, "nibble 8 (signed zeros)", src, n);
    free(src);
}

static void check_sizes(const struct ty *t)
{
    const uint64_t c = t->chunk;
    const uint64_t sizes[] = {1,    2,     3, 7,     31,    33,        255,
                              1023, c - 1, c, c + 1, 2 * c, 3 * c + 5, 5 * c - 3};
    uint8_t *src = malloc((5 * c + 1) * t->bytes);
    char what[64];
    if (!src) {
        failures++;
        return;
    }
    fill_random(t, src, 5 * c + 1, 42);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(what, sizeof what, "random blocks, n=%llu", (unsigned long long)sizes[i]);
        check(t, what, src, sizes[i]);
    }
    /* a source that starts at an odd address */
    check(t, "source one block in", src + t->bytes, 3 * c);
    memmove(src + 1, src, 1000 * t->bytes);
    check(t, "source misaligned by one byte", src + 1, 1000);
    free(src);
}

/* src and dst from gpu_host_alloc (pinned), whole and in sub-ranges. */
static void check_pinned(const struct ty *t)
{
    uint64_t n = 3 * t->chunk + 77, out = n * t->elems * sizeof(float);
    bool psrc, pdst;
    uint8_t *src = gpu_host_alloc(gpu, n * t->bytes + 1, &psrc);
    float *dst = gpu_host_alloc(gpu, out, &pdst);
    if (!src || !dst || !psrc || !pdst) {
        fprintf(stderr, "FAIL pinned: gpu_host_alloc gave %s memory\n",
                src && dst ? "pageable" : "no");
        failures++;
    } else {
        fill_random(t, src, n, 7);
        check_into(t, "pinned src and dst", src, n, dst);
        check_into(t, "pinned, inner ranges", src + 5 * t->bytes, n - 9, dst + 3 * t->elems);
        float *pageable = malloc(out);
        if (pageable)
            check_into(t, "pinned src, pageable dst", src, n, pageable);
        free(pageable);
        memmove(src + 1, src, n * t->bytes);
        check_into(t, "pinned src at an odd address", src + 1, n, dst);
    }
    if (src)
        gpu_host_free(gpu, src, n * t->bytes + 1, psrc);
    if (dst)
        gpu_host_free(gpu, dst, out, pdst);
}

/* Each thread decodes a type of its own (the kernels run side by side). */
struct worker {
    int id;
    int failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ty t = ty_of(gpu_types[(size_t)w->id % n_gpu_types]);
    struct rb_rng rng = {1000 + (uint64_t)w->id};
    for (int round = 0; round < 6; round++) {
        uint64_t n = 1 + rb_next(&rng) % (2 * t.chunk + 100), nv = n * t.elems;
        uint8_t *src = malloc(n * t.bytes);
        float *dst = malloc(nv * sizeof(float));
        float *ref = malloc(nv * sizeof(float));
        char why[512];
        const char *path;
        if (!src || !dst || !ref) {
            w->failed = 1;
        } else {
            fill_random(&t, src, n, rb_next(&rng));
            if (gpu_path(gpu, t.id, src, n, dst, &path, why, sizeof why) != 0) {
                fprintf(stderr, "FAIL thread %d (%s): %s\n", w->id, t.name, why);
                w->failed = 1;
            } else if (dequant_blocks_scalar(t.id, src, n, ref) != 0 ||
                       memcmp(dst, ref, nv * sizeof(float)) != 0) {
                fprintf(stderr, "FAIL thread %d: %llu %s blocks differ\n", w->id,
                        (unsigned long long)n, t.name);
                w->failed = 1;
            }
        }
        free(src);
        free(dst);
        free(ref);
    }
    return NULL;
}

static void check_concurrent(void)
{
    enum { NT = 8 };
    pthread_t th[NT];
    struct worker w[NT];
    int started = 0, bad = 0;
    for (int i = 0; i < NT; i++) {
        w[i] = (struct worker){.id = i};
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        bad += w[i].failed;
    }
    if (started < NT || bad) {
        fprintf(stderr, "FAIL concurrent: %d threads started, %d failed\n", started, bad);
        failures++;
    } else {
        printf("ok   %d concurrent callers on %zu types, 6 reads each\n", NT, n_gpu_types);
    }
}

/* Launch the type's kernel itself over n blocks with `grid` CTAs: host src
 * -> device -> host dst. 0, 1 when the device lacks the memory, -1 on
 * error. */
static int direct(const struct ty *t, const uint8_t *src, uint64_t n, float *dst, unsigned grid)
{
    const struct gpu_ops *be;
    struct gpu_rt *rt;
    gpu_dptr din = 0, dout = 0;
    gpu_stream s = NULL;
    gpu_fn kernel;
    char why[512];
    int rc;
    uint64_t in = n * t->bytes, out = n * t->elems * sizeof(float);
    if (gpu_runtime(gpu, t->id, &be, &rt, &kernel, why, sizeof why) != 0 || kernel == NULL) {
        fprintf(stderr, "FAIL direct launch (%s): %s\n", t->name, kernel ? why : "no kernel");
        return -1;
    }
    if (be->dev_alloc(rt, &din, in) != 0 || be->dev_alloc(rt, &dout, out) != 0) {
        rc = 1;
    } else {
        rc = be->stream_new(rt, &s);
        if (rc == 0)
            rc = be->h2d(rt, din, src, in, s);
        if (rc == 0)
            rc = be->launch(rt, kernel, s, din, dout, n, grid);
        if (rc == 0)
            rc = be->d2h(rt, dst, dout, out, s);
        if (rc == 0)
            rc = be->stream_sync(rt, s);
        if (rc != 0) {
            fprintf(stderr, "FAIL direct launch: %s\n", be->error_name(rt, rc));
            rc = -1;
        }
    }
    if (s)
        be->stream_free(rt, s);
    if (din)
        be->dev_free(rt, din);
    if (dout)
        be->dev_free(rt, dout);
    return rc;
}

/* Compare dst with the reference slice by slice; returns the first block of
 * the first differing slice, or n. */
static uint64_t compare_slices(const struct ty *t, const uint8_t *src, uint64_t n, const float *dst,
                               float *ref, uint64_t slice)
{
    for (uint64_t b = 0; b < n; b += slice) {
        uint64_t k = n - b < slice ? n - b : slice;
        dequant_blocks_scalar(t->id, src + b * t->bytes, k, ref);
        if (memcmp(dst + b * t->elems, ref, k * t->elems * sizeof(float)) != 0)
            return b;
    }
    return n;
}

/* Grids far smaller than the input: every thread strides many times. */
static void check_grids(const struct ty *t)
{
    static const unsigned grids[] = {1, 3, 7, 1000};
    uint64_t n = 4099, out = n * t->elems * sizeof(float);
    uint8_t *src = malloc(n * t->bytes);
    float *dst = malloc(out), *ref = malloc(out);
    if (src && dst && ref) {
        fill_random(t, src, n, 5);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            memset(dst, 0xa5, out);
            int rc = direct(t, src, n, dst, grids[i]);
            if (rc == 0 && compare_slices(t, src, n, dst, ref, n) == n) {
                printf("ok   %s kernel with a grid of %u CTAs (%llu blocks)\n", t->name, grids[i],
                       (unsigned long long)n);
            } else {
                fprintf(stderr, "FAIL %s kernel with a grid of %u CTAs\n", t->name, grids[i]);
                failures++;
            }
        }
    } else {
        failures++;
    }
    free(src);
    free(dst);
    free(ref);
}

/* More than 2^31 elements in one call: 64-bit indexing all the way. */
static void check_huge(void)
{
    struct ty t = ty_of(GT_Q4_0);
    uint64_t n = ((uint64_t)1 << 26) + 3, slice = (uint64_t)1 << 20;
    size_t need = n * (t.bytes + 32 * sizeof(float)) + slice * 32 * sizeof(float);
    long pages = sysconf(_SC_AVPHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0 || (uint64_t)pages * (uint64_t)psize < need + need / 4) {
        printf("skip > 2^31 elements: needs %.1f GiB of free memory\n", need / 1073741824.0);
        return;
    }
    uint8_t *src = malloc(n * t.bytes);
    float *dst = malloc(n * 32 * sizeof(float));
    float *ref = malloc(slice * 32 * sizeof(float));
    char why[512];
    const char *path;
    if (!src || !dst || !ref) {
        printf("skip > 2^31 elements: allocation failed\n");
    } else {
        fill_random(&t, src, n, 99);
        memset(dst, 0xa5, n * 32 * sizeof(float));
        if (gpu_path(gpu, t.id, src, n, dst, &path, why, sizeof why) != 0) {
            fprintf(stderr, "FAIL > 2^31 elements: %s\n", why);
            failures++;
        } else {
            uint64_t bad = compare_slices(&t, src, n, dst, ref, slice);
            if (bad != n) {
                fprintf(stderr, "FAIL > 2^31 elements: differs in blocks from %llu\n",
                        (unsigned long long)bad);
                failures++;
            } else {
                printf("ok   %llu elements in one call (%s)\n", (unsigned long long)n * 32, path);
            }
        }
        /* and in one kernel launch, with the grid gpu.c would use */
        memset(dst, 0xa5, n * 32 * sizeof(float));
        int rc = direct(&t, src, n, dst, gpu_grid_for(n * 32, 1u << 16));
        if (rc == 1) {
            printf("skip > 2^31 elements in one launch: not enough device memory\n");
        } else if (rc != 0 || compare_slices(&t, src, n, dst, ref, slice) != n) {
            fprintf(stderr, "FAIL > 2^31 elements in one kernel launch\n");
            failures++;
        } else {
            printf("ok   %llu elements in one kernel launch\n", (unsigned long long)n * 32);
        }
    }
    free(src);
    free(dst);
    free(ref);
}

/* Whether the arguments (type names; none: every type) name type id. */
static bool named(int argc, char **argv, uint32_t id)
{
    for (int i = 1; i < argc; i++)
        if (strcasecmp(argv[i], ggml_type_find(id)->name) == 0)
            return true;
    return argc < 2;
}

/* The types with a kernel, from the table, that the arguments name; 0 when
 * an argument names none of them. */
static int find_gpu_types(int argc, char **argv)
{
    for (uint32_t id = 0; id < 64 && n_gpu_types < sizeof gpu_types / sizeof gpu_types[0]; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti != NULL && ti->gpu_kernel != NULL && named(argc, argv, id))
            gpu_types[n_gpu_types++] = id;
    }
    for (int i = 1; i < argc; i++) {
        bool found = false;
        for (size_t k = 0; k < n_gpu_types; k++)
            found = found || strcasecmp(argv[i], ggml_type_find(gpu_types[k])->name) == 0;
        if (!found) {
            fprintf(stderr, "gpu_exact: %s: not a type with a GPU kernel\n", argv[i]);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    struct gpu_options opt = {.backend = GPU_BACKEND_AUTO,
                              .device = 0,
                              .fatbin = getenv("Q4_0_DEQUANT_FATBIN"),
                              .hsaco = getenv("Q4_0_DEQUANT_HSACO")};
    const char *dev = getenv("GGUFFS_GPU_DEVICE");
    if (dev)
        opt.device = atoi(dev);
    if (!find_gpu_types(argc, argv))
        return 2;
    gpu = gpu_new(&opt);
    if (!gpu) {
        fprintf(stderr, "gpu_new: out of memory\n");
        return 1;
    }
    struct ty q4 = ty_of(GT_Q4_0);
    uint8_t one[18];
    float out[32];
    char why[512];
    const char *path;
    fill_random(&q4, one, 1, 1);
    if (gpu_path(gpu, GT_Q4_0, one, 1, out, &path, why, sizeof why) != 0) {
        printf("SKIP: no GPU for gpu_decode (backend auto): %s\n", why);
        gpu_free(gpu);
        return 77;
    }
    struct facts *f = facts_new();
    if (f != NULL) {
        gpu_describe(gpu, f);
        for (size_t i = 0; i < facts_count(f); i++)
            printf("# %s: %s\n", facts_key(f, i), facts_value(f, i));
    }
    facts_free(f);
    for (size_t i = 0; i < n_gpu_types; i++) {
        struct ty t = ty_of(gpu_types[i]);
        uint8_t blk[256];
        fill_random(&t, blk, 1, 1);
        check(&t, "one block", blk, 1);
        check_all_scales(&t);
        check_sizes(&t);
        check_pinned(&t);
        check_grids(&t);
    }
    if (named(argc, argv, GT_Q8_0))
        check_fp16_conversion();
    if (named(argc, argv, GT_Q4_0))
        check_q4_0_nibbles();
    check_concurrent();
    if (named(argc, argv, GT_Q4_0))
        check_huge();
    gpu_free(gpu);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all GPU decodes bit-identical to the scalar reference\n");
    return 0;
}
