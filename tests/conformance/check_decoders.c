/* check_decoders.c - ggml_check's modes that hold the decoders and the type
 * table to ggml's library: dequant, quantized, grids and types (see
 * ggml_check.c for what each does). */
#include "check_decoders.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/dequant.h"
#include "decode/dequant_internal.h"
#include "format/ggml_types.h"
#include "random_blocks.h"

/* Checks one type on `nblocks` random blocks: every level vs ggml. Plain
 * 16-bit types get at least 70000 elements, so that every bit pattern (the
 * generator's first 65536 elements) is held to ggml's conversion. */
static int check_type(const struct ggml *g, int type, uint64_t nblocks, uint64_t seed)
{
    if (rb_block_elems((uint32_t)type) == 1 && nblocks < 70000)
        nblocks = 70000;
    const uint64_t n = nblocks * rb_block_elems((uint32_t)type);
    uint8_t *src = malloc(nblocks * rb_block_bytes((uint32_t)type));
    float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    int rc = -1;
    struct rb_rng rng = {seed * 1000 + (uint64_t)type};
    if (src == NULL || want == NULL || got == NULL || rb_fill((uint32_t)type, nblocks, &rng, src)) {
        fprintf(stderr, "ggml_check: cannot prepare %s blocks\n", ggml_name(g, type));
        goto out;
    }
    ggml_decode(g, type, src, (int64_t)n, want);
    char what[64];
    rc = 0;
    printf("%-8s %" PRIu64 " blocks:", ggml_name(g, type), nblocks);
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level(); l++) {
        memset(got, 0xA5, n * sizeof(float));
        snprintf(what, sizeof(what), "%s %s", ggml_name(g, type),
                 dequant_level_name((enum dequant_level)l));
        const bool bad =
            dequant_blocks_at((uint32_t)type, (enum dequant_level)l, src, nblocks, got) != 0 ||
            same_floats(want, got, n, what) != 0;
        printf(" %s %s", dequant_level_name((enum dequant_level)l), bad ? "FAIL" : "ok");
        rc |= bad ? -1 : 0;
    }
    memset(got, 0xA5, n * sizeof(float));
    snprintf(what, sizeof(what), "%s dispatched", ggml_name(g, type));
    const bool bad = dequant_blocks((uint32_t)type, src, nblocks, got) != 0 ||
                     same_floats(want, got, n, what) != 0;
    printf(" dispatched(%s) %s\n", dequant_isa((uint32_t)type), bad ? "FAIL" : "ok");
    rc |= bad ? -1 : 0;
out:
    free(src), free(want), free(got);
    return rc;
}

/* The ggml type id named `name` ("q4_0", "Q4_K", ...), or -1. */
static int type_by_name(const struct ggml *g, const char *name)
{
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        if (!dequant_supported((uint32_t)id))
            continue;
        if (strcasecmp(ggml_name(g, id), name) == 0)
            return id;
    }
    return -1;
}

int mode_dequant(const struct ggml *g, const char *tname, const char *nb, const char *sd)
{
    const uint64_t nblocks = strtoull(nb, NULL, 10);
    const uint64_t seed = sd ? strtoull(sd, NULL, 10) : 1;
    const bool all = strcmp(tname, "all") == 0;
    const int one = all ? -1 : type_by_name(g, tname);
    if (nblocks == 0 || (!all && one < 0)) {
        fprintf(stderr, "ggml_check: bad type '%s' or block count '%s'\n", tname, nb);
        return 2;
    }
    int failed = 0, checked = 0;
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        if ((all && !dequant_supported((uint32_t)id)) || (!all && id != one))
            continue;
        if (!ggml_can_decode(g, id) && ggml_is_plain(g, id)) {
            /* i8 ... f64: no reference here; test_dequant checks them */
            printf("%-8s not decoded by ggml\n", ggml_name(g, id));
            continue;
        }
        if (!ggml_can_decode(g, id)) {
            fprintf(stderr, "ggml_check: ggml has no decoder for %s\n", ggml_name(g, id));
            failed++;
            continue;
        }
        failed += check_type(g, id, nblocks, seed) != 0;
        checked++;
    }
    printf("%d types checked, %d failed\n", checked, failed);
    return failed || checked == 0 ? 1 : 0;
}

/* ------------------------------------------------------- quantized mode */

/* A weight-like value: roughly normal (a sum of uniforms), an outlier now
 * and then, and exact zeros. */
static float weight(struct rb_rng *r)
{
    const uint64_t x = rb_next(r);
    if ((x & 63) == 0)
        return 0.0f;
    float v = 0.0f;
    for (int k = 0; k < 4; k++)
        v += (float)((rb_next(r) >> 40) & 0xFFFFFF) / 16777216.0f - 0.5f;
    return (x & 0x3F00) == 0 ? v * 40.0f : v * 0.05f;
}

#define Q_ROW 512 /* elements per row: a multiple of every block size */

/* Rows of weights quantized by ggml itself (ggml_quantize_chunk, with an
 * importance matrix, which the IQ1/IQ2 types require), then decoded by ggml
 * and by every level of ours. */
static int check_quantized(const struct ggml *g, int type, int64_t nrows, uint64_t seed)
{
    const uint64_t n = (uint64_t)nrows * Q_ROW;
    const uint64_t nb = n / rb_block_elems((uint32_t)type);
    float *x = malloc(n * sizeof(float)), imatrix[Q_ROW];
    float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    uint8_t *q = malloc(nb * rb_block_bytes((uint32_t)type));
    struct rb_rng r = {seed * 7919 + (uint64_t)type};
    int rc = -1;
    if (!x || !want || !got || !q)
        goto out;
    for (uint64_t i = 0; i < n; i++)
        x[i] = weight(&r);
    for (int i = 0; i < Q_ROW; i++)
        imatrix[i] = 0.5f + (float)(rb_next(&r) % 1000) / 100.0f;
    const size_t bytes = g->quantize_chunk(type, x, q, 0, nrows, Q_ROW, imatrix);
    if (bytes != nb * rb_block_bytes((uint32_t)type)) {
        fprintf(stderr, "ggml_check: ggml quantized %s to %zu bytes\n", ggml_name(g, type), bytes);
        goto out;
    }
    ggml_decode(g, type, q, (int64_t)n, want);
    rc = 0;
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level() && rc == 0; l++) {
        char what[64];
        snprintf(what, sizeof(what), "%s quantized by ggml, %s", ggml_name(g, type),
                 dequant_level_name((enum dequant_level)l));
        if (dequant_blocks_at((uint32_t)type, (enum dequant_level)l, q, nb, got) != 0 ||
            same_floats(want, got, n, what) != 0)
            rc = -1;
    }
    printf("%-8s %" PRId64 " rows quantized by ggml: %s\n", ggml_name(g, type), nrows,
           rc ? "FAIL" : "ok");
out:
    free(x), free(want), free(got), free(q);
    return rc;
}

/* Every type both sides decode and ggml quantizes (not f32, the integers,
 * f64, nor Q8_K, which ggml quantizes only for its own dot products). */
int mode_quantized(const struct ggml *g, const char *rows, const char *sd)
{
    const int64_t nrows = strtoll(rows, NULL, 10);
    const uint64_t seed = sd ? strtoull(sd, NULL, 10) : 1;
    if (nrows <= 0)
        return 2;
    int failed = 0, checked = 0;
    for (int id = 1; id < GGML_TYPE_COUNT_MAX; id++) {
        if (!dequant_supported((uint32_t)id) || !ggml_can_decode(g, id) || id == 15)
            continue;
        failed += check_quantized(g, id, nrows, seed) != 0;
        checked++;
    }
    g->quantize_free();
    printf("%d types quantized by ggml checked, %d failed\n", checked, failed);
    return failed || checked == 0 ? 1 : 0;
}

/* ------------------------------------------------------- grids mode */

/* Writes grid index `idx` into index slot `slot` of an IQ block (per block:
 * 32 slots, 64 for the IQ3 types), as that type's decoder reads it back. */
typedef void (*set_index_fn)(uint8_t *blk, int slot, uint32_t idx);

static void set_iq2_xxs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + 8 * (s / 4) + s % 4] = (uint8_t)idx;
}

static void set_iq2_xs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + 2 * s] = (uint8_t)idx;
    b[3 + 2 * s] = (uint8_t)((b[3 + 2 * s] & 0xFE) | idx >> 8); /* bits 9-15: signs */
}

static void set_iq2_s(uint8_t *b, int s, uint32_t idx)
{
    const int sh = 2 * (s % 4);
    b[2 + s] = (uint8_t)idx;
    b[66 + s / 4] = (uint8_t)((b[66 + s / 4] & ~(3 << sh)) | (idx >> 8) << sh);
}

static void set_iq3_xxs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + s] = (uint8_t)idx;
}

static void set_iq3_s(uint8_t *b, int s, uint32_t idx)
{
    b[2 + s] = (uint8_t)idx;
    b[66 + s / 8] = (uint8_t)((b[66 + s / 8] & ~(1 << (s % 8))) | (idx >> 8) << (s % 8));
}

static void set_iq1_s(uint8_t *b, int s, uint32_t idx)
{
    const int ib = s / 4, sh = 3 * (s % 4);
    uint16_t qh = (uint16_t)(b[34 + 2 * ib] | b[35 + 2 * ib] << 8);
    qh = (uint16_t)((qh & ~(7 << sh)) | (idx >> 8) << sh);
    b[2 + s] = (uint8_t)idx;
    b[34 + 2 * ib] = (uint8_t)qh, b[35 + 2 * ib] = (uint8_t)(qh >> 8);
}

static void set_iq1_m(uint8_t *b, int s, uint32_t idx)
{
    const int at = 32 + 2 * (s / 4) + (s % 4) / 2, sh = s % 2 ? 4 : 0;
    b[s] = (uint8_t)idx;
    b[at] = (uint8_t)((b[at] & ~(7 << sh)) | (idx >> 8) << sh);
}

/* An ordinary scale (1/3, rounded) in place of the random one, which may be
 * a NaN or zero that hides the grid values. */
static void set_scale(uint8_t *b, int type)
{
    if (type == 29) { /* IQ1_M: the fp16 scale is in four top nibbles */
        for (int k = 0; k < 4; k++)
            b[49 + 2 * k] = (uint8_t)((b[49 + 2 * k] & 0x0F) | ((0x3555 >> (4 * k)) & 0x0F) << 4);
    } else {
        b[0] = 0x55, b[1] = 0x35;
    }
}

static const struct grid_case {
    int type;
    uint32_t entries; /* grid size */
    int slots;        /* index slots per block */
    set_index_fn set;
} grid_cases[] = {
    {16, 256, 32, set_iq2_xxs}, {17, 512, 32, set_iq2_xs}, {22, 1024, 32, set_iq2_s},
    {18, 256, 64, set_iq3_xxs}, {21, 512, 64, set_iq3_s},  {19, 2048, 32, set_iq1_s},
    {29, 2048, 32, set_iq1_m},
};

/* Blocks of c's type whose index slots take every grid entry in turn (the
 * other bits random: scales, signs, deltas), decoded by ggml and by every
 * level of ours. The entries each block reached are counted from what was
 * written, so a setter that missed its slot cannot pass unnoticed. */
static int check_grid(const struct ggml *g, const struct grid_case *c, uint64_t seed)
{
    const uint32_t be = rb_block_elems((uint32_t)c->type), bb = rb_block_bytes((uint32_t)c->type);
    const uint64_t nb = 4 * (c->entries / (uint32_t)c->slots); /* every entry four times */
    uint8_t *src = malloc(nb * bb);
    float *want = malloc(nb * be * sizeof(float)), *got = malloc(nb * be * sizeof(float));
    bool *seen = calloc(c->entries, 1);
    struct rb_rng r = {seed + (uint64_t)c->type};
    int rc = -1;
    if (!src || !want || !got || !seen || rb_fill((uint32_t)c->type, nb, &r, src) != 0)
        goto out;
    for (uint64_t b = 0; b < nb; b++) {
        if (b % 2 == 0) /* each entry lands in two blocks of each parity */
            set_scale(src + b * bb, c->type);
        for (int s = 0; s < c->slots; s++) {
            const uint32_t idx = (uint32_t)((b * (uint64_t)c->slots + (uint64_t)s) % c->entries);
            c->set(src + b * bb, s, idx);
            seen[idx] = true;
        }
    }
    uint32_t covered = 0;
    for (uint32_t i = 0; i < c->entries; i++)
        covered += seen[i];
    ggml_decode(g, c->type, src, (int64_t)(nb * be), want);
    rc = covered == c->entries ? 0 : -1;
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level() && rc == 0; l++) {
        char what[64];
        snprintf(what, sizeof(what), "%s grid at %s", ggml_name(g, c->type),
                 dequant_level_name((enum dequant_level)l));
        if (dequant_blocks_at((uint32_t)c->type, (enum dequant_level)l, src, nb, got) != 0 ||
            same_floats(want, got, nb * be, what) != 0)
            rc = -1;
    }
    printf("%-8s %u of %u grid entries, %" PRIu64 " blocks: %s\n", ggml_name(g, c->type), covered,
           c->entries, nb, rc ? "FAIL" : "ok");
out:
    free(src), free(want), free(got), free(seen);
    return rc;
}

int mode_grids(const struct ggml *g)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(grid_cases) / sizeof(grid_cases[0]); i++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            failed += check_grid(g, &grid_cases[i], seed) != 0;
    printf("%d grid checks failed\n", failed);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------- types mode */

/* ggml defines `id` if its traits give it a block size: retired ids keep a
 * name ("DEPRECATED", "... REMOVED ...") but no geometry. */
static bool ggml_defines(const struct ggml *g, int id)
{
    const struct ggml_type_traits *t = g->traits(id);
    return t != NULL && t->type_name != NULL && t->blck_size > 0;
}

/* 0 if gguffs' row for `id` agrees with ggml's traits (both absent counts). */
static int check_row(const struct ggml *g, int id)
{
    const struct ggml_type_info *ours = ggml_type_find((uint32_t)id);
    if (!ggml_defines(g, id)) {
        if (ours == NULL)
            return 0;
        fprintf(stderr, "MISMATCH type %d: gguffs has '%s', ggml has no such type\n", id,
                ours->name);
        return -1;
    }
    const struct ggml_type_traits *t = g->traits(id);
    if (ggml_can_decode(g, id) && !dequant_supported((uint32_t)id)) {
        fprintf(stderr, "MISSING type %d (%s): ggml decodes it, gguffs does not\n", id,
                t->type_name);
        return -1;
    }
    if (ours == NULL || strcmp(ours->name, t->type_name) != 0 ||
        (int64_t)ours->block_elems != t->blck_size || ours->block_bytes != t->type_size) {
        fprintf(stderr, "MISMATCH type %d: ggml %s %" PRId64 "/%zu, gguffs %s %u/%u\n", id,
                t->type_name, t->blck_size, t->type_size, ours ? ours->name : "(none)",
                ours ? ours->block_elems : 0, ours ? ours->block_bytes : 0);
        return -1;
    }
    return 0;
}

int mode_types(const struct ggml *g)
{
    int bad = 0, defined = 0;
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        bad += check_row(g, id) != 0;
        defined += ggml_defines(g, id);
    }
    if (GT_COUNT != GGML_TYPE_COUNT_MAX) {
        fprintf(stderr, "MISMATCH: gguffs knows %d type ids, ggml %d\n", GT_COUNT,
                GGML_TYPE_COUNT_MAX);
        bad++;
    }
    printf("%d types defined by ggml, %d rows differ\n", defined, bad);
    return bad ? 1 : 0;
}
