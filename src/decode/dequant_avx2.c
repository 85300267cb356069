/* dequant_avx2.c - the vector decoders at the AVX2 level.
 *
 * Compiled with -mavx2 -mf16c (src/meson.build; no -mfma, and
 * -ffp-contract=off), and called only after dequant_cpu_level() found AVX2
 * and F16C: everything in this file may use them. Eight floats per vector;
 * fp16 goes through F16C, which gives the same bits as ggml's portable
 * conversion for all 65536 inputs (the unit tests check it). The block
 * decoders are the shared ones of dequant_body.h, built on the primitives
 * below.
 */
#include "decode/dequant_internal.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#if !defined(__AVX2__) || !defined(__F16C__) || defined(__AVX512F__)
#error "dequant_avx2.c must be compiled with -mavx2 -mf16c and no AVX-512"
#endif

/* ------------------------------------------------------ primitives */

/* a + b with a as the first source operand, the one x86 returns when both
 * are NaN: ggml's x*d + m has the product first. The compiler may swap the
 * operands of _mm256_add_ps (clang does), so the instruction is written
 * out; both operand orders, {AT&T|Intel}, name a as the first source. */
static ALWAYS_INLINE __m256 add_ordered(__m256 a, __m256 b)
{
    __m256 y;
    __asm__("vaddps {%2, %1, %0|%0, %1, %2}" : "=x"(y) : "x"(a), "x"(b));
    return y;
}

/* Eight floats at y: an ordinary store, or with nt two non-temporal 16-byte
 * stores (y 16-byte aligned: a large malloc'd buffer starts 16 bytes past a
 * page boundary, and the write-combining buffers merge the pieces into
 * whole lines anyway; 64 MiB of Q8_0-like output on one core: 15.6 GB/s
 * with 16-byte streams, 15.9 with 32-byte ones, 8.5 with ordinary stores). */
static ALWAYS_INLINE void st8(float *y, __m256 v, bool nt)
{
    if (nt) {
        _mm_stream_ps(y, _mm256_castps256_ps128(v));
        _mm_stream_ps(y + 4, _mm256_extractf128_ps(v, 1));
    } else {
        _mm256_storeu_ps(y, v);
    }
}

static inline float h2f(uint16_t h)
{
    return _cvtsh_ss(h);
}

static ALWAYS_INLINE void put16(float *y, __m128i q, float d, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8(y + 0, _mm256_mul_ps(a, vd), nt);
    st8(y + 8, _mm256_mul_ps(b, vd), nt);
}

static ALWAYS_INLINE void put16m(float *y, __m128i q, float d, float m, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8(y + 0, add_ordered(_mm256_mul_ps(a, vd), vm), nt);
    st8(y + 8, add_ordered(_mm256_mul_ps(b, vd), vm), nt);
}

static ALWAYS_INLINE void put16s(float *y, __m128i q, float d, float m, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8(y + 0, _mm256_sub_ps(_mm256_mul_ps(a, vd), vm), nt);
    st8(y + 8, _mm256_sub_ps(_mm256_mul_ps(b, vd), vm), nt);
}

static ALWAYS_INLINE void put16p(float *y, const uint8_t *p, float d, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d);
    const __m256i a = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
    const __m256i b = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)));
    st8(y + 0, _mm256_mul_ps(_mm256_cvtepi32_ps(a), vd), nt);
    st8(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(b), vd), nt);
}

static ALWAYS_INLINE void put16n(float *y, __m128i q, __m128i neg, float d, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d);
    const __m256i sign = _mm256_set1_epi32(INT32_MIN);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    const __m256i ma = _mm256_and_si256(_mm256_cvtepi8_epi32(neg), sign);
    const __m256i mb = _mm256_and_si256(_mm256_cvtepi8_epi32(_mm_srli_si128(neg, 8)), sign);
    st8(y + 0, _mm256_xor_ps(_mm256_mul_ps(a, vd), _mm256_castsi256_ps(ma)), nt);
    st8(y + 8, _mm256_xor_ps(_mm256_mul_ps(b, vd), _mm256_castsi256_ps(mb)), nt);
}

#include "decode/dequant_body.h"

/* ------------------------------------------------------ fp16 / bf16 rows */

static ALWAYS_INLINE void deq_f16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        st8(y + i, _mm256_cvtph_ps(load16(s + 2 * i)), nt);
        st8(y + i + 8, _mm256_cvtph_ps(load16(s + 2 * i + 16)), nt);
    }
    for (; i < n; i++)
        y[i] = _cvtsh_ss(rd16(s + 2 * i));
}

static ALWAYS_INLINE void deq_bf16_body(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i a = _mm256_cvtepu16_epi32(load16(s + 2 * i));
        const __m256i b = _mm256_cvtepu16_epi32(load16(s + 2 * i + 16));
        st8(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(a, 16)), nt);
        st8(y + i + 8, _mm256_castsi256_ps(_mm256_slli_epi32(b, 16)), nt);
    }
    bf16_tail(s, i, n, y);
}

DQ_STORE_VARIANTS(deq_f16)
DQ_STORE_VARIANTS(deq_bf16)

/* ------------------------------------------------------ this level's decoders */

const struct dequant_vec deq_f16_avx2 = {deq_f16_cached, deq_f16_stream};
const struct dequant_vec deq_bf16_avx2 = {deq_bf16_cached, deq_bf16_stream};
const struct dequant_vec deq_q4_0_avx2 = {deq_q4_0_cached, deq_q4_0_stream};
const struct dequant_vec deq_q4_1_avx2 = {deq_q4_1_cached, deq_q4_1_stream};
const struct dequant_vec deq_q5_0_avx2 = {deq_q5_0_cached, deq_q5_0_stream};
const struct dequant_vec deq_q5_1_avx2 = {deq_q5_1_cached, deq_q5_1_stream};
const struct dequant_vec deq_q8_0_avx2 = {deq_q8_0_cached, deq_q8_0_stream};
const struct dequant_vec deq_iq4_nl_avx2 = {deq_iq4_nl_cached, deq_iq4_nl_stream};
const struct dequant_vec deq_q2_k_avx2 = {deq_q2_k_cached, deq_q2_k_stream};
const struct dequant_vec deq_q3_k_avx2 = {deq_q3_k_cached, deq_q3_k_stream};
const struct dequant_vec deq_q4_k_avx2 = {deq_q4_k_cached, deq_q4_k_stream};
const struct dequant_vec deq_q5_k_avx2 = {deq_q5_k_cached, deq_q5_k_stream};
const struct dequant_vec deq_q6_k_avx2 = {deq_q6_k_cached, deq_q6_k_stream};
const struct dequant_vec deq_q8_k_avx2 = {deq_q8_k_cached, deq_q8_k_stream};
const struct dequant_vec deq_iq4_xs_avx2 = {deq_iq4_xs_cached, deq_iq4_xs_stream};
const struct dequant_vec deq_iq2_xxs_avx2 = {deq_iq2_xxs_cached, deq_iq2_xxs_stream};
const struct dequant_vec deq_iq2_xs_avx2 = {deq_iq2_xs_cached, deq_iq2_xs_stream};
const struct dequant_vec deq_iq2_s_avx2 = {deq_iq2_s_cached, deq_iq2_s_stream};
const struct dequant_vec deq_iq3_xxs_avx2 = {deq_iq3_xxs_cached, deq_iq3_xxs_stream};
const struct dequant_vec deq_iq3_s_avx2 = {deq_iq3_s_cached, deq_iq3_s_stream};
const struct dequant_vec deq_iq1_s_avx2 = {deq_iq1_s_cached, deq_iq1_s_stream};
const struct dequant_vec deq_iq1_m_avx2 = {deq_iq1_m_cached, deq_iq1_m_stream};
const struct dequant_vec deq_tq1_0_avx2 = {deq_tq1_0_cached, deq_tq1_0_stream};
const struct dequant_vec deq_tq2_0_avx2 = {deq_tq2_0_cached, deq_tq2_0_stream};
const struct dequant_vec deq_mxfp4_avx2 = {deq_mxfp4_cached, deq_mxfp4_stream};
const struct dequant_vec deq_nvfp4_avx2 = {deq_nvfp4_cached, deq_nvfp4_stream};
const struct dequant_vec deq_q1_0_avx2 = {deq_q1_0_cached, deq_q1_0_stream};
const struct dequant_vec deq_q2_0_avx2 = {deq_q2_0_cached, deq_q2_0_stream};
