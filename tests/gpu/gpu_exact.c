/* gpu_exact - the GPU's Q4_0 decode against the CPU's scalar reference,
 * with memcmp: signed zeros and NaN payloads must match too.
 *
 * Exits 77 when no GPU can be had (the reason is printed), so it runs
 * everywhere and means something only where a GPU is. Cases: one block, odd
 * counts, every fp16 scale with every nibble, the sizes around the
 * pipeline's chunk boundaries, pinned and pageable memory at odd offsets,
 * eight concurrent callers, and a read of more than 2^31 elements when the
 * host has the memory for it. The kernel is also launched directly (the
 * pipeline cuts reads into chunks): over all of that huge input at once, and
 * with tiny grids, so the 64-bit indexing and the grid stride are exercised.
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
#include <unistd.h>

#define Q4_0_BYTES 18
#define CHUNK ((uint64_t)1 << 15) /* gpu.c's default chunk, in blocks */

static struct gpu *gpu;
static int failures;

/* Random blocks from the shared generator (tests/lib/random_blocks.h),
 * which plants the hard scales (signed zeros, subnormals, infinities, NaNs)
 * and nibble 8. */
static void fill_random(uint8_t *b, uint64_t nblocks, uint64_t seed)
{
    struct rb_rng r = {seed};
    rb_fill(GT_Q4_0, nblocks, &r, b);
}

/* gpu_decode() of Q4_0, with the backend used worded as the read path
 * records it. */
static int gpu_q4_0(struct gpu *g, const void *src, uint64_t nblocks, float *dst, const char **path,
                    char *why, size_t whylen)
{
    enum gpu_backend used;
    int rc = gpu_decode(g, GT_Q4_0, src, nblocks, dst, &used, why, whylen);
    if (rc == 0)
        *path = used == GPU_BACKEND_HIP ? "gpu-hip" : "gpu-cuda";
    return rc;
}

/* Decode on both sides and compare; dst is the caller's (any memory). */
static int check_into(const char *what, const uint8_t *src, uint64_t nblocks, float *dst)
{
    char why[512];
    const char *path = NULL;
    float *ref = malloc(nblocks * 32 * sizeof(float));
    if (!ref) {
        fprintf(stderr, "%s: out of memory\n", what);
        return -1;
    }
    memset(dst, 0xa5, nblocks * 32 * sizeof(float)); /* poison: every value must be written */
    int rc = gpu_q4_0(gpu, src, nblocks, dst, &path, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "FAIL %s: gpu_q4_0: %s\n", what, why);
        failures++;
    } else if (dequant_blocks_scalar(GT_Q4_0, src, nblocks, ref) != 0) {
        fprintf(stderr, "FAIL %s: no scalar Q4_0 decoder\n", what);
        failures++;
    } else if (memcmp(dst, ref, nblocks * 32 * sizeof(float)) != 0) {
        for (uint64_t i = 0; i < nblocks * 32; i++) {
            uint32_t a, b;
            memcpy(&a, dst + i, 4);
            memcpy(&b, ref + i, 4);
            if (a != b) {
                const uint8_t *blk = src + (i / 32) * Q4_0_BYTES;
                fprintf(stderr, "FAIL %s: element %llu: gpu %08x, cpu %08x (d=%02x%02x)\n", what,
                        (unsigned long long)i, a, b, blk[1], blk[0]);
                break;
            }
        }
        failures++;
    } else {
        printf("ok   %s (%llu blocks, %s)\n", what, (unsigned long long)nblocks, path);
    }
    free(ref);
    return rc;
}

static void check(const char *what, const uint8_t *src, uint64_t nblocks)
{
    float *dst = malloc(nblocks * 32 * sizeof(float));
    if (!dst) {
        fprintf(stderr, "FAIL %s: out of memory\n", what);
        failures++;
        return;
    }
    check_into(what, src, nblocks, dst);
    free(dst);
}

/* Every fp16 scale, each with all sixteen nibbles in both halves. */
static void check_all_scales(void)
{
    uint64_t n = 65536;
    uint8_t *src = malloc(n * Q4_0_BYTES);
    if (!src) {
        failures++;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *p = src + i * Q4_0_BYTES;
        p[0] = (uint8_t)i;
        p[1] = (uint8_t)(i >> 8);
        for (int j = 0; j < 16; j++)
            p[2 + j] = (uint8_t)(j | (15 - j) << 4);
    }
    check("every fp16 scale x every nibble", src, n);
    /* nibble 8 with a negative scale must give -0.0, not +0.0 */
    for (uint64_t i = 0; i < n; i++)
        memset(src + i * Q4_0_BYTES + 2, 0x88, 16);
    check("nibble 8 (signed zeros)", src, n);
    free(src);
}

static void check_sizes(void)
{
    static const uint64_t sizes[] = {1,
                                     2,
                                     3,
                                     7,
                                     31,
                                     33,
                                     255,
                                     1023,
                                     4097,
                                     CHUNK - 1,
                                     CHUNK,
                                     CHUNK + 1,
                                     2 * CHUNK,
                                     3 * CHUNK + 5,
                                     5 * CHUNK - 3};
    uint8_t *src = malloc((5 * CHUNK + 1) * Q4_0_BYTES);
    char what[64];
    if (!src) {
        failures++;
        return;
    }
    fill_random(src, 5 * CHUNK + 1, 42);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(what, sizeof what, "random blocks, n=%llu", (unsigned long long)sizes[i]);
        check(what, src, sizes[i]);
    }
    /* a source that starts at an odd address */
    check("source one block in", src + Q4_0_BYTES, 3 * CHUNK);
    memmove(src + 1, src, 1000 * Q4_0_BYTES);
    check("source misaligned by one byte", src + 1, 1000);
    free(src);
}

/* src and dst from gpu_host_alloc (pinned), whole and in sub-ranges. */
static void check_pinned(void)
{
    uint64_t n = 3 * CHUNK + 77;
    bool psrc, pdst;
    uint8_t *src = gpu_host_alloc(gpu, n * Q4_0_BYTES + 1, &psrc);
    float *dst = gpu_host_alloc(gpu, n * 32 * sizeof(float), &pdst);
    if (!src || !dst || !psrc || !pdst) {
        fprintf(stderr, "FAIL pinned: gpu_host_alloc gave %s memory\n",
                src && dst ? "pageable" : "no");
        failures++;
    } else {
        fill_random(src, n, 7);
        check_into("pinned src and dst", src, n, dst);
        check_into("pinned, inner ranges", src + 5 * Q4_0_BYTES, n - 9, dst + 3 * 32);
        float *pageable = malloc(n * 32 * sizeof(float));
        if (pageable)
            check_into("pinned src, pageable dst", src, n, pageable);
        free(pageable);
        memmove(src + 1, src, n * Q4_0_BYTES);
        check_into("pinned src at an odd address", src + 1, n, dst);
    }
    if (src)
        gpu_host_free(gpu, src, n * Q4_0_BYTES + 1, psrc);
    if (dst)
        gpu_host_free(gpu, dst, n * 32 * sizeof(float), pdst);
}

struct worker {
    int id;
    int failed;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct rb_rng rng = {1000 + (uint64_t)w->id};
    for (int round = 0; round < 6; round++) {
        uint64_t n = 1 + rb_next(&rng) % (2 * CHUNK + 100);
        uint8_t *src = malloc(n * Q4_0_BYTES);
        float *dst = malloc(n * 32 * sizeof(float));
        float *ref = malloc(n * 32 * sizeof(float));
        char why[512];
        const char *path;
        if (!src || !dst || !ref) {
            w->failed = 1;
        } else {
            fill_random(src, n, rb_next(&rng));
            if (gpu_q4_0(gpu, src, n, dst, &path, why, sizeof why) != 0) {
                fprintf(stderr, "FAIL thread %d: %s\n", w->id, why);
                w->failed = 1;
            } else if (dequant_blocks_scalar(GT_Q4_0, src, n, ref) != 0 ||
                       memcmp(dst, ref, n * 32 * sizeof(float)) != 0) {
                fprintf(stderr, "FAIL thread %d: %llu blocks differ\n", w->id,
                        (unsigned long long)n);
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
    pthread_t t[NT];
    struct worker w[NT];
    int started = 0, bad = 0;
    for (int i = 0; i < NT; i++) {
        w[i] = (struct worker){.id = i};
        if (pthread_create(&t[i], NULL, worker_main, &w[i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].failed;
    }
    if (started < NT || bad) {
        fprintf(stderr, "FAIL concurrent: %d threads started, %d failed\n", started, bad);
        failures++;
    } else {
        printf("ok   %d concurrent callers, 6 reads each\n", NT);
    }
}

/* Launch the kernel itself over n blocks with `grid` CTAs: host src ->
 * device -> host dst. 0, 1 when the device lacks the memory, -1 on error. */
static int direct(const uint8_t *src, uint64_t n, float *dst, unsigned grid)
{
    const struct gpu_ops *be;
    struct gpu_rt *rt;
    gpu_dptr din = 0, dout = 0;
    gpu_stream s = NULL;
    gpu_fn kernel;
    char why[512];
    int rc;
    if (gpu_runtime(gpu, GT_Q4_0, &be, &rt, &kernel, why, sizeof why) != 0) {
        fprintf(stderr, "FAIL direct launch: %s\n", why);
        return -1;
    }
    if (be->dev_alloc(rt, &din, n * Q4_0_BYTES) != 0 || be->dev_alloc(rt, &dout, n * 128) != 0) {
        rc = 1;
    } else {
        rc = be->stream_new(rt, &s);
        if (rc == 0)
            rc = be->h2d(rt, din, src, n * Q4_0_BYTES, s);
        if (rc == 0)
            rc = be->launch(rt, kernel, s, din, dout, n, grid);
        if (rc == 0)
            rc = be->d2h(rt, dst, dout, n * 128, s);
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
static uint64_t compare_slices(const uint8_t *src, uint64_t n, const float *dst, float *ref,
                               uint64_t slice)
{
    for (uint64_t b = 0; b < n; b += slice) {
        uint64_t k = n - b < slice ? n - b : slice;
        dequant_blocks_scalar(GT_Q4_0, src + b * Q4_0_BYTES, k, ref);
        if (memcmp(dst + b * 32, ref, k * 32 * sizeof(float)) != 0)
            return b;
    }
    return n;
}

/* Grids far smaller than the input: every thread strides many times. */
static void check_grids(void)
{
    static const unsigned grids[] = {1, 3, 7, 1000};
    uint64_t n = 4099;
    uint8_t *src = malloc(n * Q4_0_BYTES);
    float *dst = malloc(n * 128), *ref = malloc(n * 128);
    if (src && dst && ref) {
        fill_random(src, n, 5);
        for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
            memset(dst, 0xa5, n * 128);
            int rc = direct(src, n, dst, grids[i]);
            if (rc == 0 && compare_slices(src, n, dst, ref, n) == n) {
                printf("ok   kernel with a grid of %u CTAs (%llu blocks)\n", grids[i],
                       (unsigned long long)n);
            } else {
                fprintf(stderr, "FAIL kernel with a grid of %u CTAs\n", grids[i]);
                failures++;
            }
        }
    }
    free(src);
    free(dst);
    free(ref);
}

/* More than 2^31 elements in one call: 64-bit indexing all the way. */
static void check_huge(void)
{
    uint64_t n = ((uint64_t)1 << 26) + 3, slice = (uint64_t)1 << 20;
    size_t need = n * (Q4_0_BYTES + 32 * sizeof(float)) + slice * 32 * sizeof(float);
    long pages = sysconf(_SC_AVPHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0 || (uint64_t)pages * (uint64_t)psize < need + need / 4) {
        printf("skip > 2^31 elements: needs %.1f GiB of free memory\n", need / 1073741824.0);
        return;
    }
    uint8_t *src = malloc(n * Q4_0_BYTES);
    float *dst = malloc(n * 32 * sizeof(float));
    float *ref = malloc(slice * 32 * sizeof(float));
    char why[512];
    const char *path;
    if (!src || !dst || !ref) {
        printf("skip > 2^31 elements: allocation failed\n");
    } else {
        fill_random(src, n, 99);
        memset(dst, 0xa5, n * 32 * sizeof(float));
        if (gpu_q4_0(gpu, src, n, dst, &path, why, sizeof why) != 0) {
            fprintf(stderr, "FAIL > 2^31 elements: %s\n", why);
            failures++;
        } else {
            uint64_t bad = compare_slices(src, n, dst, ref, slice);
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
        int rc = direct(src, n, dst, gpu_grid_for(n, 1u << 16));
        if (rc == 1) {
            printf("skip > 2^31 elements in one launch: not enough device memory\n");
        } else if (rc != 0 || compare_slices(src, n, dst, ref, slice) != n) {
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

int main(void)
{
    struct gpu_options opt = {.backend = GPU_BACKEND_AUTO, .device = 0};
    const char *dev = getenv("GGUFFS_GPU_DEVICE");
    if (dev)
        opt.device = atoi(dev);
    gpu = gpu_new(&opt);
    if (!gpu) {
        fprintf(stderr, "gpu_new: out of memory\n");
        return 1;
    }
    uint8_t one[Q4_0_BYTES];
    float out[32];
    char why[512];
    const char *path;
    fill_random(one, 1, 1);
    if (gpu_q4_0(gpu, one, 1, out, &path, why, sizeof why) != 0) {
        printf("SKIP: no GPU for gpu_q4_0 (backend auto): %s\n", why);
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
    check("one block", one, 1);
    check_all_scales();
    check_sizes();
    check_pinned();
    check_concurrent();
    check_grids();
    check_huge();
    gpu_free(gpu);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all GPU decodes bit-identical to the scalar reference\n");
    return 0;
}
