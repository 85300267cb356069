/* dequant_simd.c - vector decoders for SSE4.1, AVX2 and AVX-512.
 *
 * One binary runs everywhere: each function carries its own target attribute
 * and dequant.c calls it only after dequant_cpu_level() said the CPU (and the
 * OS, which must save the wider registers) supports it.
 *
 * Bit-exactness with ggml's scalar code rests on three rules kept here:
 *  - the quantized integer is formed exactly as ggml forms it (nibble, minus 8,
 *    or with the fifth bit...) and only then converted to float, which is exact;
 *  - then one multiply by the (sub-)block scale, then one add (Q4_1, Q5_1)
 *    or subtract (K-quants) of the minimum with the product as the first
 *    operand, as ggml's compiled code has it (it decides which NaN comes out
 *    when both are NaN; the add is inline assembly to keep it so, see
 *    add_ordered_L below);
 *  - no fused multiply-add: no FMA intrinsics, no "fma" target, and the file
 *    is built with -ffp-contract=off.
 * fp16 scales go through F16C where AVX2 is present (the same bits as ggml's
 * portable conversion for all 65536 inputs, checked by the unit tests) and
 * through dequant_fp16() otherwise.
 */
#include "decode/dequant_internal.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "format/ggml_types.h"

#define TGT_SSE41 __attribute__((target("sse4.1")))
#define TGT_AVX2 __attribute__((target("avx2,f16c")))
#define TGT_AVX512 __attribute__((target("avx512f,avx2,f16c")))

/* ggml's IQ4_NL codebook, as a pshufb table. */
static const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                         1,    13,   25,  38,  53,  69,  89,  113};

/* ------------------------------------------------------ level primitives
 *
 * st4/st8/st16: store one vector of floats at y. With nt false, an ordinary
 *         store; with nt true, non-temporal stores of 16 bytes each, which
 *         need y 16-byte aligned. nt is a constant at every call (see
 *         DEFINE_STORE_VARIANTS), so inlining removes the test.
 * put16: y[0..15] = (float)q[k] * d for the 16 signed bytes of q.
 * put16m: the same plus m, added after the multiply (add_ordered_L).
 * put16s: the same minus m, subtracted after the multiply (the K-quants).
 * put16p: put16 of 16 signed bytes read from memory (Q8_0, Q8_K), which
 *         sign-extends straight from the load.
 * h2f: an fp16 block scale to fp32.
 *
 * Why 16-byte streaming stores at every level, not 32 or 64: a large
 * malloc'd buffer starts 16 bytes past a page boundary, so a wider rule
 * would leave the common case unstreamed, and the write-combining buffers
 * merge consecutive 16-byte pieces into whole lines anyway. 64 MiB of
 * Q8_0-like output on one core: 15.6 GB/s with 16-byte streams, 15.9 with
 * 32-byte ones, 8.5 with ordinary stores (AVX2 EPYC); 19.5, 19.3 (64-byte)
 * and 7.2 (AVX-512 Xeon).
 */

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* add_ordered_L(a, b): a + b with a as the first source operand, the one
 * x86 returns when both are NaN. ggml's x*d + m has the product first, so
 * a NaN product must win over a NaN min. An add is commutative to the
 * compiler, which may swap the operands of _mm*_add_ps (clang does, at the
 * AVX2 and AVX-512 levels), so the instruction is written out. Both operand
 * orders, {AT&T|Intel}, name a as the first source; legacy SSE's addps
 * adds into its destination, which is therefore a. Nothing else needs
 * this: a subtract cannot be swapped, and a product q*d has at most one
 * NaN operand (q is a converted integer). */
TGT_SSE41 static ALWAYS_INLINE __m128 add_ordered_sse41(__m128 a, __m128 b)
{
    __asm__("addps {%1, %0|%0, %1}" : "+x"(a) : "x"(b));
    return a;
}

TGT_AVX2 static ALWAYS_INLINE __m256 add_ordered_avx2(__m256 a, __m256 b)
{
    __m256 y;
    __asm__("vaddps {%2, %1, %0|%0, %1, %2}" : "=x"(y) : "x"(a), "x"(b));
    return y;
}

TGT_AVX512 static ALWAYS_INLINE __m512 add_ordered_avx512(__m512 a, __m512 b)
{
    __m512 y;
    __asm__("vaddps {%2, %1, %0|%0, %1, %2}" : "=v"(y) : "v"(a), "v"(b));
    return y;
}

TGT_SSE41 static ALWAYS_INLINE void st4_sse41(float *y, __m128 v, bool nt)
{
    if (nt)
        _mm_stream_ps(y, v);
    else
        _mm_storeu_ps(y, v);
}

TGT_SSE41 static inline float h2f_sse41(uint16_t h)
{
    return dequant_fp16(h);
}

TGT_SSE41 static inline __m128 i8x4_ps_sse41(__m128i q)
{
    return _mm_cvtepi32_ps(_mm_cvtepi8_epi32(q));
}

TGT_SSE41 static ALWAYS_INLINE void put16_sse41(float *y, __m128i q, float d, bool nt)
{
    const __m128 vd = _mm_set1_ps(d);
    st4_sse41(y + 0, _mm_mul_ps(i8x4_ps_sse41(q), vd), nt);
    st4_sse41(y + 4, _mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 4)), vd), nt);
    st4_sse41(y + 8, _mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 8)), vd), nt);
    st4_sse41(y + 12, _mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 12)), vd), nt);
}

TGT_SSE41 static ALWAYS_INLINE void put16m_sse41(float *y, __m128i q, float d, float m, bool nt)
{
    const __m128 vd = _mm_set1_ps(d), vm = _mm_set1_ps(m);
    const __m128 x0 = i8x4_ps_sse41(q), x1 = i8x4_ps_sse41(_mm_srli_si128(q, 4));
    const __m128 x2 = i8x4_ps_sse41(_mm_srli_si128(q, 8));
    const __m128 x3 = i8x4_ps_sse41(_mm_srli_si128(q, 12));
    st4_sse41(y + 0, add_ordered_sse41(_mm_mul_ps(x0, vd), vm), nt);
    st4_sse41(y + 4, add_ordered_sse41(_mm_mul_ps(x1, vd), vm), nt);
    st4_sse41(y + 8, add_ordered_sse41(_mm_mul_ps(x2, vd), vm), nt);
    st4_sse41(y + 12, add_ordered_sse41(_mm_mul_ps(x3, vd), vm), nt);
}

TGT_SSE41 static ALWAYS_INLINE void put16s_sse41(float *y, __m128i q, float d, float m, bool nt)
{
    const __m128 vd = _mm_set1_ps(d), vm = _mm_set1_ps(m);
    st4_sse41(y + 0, _mm_sub_ps(_mm_mul_ps(i8x4_ps_sse41(q), vd), vm), nt);
    st4_sse41(y + 4, _mm_sub_ps(_mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 4)), vd), vm), nt);
    st4_sse41(y + 8, _mm_sub_ps(_mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 8)), vd), vm), nt);
    st4_sse41(y + 12, _mm_sub_ps(_mm_mul_ps(i8x4_ps_sse41(_mm_srli_si128(q, 12)), vd), vm), nt);
}

TGT_SSE41 static ALWAYS_INLINE void put16p_sse41(float *y, const uint8_t *p, float d, bool nt)
{
    const __m128 vd = _mm_set1_ps(d);
    for (int k = 0; k < 16; k += 4) {
        const __m128i q = _mm_cvtepi8_epi32(_mm_cvtsi32_si128((int)rd32(p + k)));
        st4_sse41(y + k, _mm_mul_ps(_mm_cvtepi32_ps(q), vd), nt);
    }
}

TGT_AVX2 static ALWAYS_INLINE void st8_avx2(float *y, __m256 v, bool nt)
{
    if (nt) {
        _mm_stream_ps(y, _mm256_castps256_ps128(v));
        _mm_stream_ps(y + 4, _mm256_extractf128_ps(v, 1));
    } else {
        _mm256_storeu_ps(y, v);
    }
}

TGT_AVX2 static inline float h2f_avx2(uint16_t h)
{
    return _cvtsh_ss(h);
}

TGT_AVX2 static ALWAYS_INLINE void put16_avx2(float *y, __m128i q, float d, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8_avx2(y + 0, _mm256_mul_ps(a, vd), nt);
    st8_avx2(y + 8, _mm256_mul_ps(b, vd), nt);
}

TGT_AVX2 static ALWAYS_INLINE void put16m_avx2(float *y, __m128i q, float d, float m, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8_avx2(y + 0, add_ordered_avx2(_mm256_mul_ps(a, vd), vm), nt);
    st8_avx2(y + 8, add_ordered_avx2(_mm256_mul_ps(b, vd), vm), nt);
}

TGT_AVX2 static ALWAYS_INLINE void put16s_avx2(float *y, __m128i q, float d, float m, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    const __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
    const __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8)));
    st8_avx2(y + 0, _mm256_sub_ps(_mm256_mul_ps(a, vd), vm), nt);
    st8_avx2(y + 8, _mm256_sub_ps(_mm256_mul_ps(b, vd), vm), nt);
}

TGT_AVX2 static ALWAYS_INLINE void put16p_avx2(float *y, const uint8_t *p, float d, bool nt)
{
    const __m256 vd = _mm256_set1_ps(d);
    const __m256i a = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
    const __m256i b = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)));
    st8_avx2(y + 0, _mm256_mul_ps(_mm256_cvtepi32_ps(a), vd), nt);
    st8_avx2(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(b), vd), nt);
}

TGT_AVX512 static ALWAYS_INLINE void st16_avx512(float *y, __m512 v, bool nt)
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

TGT_AVX512 static inline float h2f_avx512(uint16_t h)
{
    return _cvtsh_ss(h);
}

TGT_AVX512 static ALWAYS_INLINE void put16_avx512(float *y, __m128i q, float d, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16_avx512(y, _mm512_mul_ps(a, _mm512_set1_ps(d)), nt);
}

TGT_AVX512 static ALWAYS_INLINE void put16m_avx512(float *y, __m128i q, float d, float m, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16_avx512(y, add_ordered_avx512(_mm512_mul_ps(a, _mm512_set1_ps(d)), _mm512_set1_ps(m)), nt);
}

TGT_AVX512 static ALWAYS_INLINE void put16s_avx512(float *y, __m128i q, float d, float m, bool nt)
{
    const __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
    st16_avx512(y, _mm512_sub_ps(_mm512_mul_ps(a, _mm512_set1_ps(d)), _mm512_set1_ps(m)), nt);
}

TGT_AVX512 static ALWAYS_INLINE void put16p_avx512(float *y, const uint8_t *p, float d, bool nt)
{
    put16_avx512(y, _mm_loadu_si128((const __m128i *)p), d, nt);
}

/* 0x10 in byte k where bit k of the low 16 bits of `bits` is set: the fifth
 * bit of Q5_0/Q5_1 quants. Uses SSSE3's pshufb, present at every level. */
TGT_SSE41 static inline __m128i fifth_bits(uint32_t bits)
{
    const __m128i spread =
        _mm_shuffle_epi8(_mm_cvtsi32_si128((int)bits), _mm_set_epi64x(0x0101010101010101, 0));
    const __m128i others = _mm_set1_epi64x(0x7fbfdfeff7fbfdfe);
    const __m128i set = _mm_cmpeq_epi8(_mm_or_si128(spread, others), _mm_set1_epi8(-1));
    return _mm_and_si128(set, _mm_set1_epi8(0x10));
}

TGT_SSE41 static inline __m128i lo_nibbles(__m128i q)
{
    return _mm_and_si128(q, _mm_set1_epi8(0x0F));
}

TGT_SSE41 static inline __m128i hi_nibbles(__m128i q)
{
    return _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F));
}

static inline __m128i load16(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}

/* ---------------------------------------------------- K-quant helpers
 * The same unpacking as ggml's scalar code (see dequant.c). */

/* ggml's get_scale_min_k4. */
static inline __attribute__((always_inline)) void scale_min_k4(int j, const uint8_t *q, uint8_t *d,
                                                               uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* 16 in byte k where bit `bit` of qh byte k is set: Q5_K's fifth bit. */
TGT_SSE41 static inline __m128i bit16(__m128i qh, int bit)
{
    const __m128i u = _mm_set1_epi8((char)(1 << bit));
    const __m128i set = _mm_cmpeq_epi8(_mm_and_si128(qh, u), u);
    return _mm_and_si128(set, _mm_set1_epi8(16));
}

/* Q6_K's four 16-quant groups from ql[l], ql[l + 32] and qh[l], each value
 * (low four bits | two high bits << 4) - 32. Byte-wise shifts of masked
 * values through 16-bit lanes: no bit crosses into the neighbouring byte. */
TGT_SSE41 static inline void q6_k_quants(__m128i l0, __m128i l1, __m128i h, __m128i q[4])
{
    const __m128i k32 = _mm_set1_epi8(32);
    const __m128i h0 = _mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi8(0x03)), 4);
    const __m128i h1 = _mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi8(0x0C)), 2);
    const __m128i h2 = _mm_and_si128(h, _mm_set1_epi8(0x30));
    const __m128i h3 = _mm_srli_epi16(_mm_and_si128(h, _mm_set1_epi8((char)0xC0)), 2);
    q[0] = _mm_sub_epi8(_mm_or_si128(lo_nibbles(l0), h0), k32);
    q[1] = _mm_sub_epi8(_mm_or_si128(lo_nibbles(l1), h1), k32);
    q[2] = _mm_sub_epi8(_mm_or_si128(hi_nibbles(l0), h2), k32);
    q[3] = _mm_sub_epi8(_mm_or_si128(hi_nibbles(l1), h3), k32);
}

/* ------------------------------------------------------- block decoders
 *
 * The same seven decoders at every level, written once: L is the level
 * suffix, TGT its target attribute. Each works on 16-element halves, so one
 * 128-bit integer register carries the quants whatever the float width.
 * nt picks the kind of store (see st4); DEFINE_STORE_VARIANTS below makes
 * the callable decoders, one per value of it.
 */
#define DEFINE_BLOCK_DECODERS(L, TGT)                                                              \
    TGT static ALWAYS_INLINE void q4_0_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        const __m128i k8 = _mm_set1_epi8(8);                                                       \
        for (uint64_t i = 0; i < nb; i++, s += 18, y += 32) {                                      \
            const float d = h2f_##L(rd16(s));                                                      \
            const __m128i q = load16(s + 2);                                                       \
            put16_##L(y, _mm_sub_epi8(lo_nibbles(q), k8), d, nt);                                  \
            put16_##L(y + 16, _mm_sub_epi8(hi_nibbles(q), k8), d, nt);                             \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q4_1_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 20, y += 32) {                                      \
            const float d = h2f_##L(rd16(s)), m = h2f_##L(rd16(s + 2));                            \
            const __m128i q = load16(s + 4);                                                       \
            put16m_##L(y, lo_nibbles(q), d, m, nt);                                                \
            put16m_##L(y + 16, hi_nibbles(q), d, m, nt);                                           \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q5_0_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        const __m128i k16 = _mm_set1_epi8(16);                                                     \
        for (uint64_t i = 0; i < nb; i++, s += 22, y += 32) {                                      \
            const float d = h2f_##L(rd16(s));                                                      \
            const uint32_t qh = rd32(s + 2);                                                       \
            const __m128i q = load16(s + 6);                                                       \
            const __m128i lo = _mm_or_si128(lo_nibbles(q), fifth_bits(qh));                        \
            const __m128i hi = _mm_or_si128(hi_nibbles(q), fifth_bits(qh >> 16));                  \
            put16_##L(y, _mm_sub_epi8(lo, k16), d, nt);                                            \
            put16_##L(y + 16, _mm_sub_epi8(hi, k16), d, nt);                                       \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q5_1_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 24, y += 32) {                                      \
            const float d = h2f_##L(rd16(s)), m = h2f_##L(rd16(s + 2));                            \
            const uint32_t qh = rd32(s + 4);                                                       \
            const __m128i q = load16(s + 8);                                                       \
            put16m_##L(y, _mm_or_si128(lo_nibbles(q), fifth_bits(qh)), d, m, nt);                  \
            put16m_##L(y + 16, _mm_or_si128(hi_nibbles(q), fifth_bits(qh >> 16)), d, m, nt);       \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q8_0_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 34, y += 32) {                                      \
            const float d = h2f_##L(rd16(s));                                                      \
            put16p_##L(y, s + 2, d, nt);                                                           \
            put16p_##L(y + 16, s + 18, d, nt);                                                     \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void iq4_nl_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)     \
    {                                                                                              \
        const __m128i book = load16((const uint8_t *)kvalues_iq4nl);                               \
        for (uint64_t i = 0; i < nb; i++, s += 18, y += 32) {                                      \
            const float d = h2f_##L(rd16(s));                                                      \
            const __m128i q = load16(s + 2);                                                       \
            put16_##L(y, _mm_shuffle_epi8(book, lo_nibbles(q)), d, nt);                            \
            put16_##L(y + 16, _mm_shuffle_epi8(book, hi_nibbles(q)), d, nt);                       \
        }                                                                                          \
    }

DEFINE_BLOCK_DECODERS(sse41, TGT_SSE41)
DEFINE_BLOCK_DECODERS(avx2, TGT_AVX2)
DEFINE_BLOCK_DECODERS(avx512, TGT_AVX512)

/* The K-quants and IQ4_XS, in the same way: 256-element super-blocks whose
 * 16- or 32-element sub-blocks each get a float scale (and a min) computed
 * exactly as ggml computes it, then one put16/put16s per 16 quants. */
#define DEFINE_SUPERBLOCK_DECODERS(L, TGT)                                                         \
    TGT static ALWAYS_INLINE void q2_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 84) {                                               \
            const float d = h2f_##L(rd16(s + 80)), min = h2f_##L(rd16(s + 82));                    \
            const uint8_t *sc = s;                                                                 \
            for (int n = 0; n < 2; n++) {                                                          \
                for (int shift = 0; shift < 8; shift += 2) {                                       \
                    for (int half = 0; half < 2; half++, sc++, y += 16) {                          \
                        const __m128i q = load16(s + 16 + 32 * n + 16 * half);                     \
                        const __m128i v = _mm_and_si128(                                           \
                            _mm_srl_epi16(q, _mm_cvtsi32_si128(shift)), _mm_set1_epi8(3));         \
                        put16s_##L(y, v, d *(*sc & 0xF), min *(*sc >> 4), nt);                     \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q3_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 110) {                                              \
            const float d_all = h2f_##L(rd16(s + 108));                                            \
            int8_t scales[16];                                                                     \
            q3_k_scales(s + 96, scales);                                                           \
            const int8_t *sc = scales;                                                             \
            for (int n = 0; n < 2; n++) {                                                          \
                for (int j = 0; j < 4; j++) {                                                      \
                    const __m128i m = _mm_set1_epi8((char)(1 << (4 * n + j)));                     \
                    for (int half = 0; half < 2; half++, sc++, y += 16) {                          \
                        const __m128i q = load16(s + 32 + 32 * n + 16 * half);                     \
                        const __m128i hm = load16(s + 16 * half);                                  \
                        const __m128i low = _mm_and_si128(                                         \
                            _mm_srl_epi16(q, _mm_cvtsi32_si128(2 * j)), _mm_set1_epi8(3));         \
                        const __m128i clear =                                                      \
                            _mm_cmpeq_epi8(_mm_and_si128(hm, m), _mm_setzero_si128());             \
                        const __m128i v =                                                          \
                            _mm_sub_epi8(low, _mm_and_si128(clear, _mm_set1_epi8(4)));             \
                        put16_##L(y, v, d_all *(*sc - 32), nt);                                    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q4_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 144) {                                              \
            const float d = h2f_##L(rd16(s)), min = h2f_##L(rd16(s + 2));                          \
            const uint8_t *q = s + 16;                                                             \
            for (int is = 0; is < 8; is += 2, q += 32, y += 64) {                                  \
                uint8_t sc, m;                                                                     \
                scale_min_k4(is, s + 4, &sc, &m);                                                  \
                const float d1 = d * sc, m1 = min * m;                                             \
                scale_min_k4(is + 1, s + 4, &sc, &m);                                              \
                const float d2 = d * sc, m2 = min * m;                                             \
                const __m128i a = load16(q), b = load16(q + 16);                                   \
                put16s_##L(y, lo_nibbles(a), d1, m1, nt);                                          \
                put16s_##L(y + 16, lo_nibbles(b), d1, m1, nt);                                     \
                put16s_##L(y + 32, hi_nibbles(a), d2, m2, nt);                                     \
                put16s_##L(y + 48, hi_nibbles(b), d2, m2, nt);                                     \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q5_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 176) {                                              \
            const float d = h2f_##L(rd16(s)), min = h2f_##L(rd16(s + 2));                          \
            const __m128i h0 = load16(s + 16), h1 = load16(s + 32);                                \
            const uint8_t *ql = s + 48;                                                            \
            for (int is = 0; is < 8; is += 2, ql += 32, y += 64) {                                 \
                uint8_t sc, m;                                                                     \
                scale_min_k4(is, s + 4, &sc, &m);                                                  \
                const float d1 = d * sc, m1 = min * m;                                             \
                scale_min_k4(is + 1, s + 4, &sc, &m);                                              \
                const float d2 = d * sc, m2 = min * m;                                             \
                const __m128i a = load16(ql), b = load16(ql + 16);                                 \
                put16s_##L(y, _mm_or_si128(lo_nibbles(a), bit16(h0, is)), d1, m1, nt);             \
                put16s_##L(y + 16, _mm_or_si128(lo_nibbles(b), bit16(h1, is)), d1, m1, nt);        \
                put16s_##L(y + 32, _mm_or_si128(hi_nibbles(a), bit16(h0, is + 1)), d2, m2, nt);    \
                put16s_##L(y + 48, _mm_or_si128(hi_nibbles(b), bit16(h1, is + 1)), d2, m2, nt);    \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q6_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 210) {                                              \
            const float d = h2f_##L(rd16(s + 208));                                                \
            for (int n = 0; n < 2; n++, y += 128) {                                                \
                const uint8_t *ql = s + 64 * n, *qh = s + 128 + 32 * n;                            \
                const int8_t *sc = (const int8_t *)(s + 192 + 8 * n);                              \
                for (int h = 0; h < 2; h++) {                                                      \
                    __m128i q[4];                                                                  \
                    q6_k_quants(load16(ql + 16 * h), load16(ql + 32 + 16 * h),                     \
                                load16(qh + 16 * h), q);                                           \
                    for (int k = 0; k < 4; k++)                                                    \
                        put16_##L(y + 32 * k + 16 * h, q[k], d * sc[h + 2 * k], nt);               \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void q8_k_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)       \
    {                                                                                              \
        for (uint64_t i = 0; i < nb; i++, s += 292) {                                              \
            float d;                                                                               \
            memcpy(&d, s, 4);                                                                      \
            for (int k = 0; k < 16; k++, y += 16)                                                  \
                put16p_##L(y, s + 4 + 16 * k, d, nt);                                              \
        }                                                                                          \
    }                                                                                              \
    TGT static ALWAYS_INLINE void iq4_xs_##L(const uint8_t *s, uint64_t nb, float *y, bool nt)     \
    {                                                                                              \
        const __m128i book = load16((const uint8_t *)kvalues_iq4nl);                               \
        for (uint64_t i = 0; i < nb; i++, s += 136) {                                              \
            const float d = h2f_##L(rd16(s));                                                      \
            const uint16_t scales_h = rd16(s + 2);                                                 \
            for (int ib = 0; ib < 8; ++ib, y += 32) {                                              \
                const int ls =                                                                     \
                    ((s[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);   \
                const float dl = d * (ls - 32);                                                    \
                const __m128i q = load16(s + 8 + 16 * ib);                                         \
                put16_##L(y, _mm_shuffle_epi8(book, lo_nibbles(q)), dl, nt);                       \
                put16_##L(y + 16, _mm_shuffle_epi8(book, hi_nibbles(q)), dl, nt);                  \
            }                                                                                      \
        }                                                                                          \
    }

DEFINE_SUPERBLOCK_DECODERS(sse41, TGT_SSE41)
DEFINE_SUPERBLOCK_DECODERS(avx2, TGT_AVX2)
DEFINE_SUPERBLOCK_DECODERS(avx512, TGT_AVX512)

/* ------------------------------------------------------ fp16 / bf16 rows */

/* ggml's portable fp16 conversion, four lanes at a time (no F16C here). */
TGT_SSE41 static inline __m128 fp16x4_sse41(__m128i h32)
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

TGT_SSE41 static ALWAYS_INLINE void f16_sse41(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = load16(s + 2 * i);
        st4_sse41(y + i, fp16x4_sse41(_mm_cvtepu16_epi32(h)), nt);
        st4_sse41(y + i + 4, fp16x4_sse41(_mm_cvtepu16_epi32(_mm_srli_si128(h, 8))), nt);
    }
    for (; i < n; i++)
        y[i] = dequant_fp16(rd16(s + 2 * i));
}

TGT_AVX2 static ALWAYS_INLINE void f16_avx2(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        st8_avx2(y + i, _mm256_cvtph_ps(load16(s + 2 * i)), nt);
        st8_avx2(y + i + 8, _mm256_cvtph_ps(load16(s + 2 * i + 16)), nt);
    }
    for (; i < n; i++)
        y[i] = _cvtsh_ss(rd16(s + 2 * i));
}

TGT_AVX512 static ALWAYS_INLINE void f16_avx512(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256((const __m256i *)(s + 2 * i));
        st16_avx512(y + i, _mm512_cvtph_ps(h), nt);
    }
    for (; i < n; i++)
        y[i] = _cvtsh_ss(rd16(s + 2 * i));
}

static inline void bf16_tail(const uint8_t *s, uint64_t i, uint64_t n, float *y)
{
    for (; i < n; i++) {
        const uint32_t u = (uint32_t)rd16(s + 2 * i) << 16;
        memcpy(&y[i], &u, 4);
    }
}

TGT_SSE41 static ALWAYS_INLINE void bf16_sse41(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = load16(s + 2 * i);
        const __m128i zero = _mm_setzero_si128();
        st4_sse41(y + i, _mm_castsi128_ps(_mm_unpacklo_epi16(zero, h)), nt);
        st4_sse41(y + i + 4, _mm_castsi128_ps(_mm_unpackhi_epi16(zero, h)), nt);
    }
    bf16_tail(s, i, n, y);
}

TGT_AVX2 static ALWAYS_INLINE void bf16_avx2(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i a = _mm256_cvtepu16_epi32(load16(s + 2 * i));
        const __m256i b = _mm256_cvtepu16_epi32(load16(s + 2 * i + 16));
        st8_avx2(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(a, 16)), nt);
        st8_avx2(y + i + 8, _mm256_castsi256_ps(_mm256_slli_epi32(b, 16)), nt);
    }
    bf16_tail(s, i, n, y);
}

TGT_AVX512 static ALWAYS_INLINE void bf16_avx512(const uint8_t *s, uint64_t n, float *y, bool nt)
{
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256((const __m256i *)(s + 2 * i));
        const __m512i u = _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
        st16_avx512(y + i, _mm512_castsi512_ps(u), nt);
    }
    bf16_tail(s, i, n, y);
}

/* ------------------------------------------------------ store variants
 *
 * Each decoder above twice, as the dispatch table calls it: name_L_cached
 * with ordinary stores (the output stays in cache for whoever reads it
 * next), and name_L_stream with non-temporal ones, for outputs too large to
 * stay in cache (dequant.c decides; the output must then be 16-byte
 * aligned). Streaming stores skip the read-for-ownership of each line, which
 * halves the memory traffic of a decode bound by memory bandwidth. They are
 * weakly ordered, so the stream variant ends with an sfence: once it
 * returns, its stores are ordered before any later store, such as the one
 * that tells another thread the output is ready.
 */
#define DEFINE_STORE_VARIANTS(name, L, TGT)                                                        \
    TGT static void name##_##L##_cached(const uint8_t *s, uint64_t n, float *y)                    \
    {                                                                                              \
        name##_##L(s, n, y, false);                                                                \
    }                                                                                              \
    TGT static void name##_##L##_stream(const uint8_t *s, uint64_t n, float *y)                    \
    {                                                                                              \
        name##_##L(s, n, y, true);                                                                 \
        _mm_sfence();                                                                              \
    }

#define DEFINE_LEVEL_VARIANTS(L, TGT)                                                              \
    DEFINE_STORE_VARIANTS(f16, L, TGT)                                                             \
    DEFINE_STORE_VARIANTS(bf16, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q4_0, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q4_1, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q5_0, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q5_1, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q8_0, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(iq4_nl, L, TGT)                                                          \
    DEFINE_STORE_VARIANTS(q2_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q3_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q4_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q5_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q6_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(q8_k, L, TGT)                                                            \
    DEFINE_STORE_VARIANTS(iq4_xs, L, TGT)

DEFINE_LEVEL_VARIANTS(sse41, TGT_SSE41)
DEFINE_LEVEL_VARIANTS(avx2, TGT_AVX2)
DEFINE_LEVEL_VARIANTS(avx512, TGT_AVX512)

/* ------------------------------------------------------------- selection */

/* F16C through cpuid: clang's __builtin_cpu_supports() does not know it. */
static int cpu_has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}

enum dequant_level dequant_cpu_level(void)
{
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && cpu_has_f16c();
    if (avx2 && __builtin_cpu_supports("avx512f"))
        return DQ_AVX512;
    if (avx2)
        return DQ_AVX2;
    if (__builtin_cpu_supports("sse4.1"))
        return DQ_SSE41;
    return DQ_SCALAR;
}

/* One row per level and kind of store: the decoders of the types that have
 * vector code. */
struct simd_row {
    dequant_fn f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl;
    dequant_fn q2_k, q3_k, q4_k, q5_k, q6_k, q8_k, iq4_xs;
};

#define SIMD_ROW(L, V)                                                                             \
    {                                                                                              \
        f16_##L##_##V, bf16_##L##_##V, q4_0_##L##_##V, q4_1_##L##_##V, q5_0_##L##_##V,             \
            q5_1_##L##_##V, q8_0_##L##_##V, iq4_nl_##L##_##V, q2_k_##L##_##V, q3_k_##L##_##V,      \
            q4_k_##L##_##V, q5_k_##L##_##V, q6_k_##L##_##V, q8_k_##L##_##V, iq4_xs_##L##_##V       \
    }

static const struct simd_row rows[2][DQ_LEVELS] = {
    [false] = {[DQ_SSE41] = SIMD_ROW(sse41, cached),
               [DQ_AVX2] = SIMD_ROW(avx2, cached),
               [DQ_AVX512] = SIMD_ROW(avx512, cached)},
    [true] = {[DQ_SSE41] = SIMD_ROW(sse41, stream),
              [DQ_AVX2] = SIMD_ROW(avx2, stream),
              [DQ_AVX512] = SIMD_ROW(avx512, stream)},
};

dequant_fn dequant_simd_fn(uint32_t type, enum dequant_level level, bool stream)
{
    if (level <= DQ_SCALAR || level >= DQ_LEVELS)
        return NULL;
    const struct simd_row *r = &rows[stream][level];
    switch (type) {
    case GT_F16:
        return r->f16;
    case GT_BF16:
        return r->bf16;
    case GT_Q4_0:
        return r->q4_0;
    case GT_Q4_1:
        return r->q4_1;
    case GT_Q5_0:
        return r->q5_0;
    case GT_Q5_1:
        return r->q5_1;
    case GT_Q8_0:
        return r->q8_0;
    case GT_IQ4_NL:
        return r->iq4_nl;
    case GT_Q2_K:
        return r->q2_k;
    case GT_Q3_K:
        return r->q3_k;
    case GT_Q4_K:
        return r->q4_k;
    case GT_Q5_K:
        return r->q5_k;
    case GT_Q6_K:
        return r->q6_k;
    case GT_Q8_K:
        return r->q8_k;
    case GT_IQ4_XS:
        return r->iq4_xs;
    default:
        return NULL;
    }
}
