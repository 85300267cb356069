/* random_blocks.c - see random_blocks.h. */
#include "random_blocks.h"

#include <string.h>

#include "format/ggml_types.h"

/* Where a type keeps its scales: up to two fp16 fields, or one fp32. */
struct layout {
    uint32_t type, elems, bytes;
    int16_t f16_at[2]; /* -1: none */
    int16_t f32_at;    /* -1: none */
};

static const struct layout layouts[] = {
    {GT_F32, 1, 4, {-1, -1}, -1},       {GT_F16, 1, 2, {-1, -1}, -1},
    {GT_BF16, 1, 2, {-1, -1}, -1},      {GT_Q4_0, 32, 18, {0, -1}, -1},
    {GT_Q4_1, 32, 20, {0, 2}, -1},      {GT_Q5_0, 32, 22, {0, -1}, -1},
    {GT_Q5_1, 32, 24, {0, 2}, -1},      {GT_Q8_0, 32, 34, {0, -1}, -1},
    {GT_Q2_K, 256, 84, {80, 82}, -1},   {GT_Q3_K, 256, 110, {108, -1}, -1},
    {GT_Q4_K, 256, 144, {0, 2}, -1},    {GT_Q5_K, 256, 176, {0, 2}, -1},
    {GT_Q6_K, 256, 210, {208, -1}, -1}, {GT_Q8_K, 256, 292, {-1, -1}, 0},
    {GT_IQ4_NL, 32, 18, {0, -1}, -1},   {GT_IQ4_XS, 256, 136, {0, -1}, -1},
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
    const struct layout *l = find(type);
    return l ? l->elems : 0;
}

uint32_t rb_block_bytes(uint32_t type)
{
    const struct layout *l = find(type);
    return l ? l->bytes : 0;
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

static void fill_plain(const struct layout *l, uint64_t n, struct rb_rng *r, uint8_t *out)
{
    for (uint64_t i = 0; i < n; i++) {
        if (l->bytes == 4) {
            put32(out + 4 * i, (rb_next(r) & 7) == 0 ? scale_f32(r) : (uint32_t)rb_next(r));
        } else {
            put16(out + 2 * i, i < 65536 ? (uint16_t)i : (uint16_t)rb_next(r));
        }
    }
}

int rb_fill(uint32_t type, uint64_t nblocks, struct rb_rng *rng, uint8_t *out)
{
    const struct layout *l = find(type);
    if (l == NULL)
        return -1;
    if (l->elems == 1) {
        fill_plain(l, nblocks, rng, out);
        return 0;
    }
    for (uint64_t b = 0; b < nblocks; b++, out += l->bytes) {
        quant_bytes(rng, out, l->bytes);
        for (int k = 0; k < 2; k++)
            if (l->f16_at[k] >= 0)
                put16(out + l->f16_at[k], scale_f16(rng));
        if (l->f32_at >= 0)
            put32(out + l->f32_at, scale_f32(rng));
    }
    return 0;
}
