/* dequant.c - the choice of a decoder per type, and the public entry points.
 *
 * The decoders themselves are elsewhere (dequant_scalar.c, and one file per
 * vector level); which ones a type has is its row of the type table
 * (format/ggml_types.c). Here the best level the CPU runs, under the cap a
 * caller may set, is chosen once per type; outputs too large to stay in
 * cache are then routed to the streaming variant, and the others decoded in
 * pieces with the next piece's blocks prefetched.
 *
 * This file is compiled for the baseline x86-64: it runs before anyone knows
 * what the CPU supports.
 */
#include "decode/dequant.h"
#include "decode/dequant_internal.h"

#include <cpuid.h>
#include <pthread.h>
#include <string.h>

#include "format/ggml_types.h"

/* run_prefetched()'s piece: 16 KiB of output, whose blocks are 0.6 to 8 KiB
 * of input, prefetched one piece ahead. */
#define DQ_PIECE_BYTES 16384

/* ------------------------------------------------------------ the CPU */

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

static const char *const level_names[DQ_LEVELS] = {"scalar", "sse4.1", "avx2", "avx512"};

const char *dequant_level_name(enum dequant_level level)
{
    return level < DQ_LEVELS ? level_names[level] : "scalar";
}

int dequant_level_parse(const char *name, enum dequant_level *out)
{
    for (int l = DQ_SCALAR; l < DQ_LEVELS; l++) {
        if (strcmp(name, level_names[l]) == 0) {
            *out = (enum dequant_level)l;
            return 0;
        }
    }
    return -1;
}

/* --------------------------------------------------------------- choice */

/* A decoder as chosen for one type: its level, the function with ordinary
 * stores, and the one with streaming stores (NULL where there is none: the
 * scalar decoders, and F32, whose memcpy follows glibc's own size rules). */
struct pick {
    enum dequant_level level;
    dequant_fn fn;
    dequant_fn stream;
};

/* The cap (dequant_set_cap) and the pick for each type id made under it.
 * The cap is written before the choice, the picks once under pthread_once;
 * both are read-only afterwards. */
static enum dequant_level level_cap = DQ_AVX512;
static bool chosen_made;
static struct pick chosen[GT_COUNT];
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

/* The best decoder of t at or below `level`. */
static struct pick best_pick(const struct ggml_type_info *t, enum dequant_level level)
{
    for (int l = level; l > DQ_SCALAR; l--) {
        const struct dequant_vec *v = t->vec[l];
        if (v != NULL)
            return (struct pick){(enum dequant_level)l, v->cached, v->stream};
    }
    return (struct pick){DQ_SCALAR, t->scalar, NULL};
}

static void choose_all(void)
{
    enum dequant_level cap = dequant_cpu_level();
    const enum dequant_level asked = __atomic_load_n(&level_cap, __ATOMIC_ACQUIRE);
    if (asked < cap)
        cap = asked;
    for (uint32_t id = 0; id < GT_COUNT; id++) {
        const struct ggml_type_info *t = ggml_type_find(id);
        if (t != NULL && t->scalar != NULL)
            chosen[id] = best_pick(t, cap);
    }
    __atomic_store_n(&chosen_made, true, __ATOMIC_RELEASE);
}

int dequant_set_cap(enum dequant_level cap)
{
    if (cap >= DQ_LEVELS || __atomic_load_n(&chosen_made, __ATOMIC_ACQUIRE))
        return -1;
    __atomic_store_n(&level_cap, cap, __ATOMIC_RELEASE);
    return 0;
}

/* The table row of `type` if it has a CPU decoder, else NULL. */
static const struct ggml_type_info *decodable(uint32_t type)
{
    const struct ggml_type_info *t = ggml_type_find(type);
    return t != NULL && t->scalar != NULL ? t : NULL;
}

/* The pick for `type` (a decodable one). Triggers the one-time choice. */
static const struct pick *pick_of(uint32_t type)
{
    pthread_once(&chosen_once, choose_all);
    return &chosen[type];
}

/* ------------------------------------------------------------- decoding */

/* The number of leading blocks to decode with ordinary stores so that the
 * output of the rest starts 16-byte aligned, as streaming stores need, or
 * UINT64_MAX if no such split exists. Single-element types get there in at
 * most three elements; a block's output is a multiple of 16 bytes, so a
 * block type's output is either aligned from the start or never. */
static uint64_t stream_head(const struct ggml_type_info *t, const float *dst)
{
    const uintptr_t mis = (uintptr_t)dst % 16;
    if (mis == 0)
        return 0;
    if (t->block_elems != 1 || mis % sizeof(float) != 0)
        return UINT64_MAX;
    return (16 - mis) / sizeof(float);
}

/* Runs a vector decoder with ordinary stores over nb blocks in pieces of
 * DQ_PIECE_BYTES of output, prefetching the next piece's blocks before
 * decoding each. Its output stays in cache, so what it waits on is its
 * input, read from memory (the page cache) in small loads that keep too
 * few misses in flight on their own: on a 2-core AVX-512 EPYC this took
 * Q8_0 from 59 to 82 GB/s and BF16 from 36 to 46 GB/s into 128 KiB. Not for
 * the streaming variants (there it cost a fifth: the streaming stores want
 * the memory bus to themselves) nor for the scalar decoders (F32's memcpy
 * does its own reading ahead). Prefetches never fault, so reading ahead
 * past the last block is harmless. */
static void run_prefetched(dequant_fn fn, const struct ggml_type_info *t, const uint8_t *src,
                           uint64_t nb, float *dst)
{
    const uint64_t per = DQ_PIECE_BYTES / sizeof(float) / t->block_elems;
    const uint64_t piece = per > 0 ? per : 1;
    for (uint64_t b = 0; b < nb; b += piece) {
        const uint64_t n = nb - b < piece ? nb - b : piece;
        const uint8_t *next = src + (b + piece) * t->block_bytes;
        for (uint64_t k = 0; k < piece * t->block_bytes; k += 64)
            __builtin_prefetch(next + k, 0, 3);
        fn(src + b * t->block_bytes, n, dst + b * t->block_elems);
    }
}

/* Decodes nb blocks of t through p: with streaming stores where the output
 * is larger than DQ_STREAM_MIN_BYTES and can be aligned, else ordinary ones. */
static void decode(const struct ggml_type_info *t, const struct pick *p, const uint8_t *src,
                   uint64_t nb, float *dst)
{
    const bool large = nb * t->block_elems * sizeof(float) > DQ_STREAM_MIN_BYTES;
    const uint64_t head = large && p->stream != NULL ? stream_head(t, dst) : UINT64_MAX;
    if (head == UINT64_MAX && p->level == DQ_SCALAR) {
        p->fn(src, nb, dst);
        return;
    }
    if (head == UINT64_MAX) {
        run_prefetched(p->fn, t, src, nb, dst);
        return;
    }
    p->fn(src, head, dst);
    p->stream(src + head * t->block_bytes, nb - head, dst + head * t->block_elems);
}

/* ------------------------------------------------------------- public API */

bool dequant_supported(uint32_t type)
{
    return decodable(type) != NULL;
}

int dequant_blocks(uint32_t type, const void *src, uint64_t nblocks, float *dst)
{
    const struct ggml_type_info *t = decodable(type);
    if (t == NULL)
        return -1;
    decode(t, pick_of(type), (const uint8_t *)src, nblocks, dst);
    return 0;
}

int dequant_blocks_scalar(uint32_t type, const void *src, uint64_t nblocks, float *dst)
{
    const struct ggml_type_info *t = decodable(type);
    if (t == NULL)
        return -1;
    t->scalar((const uint8_t *)src, nblocks, dst);
    return 0;
}

int dequant_blocks_at(uint32_t type, enum dequant_level level, const void *src, uint64_t nblocks,
                      float *dst)
{
    const struct ggml_type_info *t = decodable(type);
    if (t == NULL || level >= DQ_LEVELS || level > dequant_cpu_level())
        return -1;
    const struct pick p = best_pick(t, level);
    decode(t, &p, (const uint8_t *)src, nblocks, dst);
    return 0;
}

const char *dequant_isa(uint32_t type)
{
    return decodable(type) ? dequant_level_name(pick_of(type)->level) : "scalar";
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
    const struct ggml_type_info *t = decodable(type);
    if (t == NULL)
        return -1;
    const struct pick *pk = pick_of(type);
    const uint8_t *p = (const uint8_t *)src + (first / t->block_elems) * t->block_bytes;
    const uint32_t head = (uint32_t)(first % t->block_elems);
    if (head != 0 && count > 0) {
        uint64_t n = t->block_elems - head;
        if (n > count)
            n = count;
        partial_block(pk->fn, p, head, (uint32_t)n, dst);
        p += t->block_bytes, dst += n, count -= n;
    }
    const uint64_t whole = count / t->block_elems;
    decode(t, pk, p, whole, dst);
    p += whole * t->block_bytes, dst += whole * t->block_elems;
    const uint32_t tail = (uint32_t)(count % t->block_elems);
    if (tail != 0)
        partial_block(pk->fn, p, 0, tail, dst);
    return 0;
}
