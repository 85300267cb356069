/* dequant.c - scalar reference decoders and the dispatch to vector ones.
 *
 * Each decoder below follows ggml's dequantize_row_* (ggml-quants.c) operation
 * for operation: the same integer expression, converted to float at the same
 * point, multiplied and added in the same order. That is what makes the bits
 * match, signed zeros and NaN payloads included, so none of these may be
 * "simplified" algebraically (d*q - 8*d is not (q - 8)*d in floating point).
 * This file is built with -ffp-contract=off: a fused multiply-add would round
 * once where ggml rounds twice.
 *
 * Blocks are read byte by byte or through memcpy: a GGUF tensor's blocks sit
 * at any alignment inside the mapped file.
 */
#include "decode/dequant.h"
#include "decode/dequant_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "format/ggml_types.h"

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

/* ggml's IQ4_NL / IQ4_XS codebook. */
static const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                         1,    13,   25,  38,  53,  69,  89,  113};

/* ------------------------------------------------------------ plain types */

static void deq_f32(const uint8_t *src, uint64_t n, float *dst)
{
    memcpy(dst, src, n * 4);
}

static void deq_f16(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = fp16at(src + 2 * i);
}

static void deq_bf16(const uint8_t *src, uint64_t n, float *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)rd16(src + 2 * i) << 16;
        memcpy(&dst[i], &u, 4);
    }
}

/* ------------------------------------------------------- 32-element blocks */

static void deq_q4_0(const uint8_t *src, uint64_t nb, float *y)
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

static void deq_q4_1(const uint8_t *src, uint64_t nb, float *y)
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

static void deq_q5_0(const uint8_t *src, uint64_t nb, float *y)
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

static void deq_q5_1(const uint8_t *src, uint64_t nb, float *y)
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

static void deq_q8_0(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 34, y += 32) {
        const float d = fp16at(src);
        for (int j = 0; j < 32; j++)
            y[j] = (int8_t)src[2 + j] * d;
    }
}

static void deq_iq4_nl(const uint8_t *src, uint64_t nb, float *y)
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
static void deq_q2_k(const uint8_t *src, uint64_t nb, float *y)
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
static void deq_q3_k(const uint8_t *src, uint64_t nb, float *y)
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

/* ggml's get_scale_min_k4: 6-bit scale and min number j of Q4_K/Q5_K. */
static inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* Q4_K: d, dmin, scales[12], qs[128]. */
static void deq_q4_k(const uint8_t *src, uint64_t nb, float *y)
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
static void deq_q5_k(const uint8_t *src, uint64_t nb, float *y)
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
static void deq_q6_k(const uint8_t *src, uint64_t nb, float *y)
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
static void deq_q8_k(const uint8_t *src, uint64_t nb, float *y)
{
    for (uint64_t i = 0; i < nb; i++, src += 292, y += 256) {
        const float d = rdf32(src);
        for (int j = 0; j < 256; ++j)
            y[j] = d * (int8_t)src[4 + j];
    }
}

/* IQ4_XS: d, scales_h (u16), scales_l[4], qs[128]. */
static void deq_iq4_xs(const uint8_t *src, uint64_t nb, float *y)
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

/* ------------------------------------------------------------ type table */

struct decoder {
    uint32_t type;
    uint32_t block_elems;
    uint32_t block_bytes;
    dequant_fn scalar;
};

static const struct decoder decoders[] = {
    {GT_F32, 1, 4, deq_f32},         {GT_F16, 1, 2, deq_f16},
    {GT_BF16, 1, 2, deq_bf16},       {GT_Q4_0, 32, 18, deq_q4_0},
    {GT_Q4_1, 32, 20, deq_q4_1},     {GT_Q5_0, 32, 22, deq_q5_0},
    {GT_Q5_1, 32, 24, deq_q5_1},     {GT_Q8_0, 32, 34, deq_q8_0},
    {GT_Q2_K, 256, 84, deq_q2_k},    {GT_Q3_K, 256, 110, deq_q3_k},
    {GT_Q4_K, 256, 144, deq_q4_k},   {GT_Q5_K, 256, 176, deq_q5_k},
    {GT_Q6_K, 256, 210, deq_q6_k},   {GT_Q8_K, 256, 292, deq_q8_k},
    {GT_IQ4_NL, 32, 18, deq_iq4_nl}, {GT_IQ4_XS, 256, 136, deq_iq4_xs},
};

#define NDECODERS (sizeof(decoders) / sizeof(decoders[0]))

static const struct decoder *find_decoder(uint32_t type)
{
    for (size_t i = 0; i < NDECODERS; i++)
        if (decoders[i].type == type)
            return &decoders[i];
    return NULL;
}

/* --------------------------------------------------------------- dispatch */

/* A decoder as chosen for one type: its level, the function with ordinary
 * stores, and the one with streaming stores (NULL where there is none: the
 * scalar decoders, and F32, whose memcpy follows glibc's own size rules). */
struct pick {
    enum dequant_level level;
    dequant_fn fn;
    dequant_fn stream;
};

/* The pick for each table entry. Written once under pthread_once, read-only
 * afterwards. */
static struct pick chosen[NDECODERS];
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

/* The level cap, set by dequant_set_simd_cap() before the first decode. */
static enum dequant_level simd_cap = DQ_AVX512;

int dequant_set_simd_cap(const char *level)
{
    if (level == NULL) {
        simd_cap = DQ_AVX512;
        return 0;
    }
    for (int l = DQ_SCALAR; l < DQ_LEVELS; l++) {
        if (strcmp(level, dequant_level_name((enum dequant_level)l)) == 0) {
            simd_cap = (enum dequant_level)l;
            return 0;
        }
    }
    return -1;
}

/* The best decoder for entry i at or below `level`. */
static struct pick best_pick(size_t i, enum dequant_level level)
{
    for (int l = level; l > DQ_SCALAR; l--) {
        const enum dequant_level got = (enum dequant_level)l;
        dequant_fn fn = dequant_simd_fn(decoders[i].type, got, false);
        if (fn != NULL)
            return (struct pick){got, fn, dequant_simd_fn(decoders[i].type, got, true)};
    }
    return (struct pick){DQ_SCALAR, decoders[i].scalar, NULL};
}

static void choose_all(void)
{
    enum dequant_level cap = dequant_cpu_level();
    const enum dequant_level env = simd_cap;
    if (env < cap)
        cap = env;
    for (size_t i = 0; i < NDECODERS; i++)
        chosen[i] = best_pick(i, cap);
}

/* The table index of `type`, or -1. Triggers the one-time choice. */
static int entry_of(uint32_t type)
{
    const struct decoder *d = find_decoder(type);
    if (d == NULL)
        return -1;
    pthread_once(&chosen_once, choose_all);
    return (int)(d - decoders);
}

const char *dequant_level_name(enum dequant_level level)
{
    static const char *const names[DQ_LEVELS] = {"scalar", "sse4.1", "avx2", "avx512"};
    return level < DQ_LEVELS ? names[level] : "scalar";
}

/* The number of leading blocks to decode with ordinary stores so that the
 * output of the rest starts 16-byte aligned, as streaming stores need, or
 * UINT64_MAX if no such split exists. Single-element types get there in at
 * most three elements; a block's output is a multiple of 16 bytes, so a
 * block type's output is either aligned from the start or never. */
static uint64_t stream_head(const struct decoder *d, const float *dst)
{
    const uintptr_t mis = (uintptr_t)dst % 16;
    if (mis == 0)
        return 0;
    if (d->block_elems != 1 || mis % sizeof(float) != 0)
        return UINT64_MAX;
    return (16 - mis) / sizeof(float);
}

/* Decodes nb blocks of d through p: with streaming stores where the output
 * is larger than DQ_STREAM_MIN_BYTES and can be aligned, else ordinary ones. */
static void decode(const struct decoder *d, const struct pick *p, const uint8_t *src, uint64_t nb,
                   float *dst)
{
    const bool large = nb * d->block_elems * sizeof(float) > DQ_STREAM_MIN_BYTES;
    const uint64_t head = large && p->stream != NULL ? stream_head(d, dst) : UINT64_MAX;
    if (head == UINT64_MAX) {
        p->fn(src, nb, dst);
        return;
    }
    p->fn(src, head, dst);
    p->stream(src + head * d->block_bytes, nb - head, dst + head * d->block_elems);
}

/* ------------------------------------------------------------- public API */

bool dequant_supported(uint32_t type)
{
    return find_decoder(type) != NULL;
}

int dequant_blocks(uint32_t type, const void *src, uint64_t nblocks, float *dst)
{
    const int e = entry_of(type);
    if (e < 0)
        return -1;
    decode(&decoders[e], &chosen[e], (const uint8_t *)src, nblocks, dst);
    return 0;
}

int dequant_blocks_scalar(uint32_t type, const void *src, uint64_t nblocks, float *dst)
{
    const struct decoder *d = find_decoder(type);
    if (d == NULL)
        return -1;
    d->scalar((const uint8_t *)src, nblocks, dst);
    return 0;
}

int dequant_blocks_at(uint32_t type, enum dequant_level level, const void *src, uint64_t nblocks,
                      float *dst)
{
    const struct decoder *d = find_decoder(type);
    if (d == NULL || level >= DQ_LEVELS || level > dequant_cpu_level())
        return -1;
    const struct pick p = best_pick((size_t)(d - decoders), level);
    decode(d, &p, (const uint8_t *)src, nblocks, dst);
    return 0;
}

const char *dequant_isa(uint32_t type)
{
    const int e = entry_of(type);
    return e < 0 ? "scalar" : dequant_level_name(chosen[e].level);
}

/* Decodes one block into tmp and copies elements [from, from + n) of it. */
static void partial_block(dequant_fn fn, const uint8_t *blk, uint32_t from, uint32_t n, float *dst)
{
    float tmp[256];
    fn(blk, 1, tmp);
    memcpy(dst, tmp + from, (size_t)n * sizeof(float));
}

int dequant_range(uint32_t type, const void *src, uint64_t first, uint64_t count, float *dst)
{
    const int e = entry_of(type);
    if (e < 0)
        return -1;
    const struct decoder *d = &decoders[e];
    const dequant_fn fn = chosen[e].fn;
    const uint8_t *p = (const uint8_t *)src + (first / d->block_elems) * d->block_bytes;
    const uint32_t head = (uint32_t)(first % d->block_elems);
    if (head != 0 && count > 0) {
        uint64_t n = d->block_elems - head;
        if (n > count)
            n = count;
        partial_block(fn, p, head, (uint32_t)n, dst);
        p += d->block_bytes, dst += n, count -= n;
    }
    const uint64_t whole = count / d->block_elems;
    decode(d, &chosen[e], p, whole, dst);
    p += whole * d->block_bytes, dst += whole * d->block_elems;
    const uint32_t tail = (uint32_t)(count % d->block_elems);
    if (tail != 0)
        partial_block(fn, p, 0, tail, dst);
    return 0;
}
