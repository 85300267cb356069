/* test_convert.c - decode/convert.c against an independent formulation,
 * over a dense sample of the float inputs.
 *
 * The reference rounds in double arithmetic, where every step is exact:
 * the value scaled to the target's mantissa width is rounded to the
 * nearest integer, ties to even (nearbyint() in the default rounding mode),
 * and reassembled; NaN, overflow and the f16 subnormal range are handled as
 * PyTorch's CPU conversion defines them (convert.h). Nothing is shared with
 * convert.c's bit tricks. The conversions run through the array functions,
 * as the read path calls them, 1 Mi inputs at a time.
 *
 * All 2^32 inputs take a minute here (the reference is the slow part), so
 * the sample is: every sign, exponent and top 7 mantissa bits (the upper
 * 16 bits) with 64 patterns of the lower 16 (every combination of the bits
 * that decide f16's and bf16's rounding: 15-12, over low bits 0, 1, all
 * ones and one random), which holds every tie in both directions, every
 * overflow edge and the subnormal ranges; then 2^25 random inputs.
 */
#include "check_run.h"
#include "decode/convert.h"

#include <check.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* |v| rounded to `mant` fraction bits at exponent e (v in [2^e, 2^(e+1))),
 * as the integer significand; may carry to 2^(mant+1). */
static uint32_t round_sig(double v, int e, int mant)
{
    return (uint32_t)nearbyint(ldexp(v, mant - e));
}

static uint16_t ref_f16(float f)
{
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double v = fabs((double)f);

    if (isnan(f))
        return sign | 0x7E00;
    if (v >= 65520.0) /* halfway between 65504 and 2^16, and beyond: inf */
        return sign | 0x7C00;
    if (v < 0x1p-14) /* subnormal or zero: multiples of 2^-24 */
        return sign | (uint16_t)nearbyint(ldexp(v, 24));
    int e = ilogb(v);
    uint32_t q = round_sig(v, e, 10);
    if (q == 2048) {
        q = 1024;
        e++;
    }
    return sign | (uint16_t)((uint32_t)(e + 15) << 10 | (q - 1024));
}

static uint16_t ref_bf16(float f)
{
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double v = fabs((double)f);

    if (isnan(f))
        return 0x7FC0;
    if (v >= 0x1.FFp127) /* halfway between the largest bf16 and 2^128 */
        return sign | 0x7F80;
    if (v < 0x1p-126) /* subnormal or zero: multiples of 2^-133 */
        return sign | (uint16_t)nearbyint(ldexp(v, 133));
    int e = ilogb(v);
    uint32_t q = round_sig(v, e, 7);
    if (q == 256) {
        q = 128;
        e++;
    }
    return sign | (uint16_t)((uint32_t)(e + 127) << 7 | (q - 128));
}

/* Input number i of the sample (header comment). */
static uint32_t sample(uint64_t i, uint32_t *rnd)
{
    *rnd = *rnd * 1664525u + 1013904223u;
    if (i >= (UINT64_C(1) << 22))
        return *rnd;
    uint32_t p = (uint32_t)i & 63, low[4] = {0, 1, 0xFFF, *rnd & 0xFFF};
    return (uint32_t)(i >> 6) << 16 | (p & 15) << 12 | low[p >> 4];
}

START_TEST(dense_sample)
{
    float *in = malloc(CHUNK * sizeof(*in));
    uint16_t *h = malloc(CHUNK * sizeof(*h)), *b = malloc(CHUNK * sizeof(*b));
    uint64_t bad_h = 0, bad_b = 0, total = (UINT64_C(1) << 22) + (UINT64_C(1) << 25);
    uint32_t first_h = 0, first_b = 0, rnd = 12345;

    ck_assert(in && h && b);
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
    for (uint64_t base = 0; base < total; base += CHUNK) {
        for (uint32_t i = 0; i < CHUNK; i++)
            in[i] = float_of(sample(base + i, &rnd));
        convert_f32_to_f16(in, CHUNK, h);
        convert_f32_to_bf16(in, CHUNK, b);
        for (uint32_t i = 0; i < CHUNK; i++) {
            uint32_t u;
            memcpy(&u, &in[i], 4);
            if (h[i] != ref_f16(in[i]) && bad_h++ == 0)
                first_h = u;
            if (b[i] != ref_bf16(in[i]) && bad_b++ == 0)
                first_b = u;
        }
    }
    ck_assert_msg(bad_h == 0, "f16: %llu inputs differ, the first 0x%08x -> 0x%04x, want 0x%04x",
                  (unsigned long long)bad_h, first_h, convert_one_f16(float_of(first_h)),
                  ref_f16(float_of(first_h)));
    ck_assert_msg(bad_b == 0, "bf16: %llu inputs differ, the first 0x%08x -> 0x%04x, want 0x%04x",
                  (unsigned long long)bad_b, first_b, convert_one_bf16(float_of(first_b)),
                  ref_bf16(float_of(first_b)));
    free(in);
    free(h);
    free(b);
}
END_TEST

/* The cases the documentation names, spelled out. */
START_TEST(named_cases)
{
    static const struct {
        uint32_t in;
        uint16_t f16, bf16;
    } cases[] = {
        {0x00000000, 0x0000, 0x0000}, {0x80000000, 0x8000, 0x8000}, /* +-0 */
        {0x7F800000, 0x7C00, 0x7F80}, {0xFF800000, 0xFC00, 0xFF80}, /* +-inf */
        {0x7FC00001, 0x7E00, 0x7FC0}, {0xFF800001, 0xFE00, 0x7FC0}, /* NaN payloads */
        {0x477FE000, 0x7BFF, 0x4780},                               /* 65504 */
        {0x477FEFFF, 0x7BFF, 0x4780},                               /* just below 65520 */
        {0x477FF000, 0x7C00, 0x4780}, /* 65520: ties to even, up to inf */
        {0x3F801000, 0x3C00, 0x3F80}, /* 1 + 2^-11: f16 tie, down to even */
        {0x3F803000, 0x3C02, 0x3F80}, /* 1 + 3*2^-11: f16 tie, up to even */
        {0x3F808000, 0x3C04, 0x3F80}, /* 1 + 2^-8: bf16 tie, down to even */
        {0x3F818000, 0x3C0C, 0x3F82}, /* 1 + 3*2^-8: bf16 tie, up to even */
        {0x33000000, 0x0000, 0x3300}, /* 2^-25: f16 tie, down to 0 */
        {0x33C00000, 0x0002, 0x33C0}, /* 3*2^-25: f16 tie, up to 2^-23 */
        {0x00000001, 0x0000, 0x0000}, /* the smallest f32 subnormal */
        {0x7F7FFFFF, 0x7C00, 0x7F80}, /* FLT_MAX: bf16 rounds to inf */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        float f = float_of(cases[i].in);
        ck_assert_msg(convert_one_f16(f) == cases[i].f16, "f16 of 0x%08x: 0x%04x, want 0x%04x",
                      cases[i].in, convert_one_f16(f), cases[i].f16);
        ck_assert_msg(convert_one_bf16(f) == cases[i].bf16, "bf16 of 0x%08x: 0x%04x, want 0x%04x",
                      cases[i].in, convert_one_bf16(f), cases[i].bf16);
        ck_assert_msg(ref_f16(f) == cases[i].f16 && ref_bf16(f) == cases[i].bf16,
                      "the reference is wrong for 0x%08x", cases[i].in);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("convert");
    tcase_add_test(tc, named_cases);
    tcase_add_test(tc, dense_sample);
    suite_add_tcase(s, tc);
    return check_run(s);
}
