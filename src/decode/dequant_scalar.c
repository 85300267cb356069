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

#include <string.h>

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
