/* ggml_types.h - the ggml tensor type table: one row per type.
 *
 * Contract: pure constant data, no state. Ids, names and block geometry are
 * ggml's own (ggml.h, enum ggml_type; ggml.c, type_traits[]), checked against
 * ggml's library by the conformance tests. Each row also names the type's CPU
 * decoders (scalar, and per vector level the ordinary- and streaming-store
 * variants) and its GPU kernel, so that adding a type is one row here plus
 * its decoders. ggml_type_find() returns NULL for an id the table does not
 * know; such a tensor is still listed by the mount, and its reads fail with
 * the reason in the control file.
 */
#ifndef GGUFFS_GGML_TYPES_H
#define GGUFFS_GGML_TYPES_H

#include <stdint.h>

#include "decode/dequant_decoders.h"

enum ggml_type_id {
    GT_F32 = 0,
    GT_F16 = 1,
    GT_Q4_0 = 2,
    GT_Q4_1 = 3,
    GT_Q5_0 = 6,
    GT_Q5_1 = 7,
    GT_Q8_0 = 8,
    GT_Q8_1 = 9,
    GT_Q2_K = 10,
    GT_Q3_K = 11,
    GT_Q4_K = 12,
    GT_Q5_K = 13,
    GT_Q6_K = 14,
    GT_Q8_K = 15,
    GT_IQ2_XXS = 16,
    GT_IQ2_XS = 17,
    GT_IQ3_XXS = 18,
    GT_IQ1_S = 19,
    GT_IQ4_NL = 20,
    GT_IQ3_S = 21,
    GT_IQ2_S = 22,
    GT_IQ4_XS = 23,
    GT_I8 = 24,
    GT_I16 = 25,
    GT_I32 = 26,
    GT_I64 = 27,
    GT_F64 = 28,
    GT_IQ1_M = 29,
    GT_BF16 = 30,
    GT_TQ1_0 = 34,
    GT_TQ2_0 = 35,
    GT_MXFP4 = 39,
    GT_NVFP4 = 40,
    GT_Q1_0 = 41,
    GT_Q2_0 = 42,
    GT_COUNT = 43, /* one past the highest id ggml 0.23 defines */
};

struct ggml_type_info {
    uint32_t id;
    const char *name;     /* ggml's spelling: "q4_0", "bf16", ... */
    uint32_t block_elems; /* elements per block (1 for plain types) */
    uint32_t block_bytes; /* bytes per block */
    /* The scalar reference decoder, or NULL: no CPU decoder. */
    dequant_fn scalar;
    /* The vector decoders by level ([DQ_SSE41] .. [DQ_AVX512]; [DQ_SCALAR]
     * is unused); NULL where a level has none (a lower one is used). */
    const struct dequant_vec *vec[DQ_LEVELS];
    /* The GPU kernel's symbol in kernels/, or NULL: no GPU decoder. */
    const char *gpu_kernel;
};

/* The entry for `id`, or NULL if ggml has no such type (or gguffs does not
 * know it). The pointer is to static storage. */
const struct ggml_type_info *ggml_type_find(uint32_t id);

/* The name of `id` for messages: the table's name, or "type<N>" written into
 * buf (which must hold 16 bytes) for unknown ids. */
const char *ggml_type_name(uint32_t id, char buf[16]);

#endif
