/* dequant_scalar.c - the scalar reference decoders, one per type.
 *
 * Each decoder below follows ggml's dequantize_row_* (ggml-quants.c) operation
 * for operation: the same integer expression, converted to float at the same
 * point, multiplied and added in the same order. That is what makes the bits
 * match, signed zeros and NaN payloads included, so none of these may be
 * "simplified" algebraically (d*q - 8*d is not (q - 8)*d in floating point).
 * This file is built with -ffp-contract=off: a fused multiply-add would round
 * once where ggml rounds twice.
 *
 * Blocks are read byte by byte or through memcpy: a tensor's blocks come at
 * any alignment (a GGUF file aligns tensors to 32 bytes at most, and a read
 * may start at any block).
 */
#include "decode/dequant_decoders.h"
#include "decode/dequant_internal.h"

#include <math.h>
#include <string.h>

#include "decode/iq_grids.h"

/* ---------------------------------------------------------------- helpers */

static inline float rdf32(const uint8_t *p)
{
    float v;
    memcpy(&v, p, 4);
    return v;
}

static inline float fp16at(const uint8_t *p)
{
    return dequant_fp16(rd16(p));
}

/* ------------------------------------------------------------ plain types */

void deq_f32(const uint8_t *src, uint64_t n, float *dst)
{
    memcpy(dst, src, n * 4);
}

void deq_f16(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = fp16at(src + 2 * i);
}

void deq_bf16(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)rd16(src + 2 * i) << 16;
        memcpy(&dst[i], &u, 4);
    }
}

/* ------------------------------------------------------- 32-element blocks */

void deq_q4_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 18, y += 32) {
        const float d = fp16at(src);
        for (int j = 0; j < 16; j++) {
            const int x0 = (src[2 + j] & 0x0F) - 8;
            const int x1 = (src[2 + j] >> 4) - 8;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

void deq_q4_1(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 20, y += 32) {
        const float d = fp16at(src);
        const float m = fp16at(src + 2);
        for (int j = 0; j < 16; j++) {
            const int x0 = src[4 + j] & 0x0F;
            const int x1 = src[4 + j] >> 4;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }
}

void deq_q5_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 22, y += 32) {
        const float d = fp16at(src);
        const uint32_t qh = rd32(src + 2);
        const uint8_t *qs = src + 6;
        for (int j = 0; j < 16; j++) {
            const uint8_t xh_0 = ((qh >> (j + 0)) << 4) & 0x10;
            const uint8_t xh_1 = ((qh >> (j + 12))) & 0x10;
            const int32_t x0 = ((qs[j] & 0x0F) | xh_0) - 16;
            const int32_t x1 = ((qs[j] >> 4) | xh_1) - 16;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

void deq_q5_1(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 24, y += 32) {
        const float d = fp16at(src);
        const float m = fp16at(src + 2);
        const uint32_t qh = rd32(src + 4);
        const uint8_t *qs = src + 8;
        for (int j = 0; j < 16; j++) {
            const uint8_t xh_0 = ((qh >> (j + 0)) << 4) & 0x10;
            const uint8_t xh_1 = ((qh >> (j + 12))) & 0x10;
            const int x0 = (qs[j] & 0x0F) | xh_0;
            const int x1 = (qs[j] >> 4) | xh_1;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        }
    }
}

void deq_q8_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 34, y += 32) {
        const float d = fp16at(src);
        for (int j = 0; j < 32; j++)
            y[j] = (int8_t)src[2 + j] * d;
    }
}

void deq_iq4_nl(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 18, y += 32) {
        const float d = fp16at(src);
        for (int j = 0; j < 16; j++) {
            y[j] = d * kvalues_iq4nl[src[2 + j] & 0xf];
            y[j + 16] = d * kvalues_iq4nl[src[2 + j] >> 4];
        }
    }
}

/* ------------------------------------------------------ 256-element blocks */

/* Q2_K: scales[16], qs[64], d, dmin. */
void deq_q2_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 84) {
        const float d = fp16at(src + 80);
        const float min = fp16at(src + 82);
        const uint8_t *sc = src;
        const uint8_t *q = src + 16;
        int is = 0;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t s = sc[is++];
                    const float dl = d * (s & 0xF);
                    const float ml = min * (s >> 4);
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * ((int8_t)((q[l + 16 * half] >> shift) & 3)) - ml;
                }
            }
        }
    }
}

/* Q3_K: hmask[32], qs[64], scales[12], d. */
void deq_q3_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 110) {
        const float d_all = fp16at(src + 108);
        const uint8_t *hm = src;
        const uint8_t *q = src + 32;
        int8_t scales[16];
        q3_k_scales(src + 96, scales);
        int is = 0;
        uint8_t m = 1;
        for (int n = 0; n < 256; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; half++) {
                    const float dl = d_all * (scales[is++] - 32);
                    const int o = 16 * half;
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * ((int8_t)((q[l + o] >> shift) & 3) - ((hm[l + o] & m) ? 0 : 4));
                }
            }
        }
    }
}

/* Q4_K: d, dmin, scales[12], qs[128]. */
void deq_q4_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 144) {
        const float d = fp16at(src);
        const float min = fp16at(src + 2);
        const uint8_t *scales = src + 4;
        const uint8_t *q = src + 16;
        uint8_t sc, m;
        for (int is = 0; is < 8; is += 2, q += 32) {
            scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc;
            const float m1 = min * m;
            scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

/* Q5_K: d, dmin, scales[12], qh[32], qs[128]. */
void deq_q5_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 176) {
        const float d = fp16at(src);
        const float min = fp16at(src + 2);
        const uint8_t *scales = src + 4;
        const uint8_t *qh = src + 16;
        const uint8_t *ql = src + 48;
        uint8_t sc, m, u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc;
            const float m1 = min * m;
            scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

/* Q6_K: ql[128], qh[64], scales[16] (signed), d. */
void deq_q6_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 210) {
        const float d = fp16at(src + 208);
        const uint8_t *ql = src;
        const uint8_t *qh = src + 128;
        const int8_t *sc = (const int8_t *)(src + 192);
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

/* Q8_K: float d, qs[256], bsums[16] (unused for decoding). */
void deq_q8_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 292, y += 256) {
        const float d = rdf32(src);
        for (int j = 0; j < 256; ++j)
            y[j] = d * (int8_t)src[4 + j];
    }
}

/* IQ4_XS: d, scales_h (u16), scales_l[4], qs[128]. */
void deq_iq4_xs(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 136) {
        const float d = fp16at(src);
        const uint16_t scales_h = rd16(src + 2);
        const uint8_t *scales_l = src + 4;
        const uint8_t *qs = src + 8;
        for (int ib = 0; ib < 8; ++ib, y += 32, qs += 16) {
            const int ls =
                ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j + 0] = dl * kvalues_iq4nl[qs[j] & 0xf];
                y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
            }
        }
    }
}

/* ------------------------------------------- IQ types: grids and signs
 *
 * A grid point holds 4 or 8 magnitudes (bytes of an iq_grids.c entry); the
 * sign of each comes from a sign byte and kmask_iq2xs. ggml writes
 * `db * grid[j] * (negative ? -1.f : 1.f)`, which its compiler turns into a
 * negation of db * grid[j]: a NaN's sign flips too (a multiply by -1 would
 * return the NaN as it is). The conformance tests hold us to its library's
 * bits, so the negation is written out here rather than left to ours. */

static inline float signed_by(float v, uint8_t signs, int j)
{
    return signs & kmask_iq2xs[j] ? -v : v;
}

/* IQ2_XXS: d, qs[32] as u16: per 32 elements two u32, the first four grid
 * indices, the second four 7-bit sign indices and a 4-bit scale. */
void deq_iq2_xxs(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 66) {
        const float d = fp16at(src);
        for (int ib32 = 0; ib32 < 8; ++ib32) {
            const uint8_t *aux8 = src + 2 + 8 * ib32;
            const uint32_t aux1 = rd32(aux8 + 4);
            const float db = d * (0.5f + (aux1 >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l, y += 8) {
                const uint8_t *grid = (const uint8_t *)(iq2xxs_grid + aux8[l]);
                const uint8_t signs = ksigns_iq2xs[(aux1 >> 7 * l) & 127];
                for (int j = 0; j < 8; ++j)
                    y[j] = signed_by(db * grid[j], signs, j);
            }
        }
    }
}

/* IQ2_XS: d, qs[32] as u16 (9-bit grid index, 7-bit sign index),
 * scales[8] (two 4-bit scales per 32 elements). */
void deq_iq2_xs(const uint8_t *src, uint64_t nb, float *y)
{
    float db[2];
    for (uint64_t i = 0; i < nb; i++, src += 74) {
        const float d = fp16at(src);
        const uint8_t *scales = src + 66;
        for (int ib32 = 0; ib32 < 8; ++ib32) {
            db[0] = d * (0.5f + (scales[ib32] & 0xf)) * 0.25f;
            db[1] = d * (0.5f + (scales[ib32] >> 4)) * 0.25f;
            for (int l = 0; l < 4; ++l, y += 8) {
                const uint16_t q = rd16(src + 2 + 2 * (4 * ib32 + l));
                const uint8_t *grid = (const uint8_t *)(iq2xs_grid + (q & 511));
                const uint8_t signs = ksigns_iq2xs[q >> 9];
                for (int j = 0; j < 8; ++j)
                    y[j] = signed_by(db[l / 2] * grid[j], signs, j);
            }
        }
    }
}

/* IQ2_S: d, qs[32] (grid index low bits), signs[32], qh[8] (two more index
 * bits per 8 elements), scales[8]. */
void deq_iq2_s(const uint8_t *src, uint64_t nb, float *y)
{
    float db[2];
    for (uint64_t i = 0; i < nb; i++, src += 82) {
        const float d = fp16at(src);
        const uint8_t *qs = src + 2, *signs = src + 34, *qh = src + 66, *scales = src + 74;
        for (int ib32 = 0; ib32 < 8; ++ib32, qs += 4, signs += 4) {
            db[0] = d * (0.5f + (scales[ib32] & 0xf)) * 0.25f;
            db[1] = d * (0.5f + (scales[ib32] >> 4)) * 0.25f;
            for (int l = 0; l < 4; ++l, y += 8) {
                const float dl = db[l / 2];
                const uint8_t *grid =
                    (const uint8_t *)(iq2s_grid + (qs[l] | (qh[ib32] << (8 - 2 * l) & 0x300)));
                for (int j = 0; j < 8; ++j)
                    y[j] = signed_by(dl * grid[j], signs[l], j);
            }
        }
    }
}

/* IQ3_XXS: d, qs[64] (grid indices), then per 32 elements a u32 of four
 * 7-bit sign indices and a 4-bit scale. */
void deq_iq3_xxs(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 98) {
        const float d = fp16at(src);
        const uint8_t *qs = src + 2, *scales_and_signs = src + 66;
        for (int ib32 = 0; ib32 < 8; ++ib32, qs += 8) {
            const uint32_t aux32 = rd32(scales_and_signs + 4 * ib32);
            const float db = d * (0.5f + (aux32 >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l, y += 8) {
                const uint8_t signs = ksigns_iq2xs[(aux32 >> 7 * l) & 127];
                const uint8_t *grid1 = (const uint8_t *)(iq3xxs_grid + qs[2 * l + 0]);
                const uint8_t *grid2 = (const uint8_t *)(iq3xxs_grid + qs[2 * l + 1]);
                for (int j = 0; j < 4; ++j) {
                    y[j + 0] = signed_by(db * grid1[j], signs, j + 0);
                    y[j + 4] = signed_by(db * grid2[j], signs, j + 4);
                }
            }
        }
    }
}

/* Eight IQ3_S values from two grid points: index bits from qs and qh. */
static inline void iq3_s_eight(const uint8_t *qs, uint8_t qh, uint8_t signs, int l, float db,
                               float *y)
{
    const uint8_t *grid1 =
        (const uint8_t *)(iq3s_grid + (qs[2 * l + 0] | ((qh << (8 - 2 * l)) & 256)));
    const uint8_t *grid2 =
        (const uint8_t *)(iq3s_grid + (qs[2 * l + 1] | ((qh << (7 - 2 * l)) & 256)));
    for (int j = 0; j < 4; ++j) {
        y[j + 0] = signed_by(db * grid1[j], signs, j + 0);
        y[j + 4] = signed_by(db * grid2[j], signs, j + 4);
    }
}

/* IQ3_S: d, qs[64], qh[8], signs[32], scales[4] (two 4-bit per 64). */
void deq_iq3_s(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 110) {
        const float d = fp16at(src);
        const uint8_t *qs = src + 2, *qh = src + 66, *signs = src + 74, *scales = src + 106;
        for (int ib32 = 0; ib32 < 8; ib32 += 2, qh += 2) {
            const float db1 = d * (1 + 2 * (scales[ib32 / 2] & 0xf));
            const float db2 = d * (1 + 2 * (scales[ib32 / 2] >> 4));
            for (int l = 0; l < 4; ++l, y += 8)
                iq3_s_eight(qs, qh[0], signs[l], l, db1, y);
            qs += 8, signs += 4;
            for (int l = 0; l < 4; ++l, y += 8)
                iq3_s_eight(qs, qh[1], signs[l], l, db2, y);
            qs += 8, signs += 4;
        }
    }
}

#define IQ1S_DELTA 0.125f

/* IQ1_S: d, qs[32] (grid index low bits), qh[8] as u16 (three index bits
 * per 8 elements, a 3-bit scale and the sign of the delta). */
void deq_iq1_s(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 50) {
        const float d = fp16at(src);
        const uint8_t *qs = src + 2;
        for (int ib = 0; ib < 8; ++ib, qs += 4) {
            const uint16_t qh = rd16(src + 34 + 2 * ib);
            const float dl = d * (2 * ((qh >> 12) & 7) + 1);
            const float delta = qh & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
            for (int l = 0; l < 4; ++l, y += 8) {
                const int8_t *grid =
                    (const int8_t *)(iq1s_grid + (qs[l] | (((qh >> 3 * l) & 7) << 8)));
                for (int j = 0; j < 8; ++j)
                    y[j] = dl * (grid[j] + delta);
            }
        }
    }
}

/* Eight IQ1_M values from one grid point. */
static inline void iq1_m_eight(uint16_t idx, float dl, float delta, float *y)
{
    const int8_t *grid = (const int8_t *)(iq1s_grid + idx);
    for (int j = 0; j < 8; ++j)
        y[j] = dl * (grid[j] + delta);
}

/* IQ1_M: qs[32], qh[16], scales[8] as four u16: 3-bit sub-block scales, and
 * the fp16 super-block scale in their top nibbles. */
void deq_iq1_m(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 56) {
        uint16_t sc[4];
        const float d = dequant_fp16(iq1_m_scales(src, sc));
        const uint8_t *qs = src, *qh = src + 32;
        for (int ib = 0; ib < 8; ++ib, qs += 4, qh += 2) {
            const float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1);
            const float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
            iq1_m_eight(qs[0] | ((qh[0] << 8) & 0x700), dl1,
                        qh[0] & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA, y);
            iq1_m_eight(qs[1] | ((qh[0] << 4) & 0x700), dl1,
                        qh[0] & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA, y + 8);
            iq1_m_eight(qs[2] | ((qh[1] << 8) & 0x700), dl2,
                        qh[1] & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA, y + 16);
            iq1_m_eight(qs[3] | ((qh[1] << 4) & 0x700), dl2,
                        qh[1] & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA, y + 24);
            y += 32;
        }
    }
}

/* ------------------------------------------------------- ternary types */

/* The ternary digit that multiplying by 3^n brought to the top of q:
 * ggml's ((q * 3) >> 8), minus 1. */
static inline float tq1_trit(uint8_t q, uint8_t pow3, float d)
{
    const uint8_t r = (uint8_t)(q * pow3);
    const int16_t xi = (int16_t)(((uint16_t)r * 3) >> 8);
    return (float)(xi - 1) * d;
}

/* TQ1_0: qs[48] (five trits a byte), qh[4] (four trits a byte), d. */
void deq_tq1_0(const uint8_t *src, uint64_t nb, float *y)
{
    static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    for (uint64_t i = 0; i < nb; i++, src += 54) {
        const float d = fp16at(src + 52);
        for (int n = 0; n < 5; ++n)
            for (int m = 0; m < 32; ++m)
                *y++ = tq1_trit(src[m], pow3[n], d);
        for (int n = 0; n < 5; ++n)
            for (int m = 0; m < 16; ++m)
                *y++ = tq1_trit(src[32 + m], pow3[n], d);
        for (int n = 0; n < 4; ++n)
            for (int j = 0; j < 4; ++j)
                *y++ = tq1_trit(src[48 + j], pow3[n], d);
    }
}

/* TQ2_0: qs[64] (four 2-bit values a byte, value - 1), d. */
void deq_tq2_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 66) {
        const float d = fp16at(src + 64);
        for (int j = 0; j < 64; j += 32)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m) {
                    const int8_t q = (src[j + m] >> (l * 2)) & 3;
                    *y++ = (float)(q - 1) * d;
                }
    }
}

/* ----------------------------------------------------------- FP4 types */

/* MXFP4: e (E8M0), qs[16] of E2M1 codes into kvalues_mxfp4 (doubled, hence
 * the halved scale). */
void deq_mxfp4(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 17, y += 32) {
        const float d = e8m0_half(src[0]);
        for (int j = 0; j < 16; ++j) {
            const int8_t x0 = kvalues_mxfp4[src[1 + j] & 0x0F];
            const int8_t x1 = kvalues_mxfp4[src[1 + j] >> 4];
            y[j + 0] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

/* ggml_ue4m3_to_fp32: an unsigned E4M3 scale (bit 7 ignored; 0 and 0x7F
 * are zero), halved to match the doubled kvalues_mxfp4. ldexpf is exact
 * here, as in ggml (the vector code builds the same value from bits:
 * ue4m3_half in dequant_internal.h). */
static float ue4m3_half_ref(uint8_t x)
{
    if (x == 0 || x == 0x7F)
        return 0.0f;
    const int exp = (x >> 3) & 0xF, man = x & 0x7;
    const float raw = exp == 0 ? ldexpf((float)man, -9) : ldexpf(1.0f + (float)man / 8.0f, exp - 7);
    return raw * 0.5f;
}

/* NVFP4: d[4] (UE4M3, one per 16 elements), qs[32] of E2M1 codes. */
void deq_nvfp4(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 36) {
        for (int s = 0; s < 4; s++, y += 16) {
            const float d = ue4m3_half_ref(src[s]);
            const uint8_t *qs = src + 4 + 8 * s;
            for (int j = 0; j < 8; ++j) {
                const int8_t v0 = kvalues_mxfp4[qs[j] & 0x0F];
                const int8_t v1 = kvalues_mxfp4[qs[j] >> 4];
                y[j + 0] = v0 * d;
                y[j + 8] = v1 * d;
            }
        }
    }
}

/* --------------------------------------------------- 1- and 2-bit types */

/* Q1_0: d, qs[16]: bit j (LSB first) chooses d or -d. */
void deq_q1_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 18, y += 128) {
        const float d = fp16at(src);
        const float neg_d = -d;
        for (int j = 0; j < 128; ++j)
            y[j] = (src[2 + j / 8] >> (j % 8)) & 1 ? d : neg_d;
    }
}

/* Q2_0: d, qs[16]: four 2-bit codes a byte, LSB first, value code - 1. */
void deq_q2_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 18, y += 64) {
        const float d = fp16at(src);
        for (int j = 0; j < 64; ++j) {
            const uint8_t q = (src[2 + j / 4] >> ((j % 4) * 2)) & 0x03;
            y[j] = ((int)q - 1) * d;
        }
    }
}

/* ------------------------------------------------- integer and f64 types
 *
 * ggml has no to_float for these. They become FP32 by C's conversion, which
 * rounds to nearest, ties to even, under the default rounding mode (the
 * daemon never changes it): exact for i8 and i16, rounded for i32 and i64
 * beyond 2^24 in magnitude, and for f64 (overflow to +-Inf, NaN keeps its
 * sign and the top of its payload, made quiet). */

void deq_i8(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = (float)(int8_t)src[i];
}

void deq_i16(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = (float)(int16_t)rd16(src + 2 * i);
}

void deq_i32(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = (float)(int32_t)rd32(src + 4 * i);
}

void deq_i64(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        int64_t v;
        memcpy(&v, src + 8 * i, 8);
        dst[i] = (float)v;
    }
}

void deq_f64(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, src + 8 * i, 8);
        dst[i] = (float)v;
    }
}
