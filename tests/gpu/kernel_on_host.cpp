/* kernel_on_host - the GPU kernels' own source (kernels/dequant.hip), built
 * as host C++ and run against the CPU's scalar reference, on every machine.
 *
 * gpu_exact checks the kernels on a GPU, and skips where there is none; this
 * checks the same source without one: the block layouts (which quant bits,
 * scale and output each thread takes), the grid-stride loop over several
 * CTAs, and the NaN rules of gpu_ref.h. Every operation's raw result goes
 * through GPU_RAW, which here turns any NaN into the canonical 0x7fffffff,
 * as a GPU multiply or add does; the reference's x86 NaN (the first NaN
 * operand made quiet, else 0xffc00000) must then come from gpu_ref.h alone.
 * What this cannot check is the device compiler (contraction, denormals):
 * that is gpu_exact's.
 *
 * kernel_host.h stands in for the little of the CUDA runtime the source
 * uses. Arguments, type names, limit the types checked.
 *
 * Also checks the premise of Q4_K and Q5_K's common pass, which widens
 * their fp16 scales with a conversion instruction (gpu_ref.h's xfp16):
 * that a hardware conversion agrees with the exact integer one (ref_fp16,
 * itself checked against the scalar reference here) on all 65536 inputs
 * but NaN, and gives NaN for NaN: the host's own conversion
 * (gguffs_fp16_hw's host build) and, where the CPU has it, F16C's
 * vcvtph2ps, which must agree on NaN payloads too.
 * The GPU's instruction is gpu_exact's to check, on the device.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel_host.h"

extern "C" {
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "random_blocks.h"
}

typedef void (*kernel_fn)(const uint8_t *, float *, uint64_t);

static const struct {
    uint32_t type;
    kernel_fn fn;
    const char *name;
} kernels[] = {
    {GT_Q4_0, q4_0_to_fp32_kernel, "q4_0_to_fp32_kernel"},
    {GT_Q4_1, q4_1_to_fp32_kernel, "q4_1_to_fp32_kernel"},
    {GT_Q5_0, q5_0_to_fp32_kernel, "q5_0_to_fp32_kernel"},
    {GT_Q5_1, q5_1_to_fp32_kernel, "q5_1_to_fp32_kernel"},
    {GT_Q8_0, q8_0_to_fp32_kernel, "q8_0_to_fp32_kernel"},
    {GT_Q4_K, q4_k_to_fp32_kernel, "q4_k_to_fp32_kernel"},
    {GT_Q5_K, q5_k_to_fp32_kernel, "q5_k_to_fp32_kernel"},
    {GT_Q6_K, q6_k_to_fp32_kernel, "q6_k_to_fp32_kernel"},
};

static int failures;

/* Run fn as a launch of `grid` CTAs of `cta` threads would. */
static void launch(kernel_fn fn, const uint8_t *src, float *dst, uint64_t nblocks, unsigned grid,
                   unsigned cta)
{
    gridDim.x = grid;
    blockDim.x = cta;
    for (blockIdx.x = 0; blockIdx.x < grid; blockIdx.x++)
        for (threadIdx.x = 0; threadIdx.x < cta; threadIdx.x++)
            fn(src, dst, nblocks);
}

static void check(uint32_t type, kernel_fn fn, const char *what, const uint8_t *src,
                  uint64_t nblocks, unsigned grid)
{
    const struct ggml_type_info *ti = ggml_type_find(type);
    uint64_t nv = nblocks * ti->block_elems;
    float *got = (float *)malloc(nv * sizeof(float)), *want = (float *)malloc(nv * sizeof(float));
    if (!got || !want) {
        fprintf(stderr, "FAIL %s %s: out of memory\n", ti->name, what);
        failures++;
    } else {
        memset(got, 0xa5, nv * sizeof(float));
        launch(fn, src, got, nblocks, grid, 64);
        if (dequant_blocks_scalar(type, src, nblocks, want) != 0) {
            fprintf(stderr, "FAIL %s: no scalar decoder\n", ti->name);
            failures++;
        } else if (memcmp(got, want, nv * sizeof(float)) != 0) {
            for (uint64_t i = 0; i < nv; i++) {
                uint32_t a = __float_as_uint(got[i]), b = __float_as_uint(want[i]);
                if (a != b) {
                    fprintf(stderr, "FAIL %s %s: element %llu: kernel %08x, cpu %08x\n", ti->name,
                            what, (unsigned long long)i, a, b);
                    break;
                }
            }
            failures++;
        } else {
            printf("ok   %s %s (%llu blocks)\n", ti->name, what, (unsigned long long)nblocks);
        }
    }
    free(got);
    free(want);
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

/* Random blocks (hard scales planted), then 65536 blocks with every fp16
 * value in the first field and a permutation of them in the second, so
 * NaN meets NaN and infinity. */
static void check_type(uint32_t type, kernel_fn fn)
{
    const struct ggml_type_info *ti = ggml_type_find(type);
    uint64_t n = 65536;
    uint8_t *src = (uint8_t *)malloc(n * ti->block_bytes);
    struct rb_rng rng = {(uint64_t)type * 7919};
    int at[2];
    if (!src) {
        failures++;
        return;
    }
    rb_fill(type, n, &rng, src);
    check(type, fn, "random blocks, a grid of 7 CTAs", src, 3001, 7);
    f16_fields(type, at);
    for (uint64_t i = 0; i < n; i++) {
        put16(src + i * ti->block_bytes + at[0], (uint32_t)i);
        if (at[1] >= 0)
            put16(src + i * ti->block_bytes + at[1], (uint32_t)(i * 40503u));
    }
    check(type, fn, "every fp16 value in every scale field", src, n, 4096);
    free(src);
}

__attribute__((target("f16c"))) static uint32_t f16c_bits(uint32_t h)
{
    return __float_as_uint(_cvtsh_ss((unsigned short)h));
}

/* A hardware conversion against ref_fp16 on every input: the same bits,
 * or (loose) for NaN inputs any NaN. */
static void check_fp16_against_ref(const char *what, uint32_t (*conv)(uint32_t), bool loose)
{
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t got = conv(h), want = __float_as_uint(ref_fp16(h));
        bool nan = ref_isnan_bits(want);
        if ((nan && loose) ? !ref_isnan_bits(got) : got != want) {
            fprintf(stderr, "FAIL %s: fp16 %04x gives %08x, the exact conversion %08x\n", what, h,
                    got, want);
            failures++;
            return;
        }
    }
    printf("ok   %s: all 65536 fp16 values as the exact conversion%s\n", what,
           loose ? " (NaN as some NaN)" : "");
}

static uint32_t host_hw_bits(uint32_t h)
{
    return __float_as_uint(gguffs_fp16_hw(h));
}

static void check_fp16_hw(void)
{
    check_fp16_against_ref("the host build's gguffs_fp16_hw", host_hw_bits, true);
    if (__builtin_cpu_supports("f16c"))
        check_fp16_against_ref("F16C vcvtph2ps", f16c_bits, false);
    else
        printf("--   F16C vcvtph2ps: not on this CPU\n");
}

/* Q8_0, every scale times 1: the fp16 conversion for all 65536 inputs. */
static void check_fp16(void)
{
    uint64_t n = 65536;
    uint8_t *src = (uint8_t *)malloc(n * 34);
    if (!src) {
        failures++;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        put16(src + i * 34, (uint32_t)i);
        memset(src + i * 34 + 2, 1, 32);
    }
    check(GT_Q8_0, q8_0_to_fp32_kernel, "every fp16 scale times 1", src, n, 4096);
    free(src);
}

/* Whether the arguments (type names; none: every type) ask for type. */
static bool wanted(int argc, char **argv, uint32_t type)
{
    for (int i = 1; i < argc; i++)
        if (strcasecmp(argv[i], ggml_type_find(type)->name) == 0)
            return true;
    return argc < 2;
}

int main(int argc, char **argv)
{
    size_t n = sizeof kernels / sizeof kernels[0];
    for (size_t i = 0; i < n; i++) {
        const struct ggml_type_info *ti = ggml_type_find(kernels[i].type);
        if (!ti->gpu_kernel || strcmp(ti->gpu_kernel, kernels[i].name) != 0) {
            fprintf(stderr, "FAIL the type table names %s for %s, this test %s\n",
                    ti->gpu_kernel ? ti->gpu_kernel : "no kernel", ti->name, kernels[i].name);
            failures++;
        }
        if (wanted(argc, argv, kernels[i].type))
            check_type(kernels[i].type, kernels[i].fn);
    }
    for (uint32_t id = 0; id < 64; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        bool known = false;
        for (size_t i = 0; ti && ti->gpu_kernel && i < n; i++)
            known = known || kernels[i].type == id;
        if (ti && ti->gpu_kernel && !known) {
            fprintf(stderr, "FAIL %s has a kernel (%s) this test does not run\n", ti->name,
                    ti->gpu_kernel);
            failures++;
        }
    }
    if (wanted(argc, argv, GT_Q8_0))
        check_fp16();
    check_fp16_hw();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("the kernels' source, run on the host, matches the scalar reference\n");
    return 0;
}
