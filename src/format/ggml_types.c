/* ggml_types.c - the ggml tensor type table (see ggml_types.h).
 *
 * Block geometry as in ggml's type traits (ggml.c, type_traits[]): for block
 * types, block_bytes is sizeof(block_xxx) in ggml-common.h. Ids that ggml has
 * retired (Q4_2, Q4_3, Q4_0_4_4, ...) are absent on purpose: a tensor of such
 * a type is listed but cannot be served.
 */
#include "format/ggml_types.h"

#include <stddef.h>
#include <stdio.h>

static const struct ggml_type_info type_table[] = {
    {GT_F32, "f32", 1, 4, NULL},
    {GT_F16, "f16", 1, 2, NULL},
    {GT_Q4_0, "q4_0", 32, 18, "q4_0_to_fp32_kernel"},
    {GT_Q4_1, "q4_1", 32, 20, NULL},
    {GT_Q5_0, "q5_0", 32, 22, NULL},
    {GT_Q5_1, "q5_1", 32, 24, NULL},
    {GT_Q8_0, "q8_0", 32, 34, NULL},
    {GT_Q8_1, "q8_1", 32, 36, NULL},
    {GT_Q2_K, "q2_K", 256, 84, NULL},
    {GT_Q3_K, "q3_K", 256, 110, NULL},
    {GT_Q4_K, "q4_K", 256, 144, NULL},
    {GT_Q5_K, "q5_K", 256, 176, NULL},
    {GT_Q6_K, "q6_K", 256, 210, NULL},
    {GT_Q8_K, "q8_K", 256, 292, NULL},
    {GT_IQ2_XXS, "iq2_xxs", 256, 66, NULL},
    {GT_IQ2_XS, "iq2_xs", 256, 74, NULL},
    {GT_IQ3_XXS, "iq3_xxs", 256, 98, NULL},
    {GT_IQ1_S, "iq1_s", 256, 50, NULL},
    {GT_IQ4_NL, "iq4_nl", 32, 18, NULL},
    {GT_IQ3_S, "iq3_s", 256, 110, NULL},
    {GT_IQ2_S, "iq2_s", 256, 82, NULL},
    {GT_IQ4_XS, "iq4_xs", 256, 136, NULL},
    {GT_I8, "i8", 1, 1, NULL},
    {GT_I16, "i16", 1, 2, NULL},
    {GT_I32, "i32", 1, 4, NULL},
    {GT_I64, "i64", 1, 8, NULL},
    {GT_F64, "f64", 1, 8, NULL},
    {GT_IQ1_M, "iq1_m", 256, 56, NULL},
    {GT_BF16, "bf16", 1, 2, NULL},
    {GT_TQ1_0, "tq1_0", 256, 54, NULL},
    {GT_TQ2_0, "tq2_0", 256, 66, NULL},
    {GT_MXFP4, "mxfp4", 32, 17, NULL},
};

const struct ggml_type_info *ggml_type_find(uint32_t id)
{
    /* Ids are sparse and few; a linear scan of 32 entries is cheaper to trust
     * than an index table that must be kept in step. */
    for (size_t i = 0; i < sizeof(type_table) / sizeof(type_table[0]); i++) {
        if (type_table[i].id == id)
            return &type_table[i];
    }
    return NULL;
}

const char *ggml_type_name(uint32_t id, char buf[16])
{
    const struct ggml_type_info *t = ggml_type_find(id);

    if (t)
        return t->name;
    snprintf(buf, 16, "type%u", id);
    return buf;
}
