/* test_dequant.c - unit tests for the CPU decoders and the worker pool.
 *
 * Hand-computed golden blocks pin the semantics that are easy to lose (signed
 * zeros, NaN payloads, subnormal and infinite scales); random blocks hold
 * every vector level to the scalar reference with memcmp; dequant_range is
 * checked at awkward offsets; so are the streaming-store variants, directly
 * and through outputs large enough to be streamed, at every alignment; the
 * pool must run every index exactly once.
 * Agreement of the scalar code with ggml itself is the conformance suite's
 * job (tests/conformance).
 */
#include <check.h>
#include "check_run.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decode/dequant.h"
#include "decode/dequant_internal.h"
#include "format/ggml_types.h"
#include "random_blocks.h"
#include "read/workers.h"

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Decodes one block of `type` through every level the CPU has and checks
 * they agree with each other; returns the scalar result in out. */
static void decode_all_levels(uint32_t type, const uint8_t *blk, float *out)
{
    float other[256];
    ck_assert_int_eq(dequant_blocks_scalar(type, blk, 1, out), 0);
    for (int l = DQ_SSE41; l <= (int)dequant_cpu_level(); l++) {
        ck_assert_int_eq(dequant_blocks_at(type, (enum dequant_level)l, blk, 1, other), 0);
        ck_assert_msg(memcmp(out, other, rb_block_elems(type) * 4) == 0, "level %s differs",
                      dequant_level_name((enum dequant_level)l));
    }
}

/* ------------------------------------------------------------ golden */

START_TEST(q4_0_negative_scale_gives_negative_zero)
{
    uint8_t blk[18];
    float y[32];
    put16(blk, 0xBC00); /* d = -1 */
    memset(blk + 2, 0x88, 16);
    blk[2] = 0x1F; /* element 0: 15 - 8 = 7; element 16: 1 - 8 = -7 */
    decode_all_levels(GT_Q4_0, blk, y);
    ck_assert_uint_eq(bits(y[0]), bits(-7.0f));
    ck_assert_uint_eq(bits(y[16]), bits(7.0f));
    for (int j = 1; j < 32; j++)
        if (j != 16)
            ck_assert_uint_eq(bits(y[j]), 0x80000000u); /* -0.0, not +0.0 */
}
END_TEST

START_TEST(q4_0_special_scales)
{
    uint8_t blk[18];
    float y[32];
    memset(blk + 2, 0x88, 16);
    blk[2] = 0xF0;      /* element 0: nibble 0 (-8); element 16: nibble 15 (7) */
    put16(blk, 0x7E01); /* quiet NaN with a payload: every output carries it */
    decode_all_levels(GT_Q4_0, blk, y);
    ck_assert_uint_eq(bits(y[0]), 0x7FC02000u);
    ck_assert_uint_eq(bits(y[5]), 0x7FC02000u);
    put16(blk, 0x7C00); /* +Inf: 0 * Inf is the default NaN, -8 * Inf is -Inf */
    decode_all_levels(GT_Q4_0, blk, y);
    ck_assert_uint_eq(bits(y[0]), 0xFF800000u);
    ck_assert_uint_eq(bits(y[16]), 0x7F800000u);
    ck_assert_uint_eq(bits(y[1]), 0xFFC00000u);
    put16(blk, 0x0001); /* smallest subnormal, 2^-24 */
    decode_all_levels(GT_Q4_0, blk, y);
    ck_assert_uint_eq(bits(y[0]), bits(-8.0f * 0x1p-24f));
    ck_assert_uint_eq(bits(y[16]), bits(7.0f * 0x1p-24f));
    ck_assert_uint_eq(bits(y[1]), 0x00000000u);
}
END_TEST

START_TEST(q4_1_q5_0_q5_1_q8_0_golden)
{
    uint8_t b20[20] = {0}, b22[22] = {0}, b24[24] = {0}, b34[34] = {0};
    float y[32];
    put16(b20, 0x3C00), put16(b20 + 2, 0x3800); /* d = 1, m = 0.5 */
    b20[4] = 0x93;                              /* 3 -> 3.5, 9 -> 9.5 */
    decode_all_levels(GT_Q4_1, b20, y);
    ck_assert(y[0] == 3.5f && y[16] == 9.5f && y[1] == 0.5f);
    put16(b22, 0xBC00);                 /* d = -1 */
    b22[2] = 0x01, b22[4] = 0x01;       /* qh bits 0 and 16 */
    b22[6] = 0x30;                      /* element 0: 0|16 - 16 = 0 -> -0.0 */
    decode_all_levels(GT_Q5_0, b22, y); /* element 16: 3|16 - 16 = 3 -> -3 */
    ck_assert_uint_eq(bits(y[0]), 0x80000000u);
    ck_assert(y[16] == -3.0f && y[1] == 16.0f && y[17] == 16.0f);
    put16(b24, 0x4000), put16(b24 + 2, 0xBC00); /* d = 2, m = -1 */
    b24[4 + 3] = 0x80;                          /* qh bit 31: element 31 */
    b24[8 + 15] = 0x21;                         /* element 15: 1, element 31: 2|16 */
    decode_all_levels(GT_Q5_1, b24, y);
    ck_assert(y[15] == 1.0f && y[31] == 35.0f && y[0] == -1.0f);
    put16(b34, 0x4000); /* d = 2 */
    b34[2] = 0x80, b34[33] = 0x7F;
    decode_all_levels(GT_Q8_0, b34, y);
    ck_assert(y[0] == -256.0f && y[31] == 254.0f && y[1] == 0.0f);
}
END_TEST

START_TEST(k_quant_and_iq4_golden)
{
    uint8_t q4k[144] = {0}, iq4[18] = {0};
    float y[256];
    put16(q4k, 0x3C00), put16(q4k + 2, 0x3C00); /* d = dmin = 1 */
    q4k[4] = 2, q4k[8] = 1;                     /* sub-block 0: scale 2, min 1 */
    q4k[16] = 0x05;                             /* element 0: 2*5 - 1 = 9 */
    decode_all_levels(GT_Q4_K, q4k, y);
    ck_assert(y[0] == 9.0f && y[1] == -1.0f && y[32] == 0.0f);
    put16(iq4, 0xC000); /* d = -2 */
    iq4[2] = 0xF0;      /* element 0: -127 -> 254; element 16: 113 -> -226 */
    decode_all_levels(GT_IQ4_NL, iq4, y);
    ck_assert(y[0] == 254.0f && y[16] == -226.0f && y[1] == 254.0f);
}
END_TEST

/* Scale and min both NaN: ggml's compiled code returns the product's NaN
 * (the scale's payload), so the add or subtract of the min must keep the
 * product as its first operand. */
START_TEST(two_nans_keep_the_scale_payload)
{
    static const struct {
        uint32_t type;
        int d_at, m_at, sc_at;
    } cases[] = {{GT_Q4_1, 0, 2, -1},
                 {GT_Q5_1, 0, 2, -1},
                 {GT_Q4_K, 0, 2, 4},
                 {GT_Q2_K, 80, 82, 0},
                 {GT_Q5_K, 0, 2, 4}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint8_t blk[256] = {0};
        float y[256];
        put16(blk + cases[c].d_at, 0x7E01);
        put16(blk + cases[c].m_at, 0x7E02);
        if (cases[c].sc_at >= 0)
            memset(blk + cases[c].sc_at, 0x11, 12); /* nonzero scales and mins */
        decode_all_levels(cases[c].type, blk, y);
        for (uint32_t j = 0; j < rb_block_elems(cases[c].type); j++)
            ck_assert_msg(bits(y[j]) == 0x7FC02000u, "type %u element %u: %08x", cases[c].type, j,
                          bits(y[j]));
    }
}
END_TEST

/* Integers and f64 become FP32 rounded to nearest, ties to even; ggml has
 * no decoder for them to compare with, so the expected bits are written
 * out. */
START_TEST(integers_and_f64_round_to_nearest_even)
{
    static const int32_t i32[] = {16777217, 16777219, -16777219, INT32_MIN, INT32_MAX, -1};
    static const uint32_t i32_want[] = {0x4B800000, 0x4B800002, 0xCB800002,
                                        0xCF000000, 0x4F000000, 0xBF800000};
    /* 2^40 has an ulp of 2^17 as a float: 2^16 over it is a tie (to even:
     * down), 3 * 2^16 a tie (to even: up), 2^16 + 1 just past a tie. */
    static const int64_t i64[] = {INT64_MAX, INT64_MIN, (INT64_C(1) << 40) + (INT64_C(1) << 16),
                                  (INT64_C(1) << 40) + (INT64_C(3) << 16),
                                  (INT64_C(1) << 40) + (INT64_C(1) << 16) + 1};
    static const uint32_t i64_want[] = {0x5F000000, 0xDF000000, 0x53800000, 0x53800002, 0x53800001};
    static const uint64_t f64[] = {
        0x47EFFFFFF0000000, /* FLT_MAX + half an ulp: a tie, to even: +Inf */
        0x47EFFFFFEFFFFFFF, /* just below it: FLT_MAX */
        0x3FF0000010000000, /* 1 + 2^-24: a tie, to even: 1 */
        0x3FF0000030000000, /* 1 + 3 * 2^-24: a tie, to even: 1 + 2^-22 */
        0xB690000000000000, /* -2^-150: a tie, to even: -0 */
        0x36A8000000000000, /* 1.5 * 2^-149: a tie, to even: 2^-148 */
        0x7FF4000020000000, /* signalling NaN: made quiet, payload's top kept */
        0xFFF8000000000123, /* negative quiet NaN: low payload bits dropped */
    };
    static const uint32_t f64_want[] = {0x7F800000, 0x7F7FFFFF, 0x3F800000, 0x3F800002,
                                        0x80000000, 0x00000002, 0x7FE00001, 0xFFC00000};
    uint8_t buf[64];
    float y[8];
    memcpy(buf, i32, sizeof(i32));
    ck_assert_int_eq(dequant_blocks(GT_I32, buf, 6, y), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(bits(y[i]), i32_want[i]);
    memcpy(buf, i64, sizeof(i64));
    ck_assert_int_eq(dequant_blocks(GT_I64, buf, 5, y), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(bits(y[i]), i64_want[i]);
    memcpy(buf, f64, sizeof(f64));
    ck_assert_int_eq(dequant_blocks(GT_F64, buf, 8, y), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(bits(y[i]) == f64_want[i], "f64 %d: %08x", i, bits(y[i]));
    const uint8_t i8[2] = {0x80, 0x7F}, i16[4] = {0x00, 0x80, 0xFF, 0x7F};
    ck_assert_int_eq(dequant_blocks(GT_I8, i8, 2, y), 0);
    ck_assert(y[0] == -128.0f && y[1] == 127.0f);
    ck_assert_int_eq(dequant_blocks(GT_I16, i16, 2, y), 0);
    ck_assert(y[0] == -32768.0f && y[1] == 32767.0f);
}
END_TEST

/* An fp16 decoder written from the format's definition, for comparison. */
static uint32_t f16_by_definition(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const int exp = (h >> 10) & 31, mant = h & 0x3FF;
    if (exp == 31) /* Inf, or NaN made quiet with its payload kept */
        return sign | 0x7F800000u | (mant ? 0x00400000u | ((uint32_t)mant << 13) : 0);
    const float mag = exp == 0 ? ldexpf((float)mant, -24) : ldexpf((float)(1024 + mant), exp - 25);
    return sign | bits(mag);
}

START_TEST(f16_every_value)
{
    uint8_t src[2 * 65536];
    static float y[65536];
    for (uint32_t h = 0; h < 65536; h++)
        put16(src + 2 * h, (uint16_t)h);
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level(); l++) {
        ck_assert_int_eq(dequant_blocks_at(GT_F16, (enum dequant_level)l, src, 65536, y), 0);
        for (uint32_t h = 0; h < 65536; h++)
            ck_assert_msg(bits(y[h]) == f16_by_definition((uint16_t)h), "%s: %04x -> %08x",
                          dequant_level_name((enum dequant_level)l), h, bits(y[h]));
    }
}
END_TEST

START_TEST(bf16_is_a_shift)
{
    const uint16_t vals[] = {0x7F81, 0xFFC1, 0x0001, 0x8000, 0x3F80,
                             0x7F80, 0x1234, 0xABCD, 0x5555};
    uint8_t src[2 * 9];
    float y[9];
    for (int i = 0; i < 9; i++)
        put16(src + 2 * i, vals[i]);
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level(); l++) {
        ck_assert_int_eq(dequant_blocks_at(GT_BF16, (enum dequant_level)l, src, 9, y), 0);
        for (int i = 0; i < 9; i++) /* signalling NaNs stay signalling */
            ck_assert_uint_eq(bits(y[i]), (uint32_t)vals[i] << 16);
    }
}
END_TEST

/* ------------------------------------------------------- vector levels */

static const uint32_t all_types[] = {
    GT_F32,     GT_F16,   GT_BF16,  GT_Q4_0,  GT_Q4_1,  GT_Q5_0,   GT_Q5_1,   GT_Q8_0,    GT_Q2_K,
    GT_Q3_K,    GT_Q4_K,  GT_Q5_K,  GT_Q6_K,  GT_Q8_K,  GT_IQ4_NL, GT_IQ4_XS, GT_IQ2_XXS, GT_IQ2_XS,
    GT_IQ3_XXS, GT_IQ1_S, GT_IQ3_S, GT_IQ2_S, GT_IQ1_M, GT_TQ1_0,  GT_TQ2_0,  GT_MXFP4,   GT_NVFP4,
    GT_Q1_0,    GT_Q2_0,  GT_I8,    GT_I16,   GT_I32,   GT_I64,    GT_F64};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

/* nb random blocks of `type` and their decode by the scalar reference. */
struct sample {
    uint8_t *src;
    float *want;
    uint64_t n; /* elements */
};

static struct sample sample_new(uint32_t type, uint64_t nb, uint64_t seed)
{
    struct sample sm = {.n = nb * rb_block_elems(type)};
    struct rb_rng rng = {seed};
    sm.src = malloc(nb * rb_block_bytes(type));
    sm.want = malloc(sm.n * 4);
    ck_assert(sm.src && sm.want);
    ck_assert_int_eq(rb_fill(type, nb, &rng, sm.src), 0);
    ck_assert_int_eq(dequant_blocks_scalar(type, sm.src, nb, sm.want), 0);
    return sm;
}

static void sample_free(struct sample *sm)
{
    free(sm->src), free(sm->want);
}

START_TEST(every_level_matches_scalar)
{
    const uint32_t type = all_types[_i];
    const uint64_t nb = rb_block_elems(type) == 1 ? 70001 : 777; /* odd: vector tails */
    struct sample sm = sample_new(type, nb, 42 + type);
    const size_t n = sm.n;
    float *got = malloc(n * 4);
    ck_assert(got);
    for (int l = DQ_SSE41; l <= (int)dequant_cpu_level(); l++) {
        memset(got, 0x5A, n * 4);
        ck_assert_int_eq(dequant_blocks_at(type, (enum dequant_level)l, sm.src, nb, got), 0);
        ck_assert_msg(memcmp(sm.want, got, n * 4) == 0, "type %u level %s", type,
                      dequant_level_name((enum dequant_level)l));
    }
    memset(got, 0x5A, n * 4);
    ck_assert_int_eq(dequant_blocks(type, sm.src, nb, got), 0);
    ck_assert(memcmp(sm.want, got, n * 4) == 0);
    free(got);
    sample_free(&sm);
}
END_TEST

START_TEST(range_matches_slices)
{
    const uint32_t type = all_types[_i];
    const uint64_t nb = 9, be = rb_block_elems(type), n = nb * be;
    struct sample sm = sample_new(type, nb, 7 + type);
    float *part = malloc((n + 1) * 4);
    ck_assert(part);
    const uint64_t firsts[] = {0, 1, be - 1, be, be + 3, 2 * be - 1, n - 1, n / 2 + 1};
    const uint64_t counts[] = {0, 1, 2, be - 1, be, be + 1, 3 * be + 5};
    for (size_t f = 0; f < 8; f++) {
        for (size_t c = 0; c < 7; c++) {
            const uint64_t first = firsts[f] % n;
            const uint64_t count = first + counts[c] > n ? n - first : counts[c];
            part[count] = 12345.0f; /* guard: nothing written past the end */
            ck_assert_int_eq(dequant_range(type, sm.src, first, count, part), 0);
            ck_assert_msg(memcmp(part, sm.want + first, count * 4) == 0,
                          "type %u first %lu count %lu", type, (unsigned long)first,
                          (unsigned long)count);
            ck_assert(part[count] == 12345.0f);
        }
    }
    free(part);
    sample_free(&sm);
}
END_TEST

/* ----------------------------------------------------- streaming stores */

/* Room for n floats that start `off` (below 16) floats past a 64-byte
 * boundary, with at least 16 guard floats on each side, all set to the byte
 * 0x5A. *base is the allocation, to free. */
static float *guarded(uint64_t n, size_t off, float **base)
{
    const size_t len = ((n + 48) * 4 + 63) / 64 * 64;
    *base = aligned_alloc(64, len);
    ck_assert(*base != NULL);
    memset(*base, 0x5A, len);
    return *base + 16 + off;
}

static void guards_intact(const float *base, const float *got, uint64_t n)
{
    const unsigned char *b = (const unsigned char *)base, *after = (const unsigned char *)(got + n);
    for (const unsigned char *p = b; p < (const unsigned char *)got; p++)
        ck_assert_msg(*p == 0x5A, "byte written before the output");
    for (size_t i = 0; i < 16 * 4; i++)
        ck_assert_msg(after[i] == 0x5A, "byte written after the output");
}

/* Every streaming variant, called directly at every level, into output 16
 * bytes past a 64-byte boundary: as aligned as 16-byte streaming stores
 * need, and no more (a full AVX2 or AVX-512 store would fault there). */
START_TEST(stream_variants_match_scalar)
{
    const uint32_t type = all_types[_i];
    const uint64_t nb = rb_block_elems(type) == 1 ? 70001 : 777; /* odd: vector tails */
    struct sample sm = sample_new(type, nb, 99 + type);
    const uint64_t n = sm.n;
    float *base;
    const struct ggml_type_info *t = ggml_type_find(type);
    for (int l = DQ_SSE41; l <= (int)dequant_cpu_level(); l++) {
        const struct dequant_vec *v = t->vec[l];
        if (v == NULL)
            continue;
        ck_assert(v->cached != NULL && v->stream != NULL);
        float *got = guarded(n, 4, &base);
        v->stream(sm.src, nb, got);
        ck_assert_msg(memcmp(sm.want, got, n * 4) == 0, "type %u level %s", type,
                      dequant_level_name((enum dequant_level)l));
        guards_intact(base, got, n);
        free(base);
    }
    sample_free(&sm);
}
END_TEST

/* Output just over DQ_STREAM_MIN_BYTES is streamed by dequant_blocks and
 * dequant_range: at 0 and 4 floats past a 64-byte boundary straight away,
 * at 1 float after three ordinary stores for single-element types (block
 * types are not streamed there). Every case must match the scalar code. */
START_TEST(large_output_matches_scalar)
{
    const uint32_t type = all_types[_i];
    const uint64_t be = rb_block_elems(type);
    const uint64_t nb = DQ_STREAM_MIN_BYTES / 4 / be + 3, n = nb * be;
    struct sample sm = sample_new(type, nb, 123 + type);
    float *base;
    static const size_t offs[] = {0, 1, 4};
    for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
        float *got = guarded(n, offs[k], &base);
        ck_assert_int_eq(dequant_blocks(type, sm.src, nb, got), 0);
        ck_assert_msg(memcmp(sm.want, got, n * 4) == 0, "type %u at +%zu floats", type, offs[k]);
        guards_intact(base, got, n);
        free(base);
    }
    /* From element 1: the whole blocks start mid-output, at another offset. */
    float *got = guarded(n - 1, 0, &base);
    ck_assert_int_eq(dequant_range(type, sm.src, 1, n - 1, got), 0);
    ck_assert_msg(memcmp(sm.want + 1, got, (n - 1) * 4) == 0, "type %u range", type);
    guards_intact(base, got, n - 1);
    free(base);
    sample_free(&sm);
}
END_TEST

START_TEST(unknown_types_refused)
{
    float y[32];
    uint8_t blk[64] = {0};
    const uint32_t unknown[] = {4, 9, 31, 38, GT_COUNT, 1000}; /* retired, q8_1, none */
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        ck_assert(!dequant_supported(unknown[i]));
        ck_assert_int_eq(dequant_blocks(unknown[i], blk, 1, y), -1);
        ck_assert_int_eq(dequant_blocks_scalar(unknown[i], blk, 1, y), -1);
        ck_assert_int_eq(dequant_range(unknown[i], blk, 0, 1, y), -1);
    }
    size_t decodable = 0;
    for (uint32_t id = 0; id < GT_COUNT; id++)
        decodable += dequant_supported(id);
    ck_assert_uint_eq(decodable, NTYPES); /* all_types is every decodable type */
    for (size_t i = 0; i < NTYPES; i++) {
        const struct ggml_type_info *t = ggml_type_find(all_types[i]);
        ck_assert(dequant_supported(all_types[i]));
        /* The generator's block geometry is the type table's. */
        ck_assert(t != NULL && t->block_elems == rb_block_elems(all_types[i]) &&
                  t->block_bytes == rb_block_bytes(all_types[i]));
    }
}
END_TEST

/* The level chosen under GGUFFS_SIMD=cap, written into isa, and the best
 * level the same process sees on its CPU, into cpu. The choice is made once
 * per process, so a fresh one (this program, run with --isa; its main()
 * passes GGUFFS_SIMD to dequant_set_cap() as the daemon's does) reports both.
 * The child's own CPU level is the one to compare with: under valgrind the
 * parent sees no AVX-512 (valgrind hides it) while the child, which runs
 * natively, may. */
static void chosen_under(const char *cap, char isa[16], char cpu[16])
{
    int fd[2];
    /* readlink, not exec of /proc/self/exe: under valgrind that link names
     * valgrind itself, while readlink() of it gives this program's path. */
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    ck_assert(n > 0);
    self[n] = '\0';
    ck_assert_int_eq(pipe(fd), 0);
    const pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("GGUFFS_SIMD", cap, 1);
        dup2(fd[1], STDOUT_FILENO);
        execl(self, "test_dequant", "--isa", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char line[40] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(line) - 1 && (r = read(fd[0], line + got, sizeof(line) - 1 - got)) > 0)
        got += (size_t)r;
    close(fd[0]);
    ck_assert_int_eq(sscanf(line, "%15s %15s", isa, cpu), 2);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The cap is taken before the first decode and refused after it. */
START_TEST(cap_is_set_before_first_use)
{
    enum dequant_level l;
    ck_assert_int_eq(dequant_level_parse("avx2", &l), 0);
    ck_assert_int_eq(l, DQ_AVX2);
    ck_assert_int_eq(dequant_level_parse("sse4.1", &l), 0);
    ck_assert_int_eq(l, DQ_SSE41);
    ck_assert_int_eq(dequant_level_parse("AVX2", &l), -1);
    ck_assert_int_eq(dequant_level_parse("", &l), -1);
    ck_assert_str_eq(dequant_level_name(DQ_LEVELS), "scalar");
    float y[32];
    uint8_t blk[18] = {0};
    ck_assert_int_eq(dequant_blocks(GT_Q4_0, blk, 1, y), 0); /* the choice is made */
    ck_assert_int_eq(dequant_set_cap(DQ_SCALAR), -1);
    ck_assert_int_eq(dequant_set_cap(DQ_LEVELS), -1);
}
END_TEST

START_TEST(simd_env_caps_the_level)
{
    char isa[16], cpu[16];
    for (int l = DQ_SCALAR; l < DQ_LEVELS; l++) {
        const char *cap = dequant_level_name((enum dequant_level)l);
        chosen_under(cap, isa, cpu);
        /* A level above the CPU's is ignored: the CPU's best is used. */
        int best = DQ_SCALAR;
        while (best < DQ_LEVELS && strcmp(dequant_level_name((enum dequant_level)best), cpu) != 0)
            best++;
        ck_assert_int_lt(best, DQ_LEVELS);
        ck_assert_str_eq(
            isa, dequant_level_name(l <= best ? (enum dequant_level)l : (enum dequant_level)best));
    }
    chosen_under("bogus", isa, cpu);
    ck_assert_str_eq(isa, cpu);
}
END_TEST

/* ------------------------------------------------------------ workers */

struct coverage {
    unsigned char *hits;
    size_t grain, n;
    int bad_chunk;
};

static void mark(void *ctx, size_t begin, size_t end)
{
    struct coverage *c = ctx;
    if (end - begin < c->grain && end != c->n)
        __atomic_store_n(&c->bad_chunk, 1, __ATOMIC_RELAXED);
    for (size_t i = begin; i < end; i++)
        __atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
}

static void run_and_check(struct workers *w, size_t n, size_t grain)
{
    struct coverage c = {calloc(n ? n : 1, 1), grain ? grain : 1, n, 0};
    ck_assert(c.hits != NULL);
    workers_run(w, n, grain, mark, &c);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(c.hits[i] == 1, "n %zu grain %zu: index %zu ran %d times", n, grain, i,
                      c.hits[i]);
    ck_assert(!c.bad_chunk);
    free(c.hits);
}

START_TEST(workers_cover_every_index_once)
{
    const unsigned sizes[] = {0, 1, 3};
    const size_t ns[] = {0, 1, 2, 7, 100, 1000, 4097};
    const size_t grains[] = {0, 1, 3, 64, 5000};
    for (size_t p = 0; p < 3; p++) {
        struct workers *w = workers_new(sizes[p] ? sizes[p] : 1);
        ck_assert(w != NULL);
        ck_assert_uint_eq(workers_count(w), sizes[p] ? sizes[p] : 1);
        for (size_t i = 0; i < 7; i++)
            for (size_t g = 0; g < 5; g++)
                run_and_check(w, ns[i], grains[g]);
        workers_free(w);
    }
    struct workers *d = workers_new(0);
    ck_assert(d != NULL);
    run_and_check(d, 999, 10);
    workers_free(d);
}
END_TEST

static void *hammer(void *arg)
{
    for (int k = 0; k < 200; k++)
        run_and_check(arg, 257 + (size_t)k, 4);
    return NULL;
}

START_TEST(workers_concurrent_callers)
{
    struct workers *w = workers_new(2);
    pthread_t t[3];
    ck_assert(w != NULL);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, w), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    workers_free(w);
}
END_TEST

static Suite *dequant_suite(void)
{
    Suite *s = suite_create("dequant");
    TCase *g = tcase_create("golden");
    tcase_add_test(g, q4_0_negative_scale_gives_negative_zero);
    tcase_add_test(g, q4_0_special_scales);
    tcase_add_test(g, q4_1_q5_0_q5_1_q8_0_golden);
    tcase_add_test(g, k_quant_and_iq4_golden);
    tcase_add_test(g, two_nans_keep_the_scale_payload);
    tcase_add_test(g, integers_and_f64_round_to_nearest_even);
    tcase_add_test(g, f16_every_value);
    tcase_add_test(g, bf16_is_a_shift);
    suite_add_tcase(s, g);
    TCase *v = tcase_create("levels");
    tcase_add_loop_test(v, every_level_matches_scalar, 0, NTYPES);
    tcase_add_loop_test(v, range_matches_slices, 0, NTYPES);
    tcase_add_loop_test(v, stream_variants_match_scalar, 0, NTYPES);
    tcase_add_loop_test(v, large_output_matches_scalar, 0, NTYPES);
    tcase_add_test(v, unknown_types_refused);
    tcase_add_test(v, simd_env_caps_the_level);
    tcase_add_test(v, cap_is_set_before_first_use);
    tcase_set_timeout(v, 60);
    suite_add_tcase(s, v);
    TCase *w = tcase_create("workers");
    tcase_add_test(w, workers_cover_every_index_once);
    tcase_add_test(w, workers_concurrent_callers);
    tcase_set_timeout(w, 60);
    suite_add_tcase(s, w);
    return s;
}

int main(int argc, char **argv)
{
    /* GGUFFS_SIMD caps the level as it does in the daemon (scripts/valgrind
     * sets avx2: valgrind does not emulate AVX-512); the decoders themselves
     * read no environment. */
    const char *simd = getenv("GGUFFS_SIMD");
    enum dequant_level cap;
    if (simd != NULL && dequant_level_parse(simd, &cap) == 0 && dequant_set_cap(cap) != 0) {
        fprintf(stderr, "test_dequant: cannot cap the vector level\n");
        return 1;
    }
    if (argc == 2 && strcmp(argv[1], "--isa") == 0) {
        /* for simd_env_caps_the_level: the choice, and this process's CPU */
        printf("%s %s\n", dequant_isa(GT_Q4_0), dequant_level_name(dequant_cpu_level()));
        return 0;
    }
    return check_run(dequant_suite());
}
