/* dequant_decoders.h - every CPU decoder, by name, for the type table.
 *
 * A decoder turns `nblocks` whole blocks at `src` (any alignment) into
 * nblocks * block_elems floats at `dst`. The scalar ones (dequant_scalar.c)
 * are the reference. A vector level's decoder for a type is a pair: `cached`
 * writes with ordinary stores, `stream` with non-temporal ones (dst then
 * 16-byte aligned) and ends with a store fence. deq_TYPE_LEVEL is defined in
 * dequant_LEVEL.c. Only format/ggml_types.c (the type table, which says which
 * type has which decoder) and the decode module's own files use these names;
 * everyone else decodes through dequant.h.
 */
#ifndef GGUFFS_DEQUANT_DECODERS_H
#define GGUFFS_DEQUANT_DECODERS_H

#include <stdint.h>

#include "decode/dequant.h"

typedef void (*dequant_fn)(const uint8_t *src, uint64_t nblocks, float *dst);

struct dequant_vec {
    dequant_fn cached;
    dequant_fn stream;
};

/* Scalar reference decoders (dequant_scalar.c). */
void deq_f32(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_f16(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_bf16(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q4_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q4_1(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q5_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q5_1(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q8_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq4_nl(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q2_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q3_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q4_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q5_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q6_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q8_k(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq4_xs(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq2_xxs(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq2_xs(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq3_xxs(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq1_s(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq3_s(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq2_s(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_iq1_m(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_tq1_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_tq2_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_mxfp4(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_nvfp4(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q1_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_q2_0(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_i8(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_i16(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_i32(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_i64(const uint8_t *src, uint64_t nblocks, float *dst);
void deq_f64(const uint8_t *src, uint64_t nblocks, float *dst);

/* Vector decoders (dequant_sse41.c, dequant_avx2.c, dequant_avx512.c). */
extern const struct dequant_vec deq_f16_sse41, deq_f16_avx2, deq_f16_avx512;
extern const struct dequant_vec deq_bf16_sse41, deq_bf16_avx2, deq_bf16_avx512;
extern const struct dequant_vec deq_q4_0_sse41, deq_q4_0_avx2, deq_q4_0_avx512;
extern const struct dequant_vec deq_q4_1_sse41, deq_q4_1_avx2, deq_q4_1_avx512;
extern const struct dequant_vec deq_q5_0_sse41, deq_q5_0_avx2, deq_q5_0_avx512;
extern const struct dequant_vec deq_q5_1_sse41, deq_q5_1_avx2, deq_q5_1_avx512;
extern const struct dequant_vec deq_q8_0_sse41, deq_q8_0_avx2, deq_q8_0_avx512;
extern const struct dequant_vec deq_iq4_nl_sse41, deq_iq4_nl_avx2, deq_iq4_nl_avx512;
extern const struct dequant_vec deq_q2_k_sse41, deq_q2_k_avx2, deq_q2_k_avx512;
extern const struct dequant_vec deq_q3_k_sse41, deq_q3_k_avx2, deq_q3_k_avx512;
extern const struct dequant_vec deq_q4_k_sse41, deq_q4_k_avx2, deq_q4_k_avx512;
extern const struct dequant_vec deq_q5_k_sse41, deq_q5_k_avx2, deq_q5_k_avx512;
extern const struct dequant_vec deq_q6_k_sse41, deq_q6_k_avx2, deq_q6_k_avx512;
extern const struct dequant_vec deq_q8_k_sse41, deq_q8_k_avx2, deq_q8_k_avx512;
extern const struct dequant_vec deq_iq4_xs_sse41, deq_iq4_xs_avx2, deq_iq4_xs_avx512;
extern const struct dequant_vec deq_iq2_xxs_sse41, deq_iq2_xxs_avx2, deq_iq2_xxs_avx512;
extern const struct dequant_vec deq_iq2_xs_sse41, deq_iq2_xs_avx2, deq_iq2_xs_avx512;
extern const struct dequant_vec deq_iq2_s_sse41, deq_iq2_s_avx2, deq_iq2_s_avx512;
extern const struct dequant_vec deq_iq3_xxs_sse41, deq_iq3_xxs_avx2, deq_iq3_xxs_avx512;
extern const struct dequant_vec deq_iq3_s_sse41, deq_iq3_s_avx2, deq_iq3_s_avx512;
extern const struct dequant_vec deq_iq1_s_sse41, deq_iq1_s_avx2, deq_iq1_s_avx512;
extern const struct dequant_vec deq_iq1_m_sse41, deq_iq1_m_avx2, deq_iq1_m_avx512;
extern const struct dequant_vec deq_tq1_0_sse41, deq_tq1_0_avx2, deq_tq1_0_avx512;
extern const struct dequant_vec deq_tq2_0_sse41, deq_tq2_0_avx2, deq_tq2_0_avx512;
extern const struct dequant_vec deq_mxfp4_sse41, deq_mxfp4_avx2, deq_mxfp4_avx512;
extern const struct dequant_vec deq_nvfp4_sse41, deq_nvfp4_avx2, deq_nvfp4_avx512;
extern const struct dequant_vec deq_q1_0_sse41, deq_q1_0_avx2, deq_q1_0_avx512;
extern const struct dequant_vec deq_q2_0_sse41, deq_q2_0_avx2, deq_q2_0_avx512;

#endif
