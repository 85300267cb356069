/* dequant_body.h - the block decoders every vector level shares.
 *
 * Included once by each of dequant_sse41.c, dequant_avx2.c and
 * dequant_avx512.c, each compiled for its own instruction set (src/meson.build
 * gives each its own -m flags), after it has defined its level's primitives:
 *
 *   put16(y, q, d, nt)     y[0..15] = (float)q[k] * d, q 16 signed bytes
 *   put16m(y, q, d, m, nt) the same plus m, added after the multiply with
 *                          the product as the first operand (see
 *                          add_ordered in the level files)
 *   put16s(y, q, d, m, nt) the same minus m (the K-quants)
 *   put16p(y, p, d, nt)    put16 of 16 signed bytes read from memory
 *   put16n(y, q, neg, d, nt) put16, then the sign of y[k] flipped where
 *                          byte k of neg is -1 (a negation, NaNs too)
 *   h2f(h)                 an fp16 block scale to fp32, as ggml converts it
 *
 * nt selects the store: ordinary (false) or non-temporal 16-byte stores
 * (true, y 16-byte aligned). Every decoder here is written once with nt as a
 * parameter; DQ_STORE_VARIANTS makes the two callable functions of each,
 * deq_TYPE_cached and deq_TYPE_stream, with nt a constant that inlining
 * removes. The level file exports them as its deq_TYPE_LEVEL pairs.
 *
 * Bit-exactness with ggml's scalar code rests on three rules kept here:
 *  - the quantized integer is formed exactly as ggml forms it (nibble, minus
 *    8, or with the fifth bit...) in a byte lane, and only then converted to
 *    float, which is exact;
 *  - then one multiply by the (sub-)block scale, computed as ggml computes
 *    it, then one add or subtract of the minimum with the product first;
 *  - no fused multiply-add: no FMA intrinsics, and -ffp-contract=off.
 * Each decoder works on 16-element pieces, so one 128-bit integer register
 * carries the quants whatever the float width of the level.
 */
#ifndef GGUFFS_DEQUANT_BODY_H
#define GGUFFS_DEQUANT_BODY_H

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "decode/dequant_internal.h"
#include "decode/iq_grids.h"

/* -------------------------------------------------- integer helpers */

static inline __m128i load16(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}

static inline __m128i lo_nibbles(__m128i q)
{
    return _mm_and_si128(q, _mm_set1_epi8(0x0F));
}

static inline __m128i hi_nibbles(__m128i q)
{
    return _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F));
}

/* 0x10 in byte k where bit k of the low 16 bits of `bits` is set: the fifth
 * bit of Q5_0/Q5_1 quants. Uses SSSE3's pshufb, present at every level. */
static inline __m128i fifth_bits(uint32_t bits)
{
    const __m128i spread =
        _mm_shuffle_epi8(_mm_cvtsi32_si128((int)bits), _mm_set_epi64x(0x0101010101010101, 0));
    const __m128i others = _mm_set1_epi64x(0x7fbfdfeff7fbfdfe);
    const __m128i set = _mm_cmpeq_epi8(_mm_or_si128(spread, others), _mm_set1_epi8(-1));
    return _mm_and_si128(set, _mm_set1_epi8(0x10));
}

/* 16 in byte k where bit `bit` of qh byte k is set: Q5_K's fifth bit. */
static inline __m128i bit16(__m128i qh, int bit)
{
    const __m128i u = _mm_set1_epi8((char)(1 << bit));
    const __m128i set = _mm_cmpeq_epi8(_mm_and_si128(qh, u), u);
    return _mm_and_si128(set, _mm_set1_epi8(16));
}

/* Q6_K's four 16-quant groups from ql[l], ql[l + 32] and qh[l], each value
 * (low four bits | two high bits << 4) - 32. Byte-wise shifts of masked
 * values through 16-bit lanes: no bit crosses into the neighbouring byte. */
static inline void q6_k_quants(__m128i l0, __m128i l1, __m128i h, __m128i q[4])
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

/* BF16 elements [i, n) one at a time, after a level's vector loop. */
static inline void bf16_tail(const uint8_t *s, uint64_t i, uint64_t n, float *y)
{
    for (; i < n; i++) {
        const uint32_t u = (uint32_t)rd16(s + 2 * i) << 16;
        memcpy(&y[i], &u, 4);
    }
}

/* The two store variants of deq_NAME_body: NAME_cached with ordinary
 * stores (the output stays in cache for whoever reads it next) and
 * NAME_stream with non-temporal ones, for outputs too large to stay in
 * cache (dequant.c decides). Streaming stores skip the read-for-ownership of
 * each line, which halves the memory traffic of a decode bound by memory
 * bandwidth. They are weakly ordered, so the stream variant ends with an
 * sfence: once it returns, its stores are ordered before any later store,
 * such as the one that tells another thread the output is ready. */
#define DQ_STORE_VARIANTS(name)                                                                    \
    static void name##_cached(const uint8_t *s, uint64_t n, float *y)                              \
    {                                                                                              \
        name##_body(s, n, y, false);                                                               \
    }                                                                                              \
    static void name##_stream(const uint8_t *s, uint64_t n, float *y)                              \
    {                                                                                              \
        name##_body(s, n, y, true);                                                                \
        _mm_sfence();                                                                              \
    }

/* ---------------------------------------------- 32-element blocks */

/* Q4_0: d, qs[16] (element j low nibble, j + 16 high), q - 8. */
static ALWAYS_INLINE void deq_q4_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i k8 = _mm_set1_epi8(8);
    for (uint64_t i = 0; i < nb; i++, s += 18, y += 32) {
        const float d = h2f(rd16(s));
        const __m128i q = load16(s + 2);
        put16(y, _mm_sub_epi8(lo_nibbles(q), k8), d, nt);
        put16(y + 16, _mm_sub_epi8(hi_nibbles(q), k8), d, nt);
    }
}

/* Q4_1: d, m, qs[16]; q * d + m. */
static ALWAYS_INLINE void deq_q4_1_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 20, y += 32) {
        const float d = h2f(rd16(s)), m = h2f(rd16(s + 2));
        const __m128i q = load16(s + 4);
        put16m(y, lo_nibbles(q), d, m, nt);
        put16m(y + 16, hi_nibbles(q), d, m, nt);
    }
}

/* Q5_0: d, qh (fifth bits), qs[16]; (q | fifth << 4) - 16. */
static ALWAYS_INLINE void deq_q5_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i k16 = _mm_set1_epi8(16);
    for (uint64_t i = 0; i < nb; i++, s += 22, y += 32) {
        const float d = h2f(rd16(s));
        const uint32_t qh = rd32(s + 2);
        const __m128i q = load16(s + 6);
        const __m128i lo = _mm_or_si128(lo_nibbles(q), fifth_bits(qh));
        const __m128i hi = _mm_or_si128(hi_nibbles(q), fifth_bits(qh >> 16));
        put16(y, _mm_sub_epi8(lo, k16), d, nt);
        put16(y + 16, _mm_sub_epi8(hi, k16), d, nt);
    }
}

/* Q5_1: d, m, qh, qs[16]; (q | fifth << 4) * d + m. */
static ALWAYS_INLINE void deq_q5_1_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 24, y += 32) {
        const float d = h2f(rd16(s)), m = h2f(rd16(s + 2));
        const uint32_t qh = rd32(s + 4);
        const __m128i q = load16(s + 8);
        put16m(y, _mm_or_si128(lo_nibbles(q), fifth_bits(qh)), d, m, nt);
        put16m(y + 16, _mm_or_si128(hi_nibbles(q), fifth_bits(qh >> 16)), d, m, nt);
    }
}

/* Q8_0: d, qs[32] signed. */
static ALWAYS_INLINE void deq_q8_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 34, y += 32) {
        const float d = h2f(rd16(s));
        put16p(y, s + 2, d, nt);
        put16p(y + 16, s + 18, d, nt);
    }
}

/* IQ4_NL: d, qs[16], each nibble an index into kvalues_iq4nl. */
static ALWAYS_INLINE void deq_iq4_nl_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i book = load16((const uint8_t *)kvalues_iq4nl);
    for (uint64_t i = 0; i < nb; i++, s += 18, y += 32) {
        const float d = h2f(rd16(s));
        const __m128i q = load16(s + 2);
        put16(y, _mm_shuffle_epi8(book, lo_nibbles(q)), d, nt);
        put16(y + 16, _mm_shuffle_epi8(book, hi_nibbles(q)), d, nt);
    }
}

/* --------------------------------------------- 256-element blocks
 * 16- or 32-element sub-blocks, each with a float scale (and a min)
 * computed exactly as ggml computes it, then one put16/put16s per 16 quants. */

/* Q2_K: scales[16] (4-bit scale | 4-bit min), qs[64] (2 bits), d, dmin. */
static ALWAYS_INLINE void deq_q2_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 84) {
        const float d = h2f(rd16(s + 80)), min = h2f(rd16(s + 82));
        const uint8_t *sc = s;
        for (int n = 0; n < 2; n++) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++, sc++, y += 16) {
                    const __m128i q = load16(s + 16 + 32 * n + 16 * half);
                    const __m128i v =
                        _mm_and_si128(_mm_srl_epi16(q, _mm_cvtsi32_si128(shift)), _mm_set1_epi8(3));
                    put16s(y, v, d * (*sc & 0xF), min * (*sc >> 4), nt);
                }
            }
        }
    }
}

/* Q3_K: hmask[32], qs[64] (2 bits), scales[12] (6 bits), d; a clear hmask bit subtracts 4. */
static ALWAYS_INLINE void deq_q3_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 110) {
        const float d_all = h2f(rd16(s + 108));
        int8_t scales[16];
        q3_k_scales(s + 96, scales);
        const int8_t *sc = scales;
        for (int n = 0; n < 2; n++) {
            for (int j = 0; j < 4; j++) {
                const __m128i m = _mm_set1_epi8((char)(1 << (4 * n + j)));
                for (int half = 0; half < 2; half++, sc++, y += 16) {
                    const __m128i q = load16(s + 32 + 32 * n + 16 * half);
                    const __m128i hm = load16(s + 16 * half);
                    const __m128i low =
                        _mm_and_si128(_mm_srl_epi16(q, _mm_cvtsi32_si128(2 * j)), _mm_set1_epi8(3));
                    const __m128i clear = _mm_cmpeq_epi8(_mm_and_si128(hm, m), _mm_setzero_si128());
                    const __m128i v = _mm_sub_epi8(low, _mm_and_si128(clear, _mm_set1_epi8(4)));
                    put16(y, v, d_all * (*sc - 32), nt);
                }
            }
        }
    }
}

/* Q4_K: d, dmin, scales[12] (6-bit scale/min pairs), qs[128]. */
static ALWAYS_INLINE void deq_q4_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 144) {
        const float d = h2f(rd16(s)), min = h2f(rd16(s + 2));
        const uint8_t *q = s + 16;
        for (int is = 0; is < 8; is += 2, q += 32, y += 64) {
            uint8_t sc, m;
            scale_min_k4(is, s + 4, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            scale_min_k4(is + 1, s + 4, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            const __m128i a = load16(q), b = load16(q + 16);
            put16s(y, lo_nibbles(a), d1, m1, nt);
            put16s(y + 16, lo_nibbles(b), d1, m1, nt);
            put16s(y + 32, hi_nibbles(a), d2, m2, nt);
            put16s(y + 48, hi_nibbles(b), d2, m2, nt);
        }
    }
}

/* Q5_K: d, dmin, scales[12], qh[32] (fifth bits), qs[128]. */
static ALWAYS_INLINE void deq_q5_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 176) {
        const float d = h2f(rd16(s)), min = h2f(rd16(s + 2));
        const __m128i h0 = load16(s + 16), h1 = load16(s + 32);
        const uint8_t *ql = s + 48;
        for (int is = 0; is < 8; is += 2, ql += 32, y += 64) {
            uint8_t sc, m;
            scale_min_k4(is, s + 4, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            scale_min_k4(is + 1, s + 4, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            const __m128i a = load16(ql), b = load16(ql + 16);
            put16s(y, _mm_or_si128(lo_nibbles(a), bit16(h0, is)), d1, m1, nt);
            put16s(y + 16, _mm_or_si128(lo_nibbles(b), bit16(h1, is)), d1, m1, nt);
            put16s(y + 32, _mm_or_si128(hi_nibbles(a), bit16(h0, is + 1)), d2, m2, nt);
            put16s(y + 48, _mm_or_si128(hi_nibbles(b), bit16(h1, is + 1)), d2, m2, nt);
        }
    }
}

/* Q6_K: ql[128], qh[64], scales[16] (signed), d; (low | high << 4) - 32. */
static ALWAYS_INLINE void deq_q6_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 210) {
        const float d = h2f(rd16(s + 208));
        for (int n = 0; n < 2; n++, y += 128) {
            const uint8_t *ql = s + 64 * n, *qh = s + 128 + 32 * n;
            const int8_t *sc = (const int8_t *)(s + 192 + 8 * n);
            for (int h = 0; h < 2; h++) {
                __m128i q[4];
                q6_k_quants(load16(ql + 16 * h), load16(ql + 32 + 16 * h), load16(qh + 16 * h), q);
                for (int k = 0; k < 4; k++)
                    put16(y + 32 * k + 16 * h, q[k], d * sc[h + 2 * k], nt);
            }
        }
    }
}

/* Q8_K: float d, qs[256] signed, bsums[16] (not needed to decode). */
static ALWAYS_INLINE void deq_q8_k_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 292) {
        float d;
        memcpy(&d, s, 4);
        for (int k = 0; k < 16; k++, y += 16)
            put16p(y, s + 4 + 16 * k, d, nt);
    }
}

/* IQ4_XS: d, scales_h, scales_l[4], qs[128] of kvalues_iq4nl indices. */
static ALWAYS_INLINE void deq_iq4_xs_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i book = load16((const uint8_t *)kvalues_iq4nl);
    for (uint64_t i = 0; i < nb; i++, s += 136) {
        const float d = h2f(rd16(s));
        const uint16_t scales_h = rd16(s + 2);
        for (int ib = 0; ib < 8; ++ib, y += 32) {
            const int ls =
                ((s[4 + ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            const __m128i q = load16(s + 8 + 16 * ib);
            put16(y, _mm_shuffle_epi8(book, lo_nibbles(q)), dl, nt);
            put16(y + 16, _mm_shuffle_epi8(book, hi_nibbles(q)), dl, nt);
        }
    }
}

/* ------------------------------- IQ, ternary, FP4, 1- and 2-bit types
 *
 * These form each 16 values as bytes (a grid point's magnitudes, a trit, a
 * codebook entry) and convert them with put16, as for the types above. The
 * IQ2/IQ3 signs are a negation of the product, as ggml's compiled
 * `db * grid[j] * (neg ? -1.f : 1.f)` has it (see dequant_scalar.c):
 * put16n. IQ1's grid + delta (delta +-1/8) is formed as
 * 8 * grid +- 1 and the scale taken over by 1/8: dl * 0.125f is exact for
 * every scale an fp16 times an odd 1..15 can give, and the product then
 * rounds once from the same exact value. */

/* -1 in byte k where bit k % 8 of s0 (k < 8) or s1 (k >= 8) is set. */
static inline __m128i sign_bytes(uint8_t s0, uint8_t s1)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const __m128i s = _mm_set_epi64x((long long)(ones * s1), (long long)(ones * s0));
    const __m128i bits = _mm_set1_epi64x((long long)UINT64_C(0x8040201008040201));
    return _mm_cmpeq_epi8(_mm_and_si128(s, bits), bits);
}

/* The signs of values 16h .. 16h + 15 of a 32-value group whose four 7-bit
 * ksigns indices are packed in aux (IQ2_XXS, IQ3_XXS). */
static inline __m128i ksigns16(uint32_t aux, int h)
{
    return sign_bytes(ksigns_iq2xs[(aux >> 14 * h) & 127],
                      ksigns_iq2xs[(aux >> (14 * h + 7)) & 127]);
}

/* Two 8-value grid points, a then b. */
static inline __m128i grid8x2(const uint64_t *grid, uint32_t a, uint32_t b)
{
    return _mm_set_epi64x((long long)grid[b], (long long)grid[a]);
}

/* Four 4-value grid points, a to d. */
static inline __m128i grid4x4(const uint32_t *grid, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return _mm_set_epi32((int)grid[d], (int)grid[c], (int)grid[b], (int)grid[a]);
}

/* IQ2_XXS (see dequant_scalar.c for the layouts). */
static ALWAYS_INLINE void deq_iq2_xxs_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 66) {
        const float d = h2f(rd16(s));
        for (int ib32 = 0; ib32 < 8; ++ib32, y += 32) {
            const uint8_t *aux8 = s + 2 + 8 * ib32;
            const uint32_t aux1 = rd32(aux8 + 4);
            const float db = d * (0.5f + (aux1 >> 28)) * 0.25f;
            for (int h = 0; h < 2; h++) {
                const __m128i mag = grid8x2(iq2xxs_grid, aux8[2 * h], aux8[2 * h + 1]);
                put16n(y + 16 * h, mag, ksigns16(aux1, h), db, nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_iq2_xs_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 74) {
        const float d = h2f(rd16(s));
        for (int ib32 = 0; ib32 < 8; ++ib32, y += 32) {
            const uint8_t sc = s[66 + ib32];
            const float db[2] = {d * (0.5f + (sc & 0xf)) * 0.25f, d * (0.5f + (sc >> 4)) * 0.25f};
            for (int h = 0; h < 2; h++) {
                const uint16_t q0 = rd16(s + 2 + 2 * (4 * ib32 + 2 * h));
                const uint16_t q1 = rd16(s + 4 + 2 * (4 * ib32 + 2 * h));
                const __m128i mag = grid8x2(iq2xs_grid, q0 & 511, q1 & 511);
                const __m128i neg = sign_bytes(ksigns_iq2xs[q0 >> 9], ksigns_iq2xs[q1 >> 9]);
                put16n(y + 16 * h, mag, neg, db[h], nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_iq2_s_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 82) {
        const float d = h2f(rd16(s));
        const uint8_t *qs = s + 2, *signs = s + 34, *qh = s + 66, *scales = s + 74;
        for (int ib32 = 0; ib32 < 8; ++ib32, y += 32, qs += 4, signs += 4) {
            const float db[2] = {d * (0.5f + (scales[ib32] & 0xf)) * 0.25f,
                                 d * (0.5f + (scales[ib32] >> 4)) * 0.25f};
            for (int h = 0; h < 2; h++) {
                const int l0 = 2 * h, l1 = 2 * h + 1;
                const uint32_t i0 = qs[l0] | (qh[ib32] << (8 - 2 * l0) & 0x300);
                const uint32_t i1 = qs[l1] | (qh[ib32] << (8 - 2 * l1) & 0x300);
                const __m128i neg = sign_bytes(signs[l0], signs[l1]);
                put16n(y + 16 * h, grid8x2(iq2s_grid, i0, i1), neg, db[h], nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_iq3_xxs_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 98) {
        const float d = h2f(rd16(s));
        const uint8_t *qs = s + 2;
        for (int ib32 = 0; ib32 < 8; ++ib32, y += 32, qs += 8) {
            const uint32_t aux32 = rd32(s + 66 + 4 * ib32);
            const float db = d * (0.5f + (aux32 >> 28)) * 0.5f;
            for (int h = 0; h < 2; h++) {
                const uint8_t *q = qs + 4 * h;
                const __m128i mag = grid4x4(iq3xxs_grid, q[0], q[1], q[2], q[3]);
                put16n(y + 16 * h, mag, ksigns16(aux32, h), db, nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_iq3_s_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 110) {
        const float d = h2f(rd16(s));
        for (int c = 0; c < 8; c++, y += 32) { /* 32 values: qs 8c, qh c, signs 4c */
            const uint8_t sc = s[106 + c / 2];
            const float db = d * (1 + 2 * (c % 2 ? sc >> 4 : sc & 0xf));
            const uint8_t *q = s + 2 + 8 * c, *sg = s + 74 + 4 * c;
            const uint32_t h = s[66 + c];
            for (int k = 0; k < 2; k++, q += 4) {
                const int l0 = 2 * k, l1 = 2 * k + 1;
                const __m128i mag =
                    grid4x4(iq3s_grid, q[0] | ((h << (8 - 2 * l0)) & 256),
                            q[1] | ((h << (7 - 2 * l0)) & 256), q[2] | ((h << (8 - 2 * l1)) & 256),
                            q[3] | ((h << (7 - 2 * l1)) & 256));
                put16n(y + 16 * k, mag, sign_bytes(sg[l0], sg[l1]), db, nt);
            }
        }
    }
}

/* 8 * grid + delta, delta +-1 per 8 values: 16 IQ1 values in eighths. */
static inline __m128i iq1_eighths(uint32_t i0, uint32_t i1, bool neg0, bool neg1)
{
    const __m128i g = grid8x2(iq1s_grid, i0, i1);
    const __m128i g8 = _mm_add_epi8(_mm_add_epi8(g, g), _mm_add_epi8(g, g));
    const __m128i delta =
        _mm_set_epi64x(neg1 ? -1 : 0x0101010101010101, neg0 ? -1 : 0x0101010101010101);
    return _mm_add_epi8(_mm_add_epi8(g8, g8), delta);
}

static ALWAYS_INLINE void deq_iq1_s_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 50) {
        const float d = h2f(rd16(s));
        const uint8_t *qs = s + 2;
        for (int ib = 0; ib < 8; ++ib, qs += 4, y += 32) {
            const uint16_t qh = rd16(s + 34 + 2 * ib);
            const float dl8 = d * (2 * ((qh >> 12) & 7) + 1) * 0.125f;
            const bool neg = qh & 0x8000;
            for (int h = 0; h < 2; h++) {
                const int l0 = 2 * h, l1 = 2 * h + 1;
                const uint32_t i0 = qs[l0] | (((qh >> 3 * l0) & 7) << 8);
                const uint32_t i1 = qs[l1] | (((qh >> 3 * l1) & 7) << 8);
                put16(y + 16 * h, iq1_eighths(i0, i1, neg, neg), dl8, nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_iq1_m_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    for (uint64_t i = 0; i < nb; i++, s += 56) {
        uint16_t sc[4];
        const float d = h2f(iq1_m_scales(s, sc));
        const uint8_t *qs = s, *qh = s + 32;
        for (int ib = 0; ib < 8; ++ib, qs += 4, qh += 2, y += 32) {
            const float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1) * 0.125f;
            const float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1) * 0.125f;
            put16(y,
                  iq1_eighths(qs[0] | ((qh[0] << 8) & 0x700), qs[1] | ((qh[0] << 4) & 0x700),
                              qh[0] & 0x08, qh[0] & 0x80),
                  dl1, nt);
            put16(y + 16,
                  iq1_eighths(qs[2] | ((qh[1] << 8) & 0x700), qs[3] | ((qh[1] << 4) & 0x700),
                              qh[1] & 0x08, qh[1] & 0x80),
                  dl2, nt);
        }
    }
}

/* TQ1_0's trits of 16 bytes, byte k multiplied by the power of 3 in 16-bit
 * lane k of p_lo (k < 8) or p_hi: ((uint8_t)(x * p) * 3 >> 8) - 1. */
static inline __m128i trits16(__m128i x, __m128i p_lo, __m128i p_hi)
{
    const __m128i ff = _mm_set1_epi16(0xFF), three = _mm_set1_epi16(3);
    const __m128i lo = _mm_and_si128(_mm_mullo_epi16(_mm_cvtepu8_epi16(x), p_lo), ff);
    const __m128i hi =
        _mm_and_si128(_mm_mullo_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(x, 8)), p_hi), ff);
    const __m128i t = _mm_packus_epi16(_mm_srli_epi16(_mm_mullo_epi16(lo, three), 8),
                                       _mm_srli_epi16(_mm_mullo_epi16(hi, three), 8));
    return _mm_sub_epi8(t, _mm_set1_epi8(1));
}

static ALWAYS_INLINE void deq_tq1_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    /* qh: 16 values, 4 bytes times 3^0, 3^1, 3^2, 3^3 in turn */
    const __m128i qh_lo = _mm_set_epi16(3, 3, 3, 3, 1, 1, 1, 1);
    const __m128i qh_hi = _mm_set_epi16(27, 27, 27, 27, 9, 9, 9, 9);
    for (uint64_t i = 0; i < nb; i++, s += 54) {
        const float d = h2f(rd16(s + 52));
        const __m128i a = load16(s), b = load16(s + 16), c = load16(s + 32);
        for (int n = 0; n < 5; ++n, y += 32) {
            const __m128i p = _mm_set1_epi16(pow3[n]);
            put16(y, trits16(a, p, p), d, nt);
            put16(y + 16, trits16(b, p, p), d, nt);
        }
        for (int n = 0; n < 5; ++n, y += 16) {
            const __m128i p = _mm_set1_epi16(pow3[n]);
            put16(y, trits16(c, p, p), d, nt);
        }
        const __m128i qh = _mm_set1_epi32((int)rd32(s + 48));
        put16(y, trits16(qh, qh_lo, qh_hi), d, nt);
        y += 16;
    }
}

static ALWAYS_INLINE void deq_tq2_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i three = _mm_set1_epi8(3), one = _mm_set1_epi8(1);
    for (uint64_t i = 0; i < nb; i++, s += 66) {
        const float d = h2f(rd16(s + 64));
        for (int j = 0; j < 64; j += 32) {
            const __m128i a = load16(s + j), b = load16(s + j + 16);
            for (int l = 0; l < 4; ++l, y += 32) {
                const __m128i sh = _mm_cvtsi32_si128(2 * l);
                put16(y, _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(a, sh), three), one), d, nt);
                put16(y + 16, _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(b, sh), three), one), d, nt);
            }
        }
    }
}

static ALWAYS_INLINE void deq_mxfp4_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i book = load16((const uint8_t *)kvalues_mxfp4);
    for (uint64_t i = 0; i < nb; i++, s += 17, y += 32) {
        const float d = e8m0_half(s[0]);
        const __m128i q = load16(s + 1);
        put16(y, _mm_shuffle_epi8(book, lo_nibbles(q)), d, nt);
        put16(y + 16, _mm_shuffle_epi8(book, hi_nibbles(q)), d, nt);
    }
}

static ALWAYS_INLINE void deq_nvfp4_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i book = load16((const uint8_t *)kvalues_mxfp4);
    for (uint64_t i = 0; i < nb; i++, s += 36) {
        for (int k = 0; k < 4; k++, y += 16) {
            const __m128i q = _mm_loadl_epi64((const __m128i *)(s + 4 + 8 * k));
            const __m128i codes = _mm_unpacklo_epi64(lo_nibbles(q), hi_nibbles(q));
            put16(y, _mm_shuffle_epi8(book, codes), ue4m3_half(s[k]), nt);
        }
    }
}

/* Q1_0: d where a bit is set, -d (the sign flipped, NaN too) where not;
 * 1 * d is d itself (h2f's NaNs are already quiet). */
static ALWAYS_INLINE void deq_q1_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i ones = _mm_set1_epi8(1);
    for (uint64_t i = 0; i < nb; i++, s += 18) {
        const float d = h2f(rd16(s));
        for (int k = 0; k < 16; k += 2, y += 16)
            put16n(y, ones, sign_bytes((uint8_t)~s[2 + k], (uint8_t)~s[3 + k]), d, nt);
    }
}

/* Q2_0: element j is bits 2(j % 4) of byte j / 4, minus 1: the four shifts
 * of 16 bytes, interleaved back into element order. */
static ALWAYS_INLINE void deq_q2_0_body(const uint8_t *s, uint64_t nb, float *y, bool nt)
{
    const __m128i three = _mm_set1_epi8(3), one = _mm_set1_epi8(1);
    for (uint64_t i = 0; i < nb; i++, s += 18, y += 64) {
        const float d = h2f(rd16(s));
        const __m128i q = load16(s + 2);
        __m128i t[4];
        for (int k = 0; k < 4; k++)
            t[k] =
                _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q, _mm_cvtsi32_si128(2 * k)), three), one);
        const __m128i lo01 = _mm_unpacklo_epi8(t[0], t[1]), lo23 = _mm_unpacklo_epi8(t[2], t[3]);
        const __m128i hi01 = _mm_unpackhi_epi8(t[0], t[1]), hi23 = _mm_unpackhi_epi8(t[2], t[3]);
        put16(y, _mm_unpacklo_epi16(lo01, lo23), d, nt);
        put16(y + 16, _mm_unpackhi_epi16(lo01, lo23), d, nt);
        put16(y + 32, _mm_unpacklo_epi16(hi01, hi23), d, nt);
        put16(y + 48, _mm_unpackhi_epi16(hi01, hi23), d, nt);
    }
}

DQ_STORE_VARIANTS(deq_iq2_xxs)
DQ_STORE_VARIANTS(deq_iq2_xs)
DQ_STORE_VARIANTS(deq_iq2_s)
DQ_STORE_VARIANTS(deq_iq3_xxs)
DQ_STORE_VARIANTS(deq_iq3_s)
DQ_STORE_VARIANTS(deq_iq1_s)
DQ_STORE_VARIANTS(deq_iq1_m)
DQ_STORE_VARIANTS(deq_tq1_0)
DQ_STORE_VARIANTS(deq_tq2_0)
DQ_STORE_VARIANTS(deq_mxfp4)
DQ_STORE_VARIANTS(deq_nvfp4)
DQ_STORE_VARIANTS(deq_q1_0)
DQ_STORE_VARIANTS(deq_q2_0)
DQ_STORE_VARIANTS(deq_q4_0)
DQ_STORE_VARIANTS(deq_q4_1)
DQ_STORE_VARIANTS(deq_q5_0)
DQ_STORE_VARIANTS(deq_q5_1)
DQ_STORE_VARIANTS(deq_q8_0)
DQ_STORE_VARIANTS(deq_iq4_nl)
DQ_STORE_VARIANTS(deq_q2_k)
DQ_STORE_VARIANTS(deq_q3_k)
DQ_STORE_VARIANTS(deq_q4_k)
DQ_STORE_VARIANTS(deq_q5_k)
DQ_STORE_VARIANTS(deq_q6_k)
DQ_STORE_VARIANTS(deq_q8_k)
DQ_STORE_VARIANTS(deq_iq4_xs)

#endif
