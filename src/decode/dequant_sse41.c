/* dequant_sse41.c - the vector decoders at the SSE4.1 level.
 *
 * Compiled with -msse4.1 (src/meson.build), and called only after
 * dequant_cpu_level() found SSE4.1: everything in this file may use it.
 * Four floats per vector; fp16 scales and F16 data go through ggml's own
 * bit trick (no F16C at this level). The block decoders are the shared ones
 * of dequant_body.h, built on the primitives below.
 */
#include "decode/dequant_internal.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#if !defined(__SSE4_1__) || defined(__AVX__)
#error "dequant_sse41.c must be compiled with -msse4.1 and no AVX"
#endif

/* ------------------------------------------------------ primitives */

/* a + b with a as the first source operand, the one x86 returns when both
 * are NaN. ggml's x*d + m has the product first, so a NaN product must win
 * over a NaN min. An add is commutative to the compiler, which may swap the
 * operands of _mm_add_ps, so the instruction is written out; legacy SSE's
 * addps adds into its destination, which is therefore a. Nothing else needs
 * this: a subtract cannot be swapped, and a product q*d has at most one NaN
 * operand (q is a converted integer). */
static ALWAYS_INLINE __m128 add_ordered(__m128 a, __m128 b)
{
    __asm__("addps {%1, %0|%0, %1}" : "+x"(a) : "x"(b));
    return a;
}

/* Four floats at y: an ordinary store, or with nt a non-temporal one (y
 * 16-byte aligned). nt is a constant at every call, so inlining removes the
 * test. */
static ALWAYS_INLINE void st4(float *y, __m128 v, bool nt)
{
    if (nt)
        _mm_stream_ps(y, v);
    else
        _mm_storeu_ps(y, v);
}

static inline float h2f(uint16_t h)
{
    return dequant_fp16(h);
}

static inline __m128 i8x4_ps(__m128i q)
{
    return _mm_cvtepi32_ps(_mm_cvtepi8_epi32(q));
}

static ALWAYS_INLINE void put16(float *y, __m128i q, float d, bool nt)
{
    const __m128 vd = _mm_set1_ps(d);
    st4(y + 0, _mm_mul_ps(i8x4_ps(q), vd), nt);
    st4(y + 4, _mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 4)), vd), nt);
    st4(y + 8, _mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 8)), vd), nt);
    st4(y + 12, _mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 12)), vd), nt);
}

static ALWAYS_INLINE void put16m(float *y, __m128i q, float d, float m, bool nt)
{
    const __m128 vd = _mm_set1_ps(d), vm = _mm_set1_ps(m);
    const __m128 x0 = i8x4_ps(q), x1 = i8x4_ps(_mm_srli_si128(q, 4));
    const __m128 x2 = i8x4_ps(_mm_srli_si128(q, 8));
    const __m128 x3 = i8x4_ps(_mm_srli_si128(q, 12));
    st4(y + 0, add_ordered(_mm_mul_ps(x0, vd), vm), nt);
    st4(y + 4, add_ordered(_mm_mul_ps(x1, vd), vm), nt);
    st4(y + 8, add_ordered(_mm_mul_ps(x2, vd), vm), nt);
    st4(y + 12, add_ordered(_mm_mul_ps(x3, vd), vm), nt);
}

static ALWAYS_INLINE void put16s(float *y, __m128i q, float d, float m, bool nt)
{
    const __m128 vd = _mm_set1_ps(d), vm = _mm_set1_ps(m);
    st4(y + 0, _mm_sub_ps(_mm_mul_ps(i8x4_ps(q), vd), vm), nt);
    st4(y + 4, _mm_sub_ps(_mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 4)), vd), vm), nt);
    st4(y + 8, _mm_sub_ps(_mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 8)), vd), vm), nt);
    st4(y + 12, _mm_sub_ps(_mm_mul_ps(i8x4_ps(_mm_srli_si128(q, 12)), vd), vm), nt);
}

static ALWAYS_INLINE void put16p(float *y, const uint8_t *p, float d, bool nt)
{
    const __m128 vd = _mm_set1_ps(d);
    for (int k = 0; k < 16; k += 4) {
        const __m128i q = _mm_cvtepi8_epi32(_mm_cvtsi32_si128((int)rd32(p + k)));
        st4(y + k, _mm_mul_ps(_mm_cvtepi32_ps(q), vd), nt);
    }
}

static ALWAYS_INLINE void put16n(float *y, __m128i q, __m128i neg, float d, bool nt)
{
    const __m128 vd = _mm_set1_ps(d);
    const __m128i sign = _mm_set1_epi32(INT32_MIN);
    for (int k = 0; k < 16; k += 4, q = _mm_srli_si128(q, 4), neg = _mm_srli_si128(neg, 4)) {
        const __m128i m = _mm_and_si128(_mm_cvtepi8_epi32(neg), sign);
        st4(y + k, _mm_xor_ps(_mm_mul_ps(i8x4_ps(q), vd), _mm_castsi128_ps(m)), nt);
    }
}

#include "decode/dequant_body.h"

/* ------------------------------------------------------ fp16 / bf16 rows */

/* ggml's portable fp16 conversion, four lanes at a time. */
static inline __m128 fp16x4(__m128i h32)
{
    const __m128i w = _mm_slli_epi32(h32, 16);
    const __m128i sign = _mm_and_si128(w, _mm_set1_epi32((int)0x80000000u));
    const __m128i two_w = _mm_add_epi32(w, w);
    const __m128i norm_bits = _mm_add_epi32(_mm_srli_epi32(two_w, 4), _mm_set1_epi32(0xE0 << 23));
    const __m128 norm = _mm_mul_ps(_mm_castsi128_ps(norm_bits), _mm_set1_ps(0x1.0p-112f));
    const __m128i den_bits = _mm_or_si128(_mm_srli_epi32(two_w, 17), _mm_set1_epi32(126 << 23));
    const __m128 den = _mm_sub_ps(_mm_castsi128_ps(den_bits), _mm_set1_ps(0.5f));
    /* two_w < 2^27 (unsigned) exactly when its top five bits are zero. */
    const __m128i small = _mm_cmpeq_epi32(_mm_srli_epi32(two_w, 27), _mm_setzero_si128());
    const __m128 v = _mm_blendv_ps(norm, den, _mm_castsi128_ps(small));
    return _mm_or_ps(v, _mm_castsi128_ps(sign));
}

static ALWAYS_INLINE void deq_f16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = load16(s + 2 * i);
        st4(y + i, fp16x4(_mm_cvtepu16_epi32(h)), nt);
        st4(y + i + 4, fp16x4(_mm_cvtepu16_epi32(_mm_srli_si128(h, 8))), nt);
    }
    for (; i < n; i++)
        y[i] = dequant_fp16(rd16(s + 2 * i));
}

static ALWAYS_INLINE void deq_bf16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = load16(s + 2 * i);
        const __m128i zero = _mm_setzero_si128();
        st4(y + i, _mm_castsi128_ps(_mm_unpacklo_epi16(zero, h)), nt);
        st4(y + i + 4, _mm_castsi128_ps(_mm_unpackhi_epi16(zero, h)), nt);
    }
    bf16_tail(s, i, n, y);
}

DQ_STORE_VARIANTS(deq_f16)
DQ_STORE_VARIANTS(deq_bf16)

/* ------------------------------------------------------ this level's decoders */

const struct dequant_vec deq_f16_sse41 = {deq_f16_cached, deq_f16_stream};
const struct dequant_vec deq_bf16_sse41 = {deq_bf16_cached, deq_bf16_stream};
const struct dequant_vec deq_q4_0_sse41 = {deq_q4_0_cached, deq_q4_0_stream};
const struct dequant_vec deq_q4_1_sse41 = {deq_q4_1_cached, deq_q4_1_stream};
const struct dequant_vec deq_q5_0_sse41 = {deq_q5_0_cached, deq_q5_0_stream};
const struct dequant_vec deq_q5_1_sse41 = {deq_q5_1_cached, deq_q5_1_stream};
const struct dequant_vec deq_q8_0_sse41 = {deq_q8_0_cached, deq_q8_0_stream};
const struct dequant_vec deq_iq4_nl_sse41 = {deq_iq4_nl_cached, deq_iq4_nl_stream};
const struct dequant_vec deq_q2_k_sse41 = {deq_q2_k_cached, deq_q2_k_stream};
const struct dequant_vec deq_q3_k_sse41 = {deq_q3_k_cached, deq_q3_k_stream};
const struct dequant_vec deq_q4_k_sse41 = {deq_q4_k_cached, deq_q4_k_stream};
const struct dequant_vec deq_q5_k_sse41 = {deq_q5_k_cached, deq_q5_k_stream};
const struct dequant_vec deq_q6_k_sse41 = {deq_q6_k_cached, deq_q6_k_stream};
const struct dequant_vec deq_q8_k_sse41 = {deq_q8_k_cached, deq_q8_k_stream};
const struct dequant_vec deq_iq4_xs_sse41 = {deq_iq4_xs_cached, deq_iq4_xs_stream};
const struct dequant_vec deq_iq2_xxs_sse41 = {deq_iq2_xxs_cached, deq_iq2_xxs_stream};
const struct dequant_vec deq_iq2_xs_sse41 = {deq_iq2_xs_cached, deq_iq2_xs_stream};
const struct dequant_vec deq_iq2_s_sse41 = {deq_iq2_s_cached, deq_iq2_s_stream};
const struct dequant_vec deq_iq3_xxs_sse41 = {deq_iq3_xxs_cached, deq_iq3_xxs_stream};
const struct dequant_vec deq_iq3_s_sse41 = {deq_iq3_s_cached, deq_iq3_s_stream};
const struct dequant_vec deq_iq1_s_sse41 = {deq_iq1_s_cached, deq_iq1_s_stream};
const struct dequant_vec deq_iq1_m_sse41 = {deq_iq1_m_cached, deq_iq1_m_stream};
const struct dequant_vec deq_tq1_0_sse41 = {deq_tq1_0_cached, deq_tq1_0_stream};
const struct dequant_vec deq_tq2_0_sse41 = {deq_tq2_0_cached, deq_tq2_0_stream};
const struct dequant_vec deq_mxfp4_sse41 = {deq_mxfp4_cached, deq_mxfp4_stream};
const struct dequant_vec deq_nvfp4_sse41 = {deq_nvfp4_cached, deq_nvfp4_stream};
const struct dequant_vec deq_q1_0_sse41 = {deq_q1_0_cached, deq_q1_0_stream};
const struct dequant_vec deq_q2_0_sse41 = {deq_q2_0_cached, deq_q2_0_stream};
