/* hf_rope.h - Llama 3's rope scaling, recognized from rope_freqs.weight.
 *
 * For a model with rope_scaling {"rope_type": "llama3", ...} llama.cpp's
 * converter stores no scaling keys: it precomputes a factor per frequency
 * into the F32 tensor rope_freqs.weight (1 for high frequencies, `factor`
 * for low ones, a smooth blend between). config.json must name the
 * parameters instead. They are recognized, not solved for: the factor is
 * the largest one stored, and the rest are the values every Llama 3.x
 * release uses (low_freq_factor 1, high_freq_factor 4, original context
 * 8192), accepted only when recomputing the factors from them gives the
 * stored ones (to 1e-5, as the converter computed the frequencies in
 * float32). The tensor is read from the model file (m->fd).
 */
#ifndef GGUFFS_HF_ROPE_H
#define GGUFFS_HF_ROPE_H

#include "hf/hf_map.h"

struct hf_llama3_rope {
    double factor, low_freq_factor, high_freq_factor;
    int64_t original_context;
};

/* 0 with the parameters, or -1: no such tensor, unreadable, or factors
 * that are not Llama 3's. */
int hf_rope_llama3(const struct gguf_model *m, const struct hf_arch *a, struct hf_llama3_rope *out);

#endif
