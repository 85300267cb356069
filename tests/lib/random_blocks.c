/* random_blocks.c - see random_blocks.h. */
#include "random_blocks.h"

#include <string.h>

#include "format/ggml_types.h"

/* Where a type keeps its scales, for planting hard values there: up to two
 * fp16 fields, or one fp32; the rest of a block is random bytes. Block
 * geometry is the type table's. */
struct layout {
    uint32_t type;
    int16_t f16_at[2]; /* -1: none */
    int16_t f32_at;    /* -1: none */
    enum {
        PLAIN,     /* random bytes */
        PLAIN_F16, /* every 16-bit pattern, in order, then random */
        PLAIN_F32, /* random bits with float specials */
        PLAIN_F64, /* random bits with double specials */
        IQ1_M,     /* fp16 scale split over the top nibbles of four u16 */
        E8M0,      /* MXFP4's exponent byte, its extremes planted */
    } kind;
};

static const struct layout layouts[] = {
    {GT_F32, {-1, -1}, -1, PLAIN_F32},  {GT_F16, {-1, -1}, -1, PLAIN_F16},
    {GT_BF16, {-1, -1}, -1, PLAIN_F16}, {GT_Q4_0, {0, -1}, -1, PLAIN},
    {GT_Q4_1, {0, 2}, -1, PLAIN},       {GT_Q5_0, {0, -1}, -1, PLAIN},
    {GT_Q5_1, {0, 2}, -1, PLAIN},       {GT_Q8_0, {0, -1}, -1, PLAIN},
    {GT_Q2_K, {80, 82}, -1, PLAIN},     {GT_Q3_K, {108, -1}, -1, PLAIN},
    {GT_Q4_K, {0, 2}, -1, PLAIN},       {GT_Q5_K, {0, 2}, -1, PLAIN},
    {GT_Q6_K, {208, -1}, -1, PLAIN},    {GT_Q8_K, {-1, -1}, 0, PLAIN},
    {GT_IQ4_NL, {0, -1}, -1, PLAIN},    {GT_IQ4_XS, {0, -1}, -1, PLAIN},
    {GT_IQ2_XXS, {0, -1}, -1, PLAIN},   {GT_IQ2_XS, {0, -1}, -1, PLAIN},
    {GT_IQ3_XXS, {0, -1}, -1, PLAIN},   {GT_IQ1_S, {0, -1}, -1, PLAIN},
    {GT_IQ3_S, {0, -1}, -1, PLAIN},     {GT_IQ2_S, {0, -1}, -1, PLAIN},
    {GT_IQ1_M, {-1, -1}, -1, IQ1_M},    {GT_TQ1_0, {52, -1}, -1, PLAIN},
    {GT_TQ2_0, {64, -1}, -1, PLAIN},    {GT_MXFP4, {-1, -1}, -1, E8M0},
    {GT_NVFP4, {-1, -1}, -1, PLAIN},    {GT_Q1_0, {0, -1}, -1, PLAIN},
    {GT_Q2_0, {0, -1}, -1, PLAIN},      {GT_I8, {-1, -1}, -1, PLAIN},
    {GT_I16, {-1, -1}, -1, PLAIN},      {GT_I32, {-1, -1}, -1, PLAIN},
    {GT_I64, {-1, -1}, -1, PLAIN},      {GT_F64, {-1, -1}, -1, PLAIN_F64},
};

static const struct layout *find(uint32_t type)
{
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
        if (layouts[i].type == type)
            return &layouts[i];
    return NULL;
}

uint32_t rb_block_elems(uint32_t type)
{
    const struct ggml_type_info *t = ggml_type_find(type);
    return t && find(type) ? t->block_elems : 0;
}

uint32_t rb_block_bytes(uint32_t type)
{
    const struct ggml_type_info *t = ggml_type_find(type);
    return t && find(type) ? t->block_bytes : 0;
}

static const uint16_t f16_specials[] = {
    0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00,
    0xFC00, 0x7E00, 0xFE00, 0x7C01, 0xFD55, 0x7FFF, 0xBC00, 0x3C00, 0xC000, 0x3555,
};

static const uint32_t f32_specials[] = {
    0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x7F800000, 0xFF800000,
    0x7FC00000, 0xFFC00001, 0x7F800001, 0x7FA5A5A5, 0xBF800000, 0x3DCCCCCD,
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A scale: a quarter specials, a quarter random bits, the rest ordinary
 * magnitudes near 1/64 with either sign. */
static uint16_t scale_f16(struct rb_rng *r)
{
    const uint64_t x = rb_next(r);
    switch (x & 3) {
    case 0:
        return f16_specials[(x >> 8) % NELEMS(f16_specials)];
    case 1:
        return (uint16_t)(x >> 16);
    default:
        return (uint16_t)(((x >> 16) & 0x83FF) | ((uint16_t)(9 + (x >> 32) % 8) << 10));
    }
}

static uint32_t scale_f32(struct rb_rng *r)
{
    const uint64_t x = rb_next(r);
    switch (x & 3) {
    case 0:
        return f32_specials[(x >> 8) % NELEMS(f32_specials)];
    case 1:
        return (uint32_t)(x >> 32);
    default:
        return (uint32_t)(((x >> 32) & 0x807FFFFF) | ((uint32_t)(115 + (x >> 8) % 12) << 23));
    }
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* Random bytes, with 0x88 (two nibble-8 quants) planted about 1 in 16. */
static void quant_bytes(struct rb_rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t x = rb_next(r);
        p[i] = (x & 0xF00) == 0 ? 0x88 : (uint8_t)x;
    }
}

static const uint64_t f64_specials[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x7FF0000000000000,
    0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000123, 0x7FF0000000000001,
    0x7FF4000020000000, 0x47EFFFFFF0000000, /* FLT_MAX + half an ulp: ties to even, to Inf */
    0x47EFFFFFEFFFFFFF, 0x3690000000000000, /* 2^-150: ties to even, to 0 */
    0x3690000000000001, 0x36A0000000000000, 0x3FF0000010000000, /* 1 + 2^-24: a tie */
    0x3FF0000030000000, 0xC1E0000000000000,
};

/* A double: a quarter specials (overflow, ties, NaN payloads, values that
 * round to float subnormals or zero), the rest random bits of moderate or
 * any exponent. */
static uint64_t value_f64(struct rb_rng *r)
{
    const uint64_t x = rb_next(r);
    switch (x & 3) {
    case 0:
        return f64_specials[(x >> 8) % NELEMS(f64_specials)];
    case 1:
        return rb_next(r);
    default:
        return (rb_next(r) & UINT64_C(0x800FFFFFFFFFFFFF)) |
               ((uint64_t)(1023 - 160 + (x >> 8) % 320) << 52);
    }
}

static void fill_plain(const struct layout *l, uint64_t n, uint32_t bytes, struct rb_rng *r,
                       uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        switch (l->kind) {
        case PLAIN_F32:
            put32(out + 4 * i, (rb_next(r) & 7) == 0 ? scale_f32(r) : (uint32_t)rb_next(r));
            break;
        case PLAIN_F16:
            put16(out + 2 * i, i < 65536 ? (uint16_t)i : (uint16_t)rb_next(r));
            break;
        case PLAIN_F64: {
            const uint64_t v = value_f64(r);
            put32(out + 8 * i, (uint32_t)v);
            put32(out + 8 * i + 4, (uint32_t)(v >> 32));
            break;
        }
        default:
            quant_bytes(r, out + (size_t)bytes * i, bytes);
        }
    }
}

/* IQ1_M's fp16 scale lives in the top nibble of each of the four u16 words
 * at the end of the block (bytes 48-55). */
static void plant_iq1_m(uint8_t *blk, uint16_t h)
{
    for (int k = 0; k < 4; k++)
        blk[49 + 2 * k] = (uint8_t)((blk[49 + 2 * k] & 0x0F) | ((h >> (4 * k)) & 0x0F) << 4);
}

/* MXFP4's E8M0 byte: its subnormal and largest codes often. */
static uint8_t e8m0(struct rb_rng *r)
{
    static const uint8_t specials[] = {0, 1, 2, 126, 127, 128, 254, 255};
    const uint64_t x = rb_next(r);
    return (x & 3) == 0 ? specials[(x >> 8) % NELEMS(specials)] : (uint8_t)(x >> 16);
}

int rb_fill(uint32_t type, uint64_t nblocks, struct rb_rng *rng, uint8_t *out)
{
    const struct layout *l = find(type);
    const struct ggml_type_info *t = ggml_type_find(type);
    if (l == NULL || t == NULL)
        return -1;
    if (t->block_elems == 1) {
        fill_plain(l, nblocks, t->block_bytes, rng, out);
        return 0;
    }
    for (uint64_t b = 0; b < nblocks; b++, out += t->block_bytes) {
        quant_bytes(rng, out, t->block_bytes);
        for (int k = 0; k < 2; k++)
            if (l->f16_at[k] >= 0)
                put16(out + l->f16_at[k], scale_f16(rng));
        if (l->f32_at >= 0)
            put32(out + l->f32_at, scale_f32(rng));
        if (l->kind == IQ1_M)
            plant_iq1_m(out, scale_f16(rng));
        if (l->kind == E8M0)
            out[0] = e8m0(rng);
    }
    return 0;
}
