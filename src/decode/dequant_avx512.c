/* dequant_avx512.c - the vector decoders at the AVX-512 level.
 *
 * Compiled with -mavx512f -mavx2 -mf16c (src/meson.build; no FMA
 * contraction: -ffp-contract=off), and called only after
 * dequant_cpu_level() found AVX-512F, AVX2 and F16C, with the OS saving the
 * wide registers. Sixteen floats per vector: one put16 is one store. The
 * block decoders are the shared ones of dequant_body.h, built on the
 * primitives below.
 */
#include "decode/dequant_internal.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#if !defined(__AVX512F__) || !defined(__F16C__)
#error "dequant_avx512.c must be compiled with -mavx512f -mavx2 -mf16c"
#endif

/* ------------------------------------------------------ primitives */

/* a + b with a as the first source operand, the one x86 returns when both
 * are NaN: ggml's x*d + m has the product first. The compiler may swap the
 * operands of _mm512_add_ps (clang does), so the instruction is written
 * out. */
static ALWAYS_INLINE __m512 add_ordered(__m512 a, __m512 b)
{
    __m512 y;
    __asm__("vaddps {%2, %1, %0|%0, %1, %2}" : "=v"(y) : "v"(a), "v"(b));
    return y;
}

/* Sixteen floats at y: an ordinary store, or with nt four non-temporal
 * 16-byte stores (y 16-byte aligned; four 16-byte streams ran as fast as one
 * 64-byte stream on an AVX-512 Xeon, 19.5 vs 19.3 GB/s). */
static ALWAYS_INLINE void st16(float *y, __m512 v, bool nt)
{
    if (nt) {
        _mm_stream_ps(y, _mm512_castps512_ps128(v));
        _mm_stream_ps(y + 4, _mm512_extractf32x4_ps(v, 1));
        _mm_stream_ps(y + 8, _mm512_extractf32x4_ps(v, 2));
        _mm_stream_ps(y + 12, _mm512_extractf32x4_ps(v, 3));
    } else {
        _mm512_storeu_ps(y, v);
    }
}

static inline float h2f(uint16_t h)
{
    return _cvtsh_ss(h);
}

static ALWAYS_INLINE void put16(float *y, __m128i q, float d, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16(y, _mm512_mul_ps(a, _mm512_set1_ps(d)), nt);
}

static ALWAYS_INLINE void put16m(float *y, __m128i q, float d, float m, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16(y, add_ordered(_mm512_mul_ps(a, _mm512_set1_ps(d)), _mm512_set1_ps(m)), nt);
}

static ALWAYS_INLINE void put16s(float *y, __m128i q, float d, float m, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16(y, _mm512_sub_ps(_mm512_mul_ps(a, _mm512_set1_ps(d)), _mm512_set1_ps(m)), nt);
}

static ALWAYS_INLINE void put16p(float *y, const uint8_t *p, float d, bool nt)
{
    put16(y, _mm_loadu_si128((const __m128i *)p), d, nt);
}

static ALWAYS_INLINE void put16n(float *y, __m128i q, __m128i neg, float d, bool nt)
{
    const __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(d));
    const __m512i m = _mm512_and_si512(_mm512_cvtepi8_epi32(neg), _mm512_set1_epi32(INT32_MIN));
    st16(y, _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), m)), nt);
}

#include "decode/dequant_body.h"

/* ------------------------------------------------------ fp16 / bf16 rows */

static ALWAYS_INLINE void deq_f16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256((const __m256i *)(s + 2 * i));
        st16(y + i, _mm512_cvtph_ps(h), nt);
    }
    for (; i < n; i++)
        y[i] = _cvtsh_ss(rd16(s + 2 * i));
}

static ALWAYS_INLINE void deq_bf16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256((const __m256i *)(s + 2 * i));
        const __m512i u = _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
        st16(y + i, _mm512_castsi512_ps(u), nt);
    }
    bf16_tail(s, i, n, y);
}

DQ_STORE_VARIANTS(deq_f16)
DQ_STORE_VARIANTS(deq_bf16)

/* ------------------------------------------------------ this level's decoders */

const struct dequant_vec deq_f16_avx512 = {deq_f16_cached, deq_f16_stream};
const struct dequant_vec deq_bf16_avx512 = {deq_bf16_cached, deq_bf16_stream};
const struct dequant_vec deq_q4_0_avx512 = {deq_q4_0_cached, deq_q4_0_stream};
const struct dequant_vec deq_q4_1_avx512 = {deq_q4_1_cached, deq_q4_1_stream};
const struct dequant_vec deq_q5_0_avx512 = {deq_q5_0_cached, deq_q5_0_stream};
const struct dequant_vec deq_q5_1_avx512 = {deq_q5_1_cached, deq_q5_1_stream};
const struct dequant_vec deq_q8_0_avx512 = {deq_q8_0_cached, deq_q8_0_stream};
const struct dequant_vec deq_iq4_nl_avx512 = {deq_iq4_nl_cached, deq_iq4_nl_stream};
const struct dequant_vec deq_q2_k_avx512 = {deq_q2_k_cached, deq_q2_k_stream};
const struct dequant_vec deq_q3_k_avx512 = {deq_q3_k_cached, deq_q3_k_stream};
const struct dequant_vec deq_q4_k_avx512 = {deq_q4_k_cached, deq_q4_k_stream};
const struct dequant_vec deq_q5_k_avx512 = {deq_q5_k_cached, deq_q5_k_stream};
const struct dequant_vec deq_q6_k_avx512 = {deq_q6_k_cached, deq_q6_k_stream};
const struct dequant_vec deq_q8_k_avx512 = {deq_q8_k_cached, deq_q8_k_stream};
const struct dequant_vec deq_iq4_xs_avx512 = {deq_iq4_xs_cached, deq_iq4_xs_stream};
const struct dequant_vec deq_iq2_xxs_avx512 = {deq_iq2_xxs_cached, deq_iq2_xxs_stream};
const struct dequant_vec deq_iq2_xs_avx512 = {deq_iq2_xs_cached, deq_iq2_xs_stream};
const struct dequant_vec deq_iq2_s_avx512 = {deq_iq2_s_cached, deq_iq2_s_stream};
const struct dequant_vec deq_iq3_xxs_avx512 = {deq_iq3_xxs_cached, deq_iq3_xxs_stream};
const struct dequant_vec deq_iq3_s_avx512 = {deq_iq3_s_cached, deq_iq3_s_stream};
const struct dequant_vec deq_iq1_s_avx512 = {deq_iq1_s_cached, deq_iq1_s_stream};
const struct dequant_vec deq_iq1_m_avx512 = {deq_iq1_m_cached, deq_iq1_m_stream};
const struct dequant_vec deq_tq1_0_avx512 = {deq_tq1_0_cached, deq_tq1_0_stream};
const struct dequant_vec deq_tq2_0_avx512 = {deq_tq2_0_cached, deq_tq2_0_stream};
const struct dequant_vec deq_mxfp4_avx512 = {deq_mxfp4_cached, deq_mxfp4_stream};
const struct dequant_vec deq_nvfp4_avx512 = {deq_nvfp4_cached, deq_nvfp4_stream};
const struct dequant_vec deq_q1_0_avx512 = {deq_q1_0_cached, deq_q1_0_stream};
const struct dequant_vec deq_q2_0_avx512 = {deq_q2_0_cached, deq_q2_0_stream};
