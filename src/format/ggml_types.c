/* ggml_types.c - the ggml tensor type table (see ggml_types.h).
 *
 * Block geometry as in ggml's type traits (ggml.c, type_traits[]): for block
 * types, block_bytes is sizeof(block_xxx) in ggml-common.h; the conformance
 * tests hold every row to ggml_get_type_traits() of ggml's library. Ids that
 * ggml has retired (Q4_2, Q4_3, Q4_0_4_4, ...) are absent on purpose: a
 * tensor of such a type is listed but cannot be served.
 *
 * This table is where the format meets the decoders: a row names the
 * scalar decoder (dequant_scalar.c), the vector decoders of each level
 * (dequant_sse41.c, dequant_avx2.c, dequant_avx512.c; a level without one
 * falls back to the level below) and the GPU kernel (kernels/). Nothing else
 * lists types.
 */
#include "format/ggml_types.h"

#include <stddef.h>
#include <stdio.h>

/* A type's vector decoders, SSE4.1 to AVX-512. */
#define VEC(sse41, avx2, avx512)                                                                   \
    {                                                                                              \
        NULL, &sse41, &avx2, &avx512                                                               \
    }

/* Indexed by id; a row whose name is NULL is an id ggml does not define. */
static const struct ggml_type_info type_table[GT_COUNT] = {
    [GT_F32] = {GT_F32, "f32", 1, 4, deq_f32, {NULL}, NULL},
    [GT_F16] = {GT_F16, "f16", 1, 2, deq_f16, VEC(deq_f16_sse41, deq_f16_avx2, deq_f16_avx512),
                NULL},
    [GT_Q4_0] = {GT_Q4_0, "q4_0", 32, 18, deq_q4_0,
                 VEC(deq_q4_0_sse41, deq_q4_0_avx2, deq_q4_0_avx512), "q4_0_to_fp32_kernel"},
    [GT_Q4_1] = {GT_Q4_1, "q4_1", 32, 20, deq_q4_1,
                 VEC(deq_q4_1_sse41, deq_q4_1_avx2, deq_q4_1_avx512), "q4_1_to_fp32_kernel"},
    [GT_Q5_0] = {GT_Q5_0, "q5_0", 32, 22, deq_q5_0,
                 VEC(deq_q5_0_sse41, deq_q5_0_avx2, deq_q5_0_avx512), "q5_0_to_fp32_kernel"},
    [GT_Q5_1] = {GT_Q5_1, "q5_1", 32, 24, deq_q5_1,
                 VEC(deq_q5_1_sse41, deq_q5_1_avx2, deq_q5_1_avx512), "q5_1_to_fp32_kernel"},
    [GT_Q8_0] = {GT_Q8_0, "q8_0", 32, 34, deq_q8_0,
                 VEC(deq_q8_0_sse41, deq_q8_0_avx2, deq_q8_0_avx512), "q8_0_to_fp32_kernel"},
    [GT_Q8_1] = {GT_Q8_1, "q8_1", 32, 36, NULL, {NULL}, NULL},
    [GT_Q2_K] = {GT_Q2_K, "q2_K", 256, 84, deq_q2_k,
                 VEC(deq_q2_k_sse41, deq_q2_k_avx2, deq_q2_k_avx512), NULL},
    [GT_Q3_K] = {GT_Q3_K, "q3_K", 256, 110, deq_q3_k,
                 VEC(deq_q3_k_sse41, deq_q3_k_avx2, deq_q3_k_avx512), NULL},
    [GT_Q4_K] = {GT_Q4_K, "q4_K", 256, 144, deq_q4_k,
                 VEC(deq_q4_k_sse41, deq_q4_k_avx2, deq_q4_k_avx512), "q4_k_to_fp32_kernel"},
    [GT_Q5_K] = {GT_Q5_K, "q5_K", 256, 176, deq_q5_k,
                 VEC(deq_q5_k_sse41, deq_q5_k_avx2, deq_q5_k_avx512), "q5_k_to_fp32_kernel"},
    [GT_Q6_K] = {GT_Q6_K, "q6_K", 256, 210, deq_q6_k,
                 VEC(deq_q6_k_sse41, deq_q6_k_avx2, deq_q6_k_avx512), "q6_k_to_fp32_kernel"},
    [GT_Q8_K] = {GT_Q8_K, "q8_K", 256, 292, deq_q8_k,
                 VEC(deq_q8_k_sse41, deq_q8_k_avx2, deq_q8_k_avx512), NULL},
    [GT_IQ2_XXS] = {GT_IQ2_XXS, "iq2_xxs", 256, 66, deq_iq2_xxs,
                    VEC(deq_iq2_xxs_sse41, deq_iq2_xxs_avx2, deq_iq2_xxs_avx512), NULL},
    [GT_IQ2_XS] = {GT_IQ2_XS, "iq2_xs", 256, 74, deq_iq2_xs,
                   VEC(deq_iq2_xs_sse41, deq_iq2_xs_avx2, deq_iq2_xs_avx512), NULL},
    [GT_IQ3_XXS] = {GT_IQ3_XXS, "iq3_xxs", 256, 98, deq_iq3_xxs,
                    VEC(deq_iq3_xxs_sse41, deq_iq3_xxs_avx2, deq_iq3_xxs_avx512), NULL},
    [GT_IQ1_S] = {GT_IQ1_S, "iq1_s", 256, 50, deq_iq1_s,
                  VEC(deq_iq1_s_sse41, deq_iq1_s_avx2, deq_iq1_s_avx512), NULL},
    [GT_IQ4_NL] = {GT_IQ4_NL, "iq4_nl", 32, 18, deq_iq4_nl,
                   VEC(deq_iq4_nl_sse41, deq_iq4_nl_avx2, deq_iq4_nl_avx512), NULL},
    [GT_IQ3_S] = {GT_IQ3_S, "iq3_s", 256, 110, deq_iq3_s,
                  VEC(deq_iq3_s_sse41, deq_iq3_s_avx2, deq_iq3_s_avx512), NULL},
    [GT_IQ2_S] = {GT_IQ2_S, "iq2_s", 256, 82, deq_iq2_s,
                  VEC(deq_iq2_s_sse41, deq_iq2_s_avx2, deq_iq2_s_avx512), NULL},
    [GT_IQ4_XS] = {GT_IQ4_XS, "iq4_xs", 256, 136, deq_iq4_xs,
                   VEC(deq_iq4_xs_sse41, deq_iq4_xs_avx2, deq_iq4_xs_avx512), NULL},
    [GT_I8] = {GT_I8, "i8", 1, 1, deq_i8, {NULL}, NULL},
    [GT_I16] = {GT_I16, "i16", 1, 2, deq_i16, {NULL}, NULL},
    [GT_I32] = {GT_I32, "i32", 1, 4, deq_i32, {NULL}, NULL},
    [GT_I64] = {GT_I64, "i64", 1, 8, deq_i64, {NULL}, NULL},
    [GT_F64] = {GT_F64, "f64", 1, 8, deq_f64, {NULL}, NULL},
    [GT_IQ1_M] = {GT_IQ1_M, "iq1_m", 256, 56, deq_iq1_m,
                  VEC(deq_iq1_m_sse41, deq_iq1_m_avx2, deq_iq1_m_avx512), NULL},
    [GT_BF16] = {GT_BF16, "bf16", 1, 2, deq_bf16,
                 VEC(deq_bf16_sse41, deq_bf16_avx2, deq_bf16_avx512), NULL},
    [GT_TQ1_0] = {GT_TQ1_0, "tq1_0", 256, 54, deq_tq1_0,
                  VEC(deq_tq1_0_sse41, deq_tq1_0_avx2, deq_tq1_0_avx512), NULL},
    [GT_TQ2_0] = {GT_TQ2_0, "tq2_0", 256, 66, deq_tq2_0,
                  VEC(deq_tq2_0_sse41, deq_tq2_0_avx2, deq_tq2_0_avx512), NULL},
    [GT_MXFP4] = {GT_MXFP4, "mxfp4", 32, 17, deq_mxfp4,
                  VEC(deq_mxfp4_sse41, deq_mxfp4_avx2, deq_mxfp4_avx512), NULL},
    [GT_NVFP4] = {GT_NVFP4, "nvfp4", 64, 36, deq_nvfp4,
                  VEC(deq_nvfp4_sse41, deq_nvfp4_avx2, deq_nvfp4_avx512), NULL},
    [GT_Q1_0] = {GT_Q1_0, "q1_0", 128, 18, deq_q1_0,
                 VEC(deq_q1_0_sse41, deq_q1_0_avx2, deq_q1_0_avx512), NULL},
    [GT_Q2_0] = {GT_Q2_0, "q2_0", 64, 18, deq_q2_0,
                 VEC(deq_q2_0_sse41, deq_q2_0_avx2, deq_q2_0_avx512), NULL},
};

const struct ggml_type_info *ggml_type_find(uint32_t id)
{
    if (id >= GT_COUNT || type_table[id].name == NULL)
        return NULL;
    return &type_table[id];
}

const char *ggml_type_name(uint32_t id, char buf[16])
{
    const struct ggml_type_info *t = ggml_type_find(id);

    if (t)
        return t->name;
    snprintf(buf, 16, "type%u", id);
    return buf;
}
