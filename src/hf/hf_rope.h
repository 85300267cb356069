/* hf_rope.h - rope scaling that llama.cpp stores as tensors: Llama 3's
 * (rope_freqs.weight) and phi3's LongRoPE (rope_factors_long/short).
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
 *
 * A phi3 model with rope_scaling {"rope_type": "longrope", "long_factor":
 * [...], "short_factor": [...]} has both lists as F32 tensors of
 * rope dims / 2 values, and rope.scaling.attn_factor: the attention
 * factor, sqrt(1 + ln(s) / ln(orig)) with s = context_length /
 * rope.scaling.original_context_length (1 when s <= 1), or 0.1 ln(s) + 1
 * for the configs that said "yarn" (transformers reads those as longrope
 * too). transformers computes the factor from the same two lengths, so
 * config.json needs only the lists and original_max_position_embeddings.
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

struct gguf_tensor;

struct hf_longrope {
    const struct gguf_tensor *long_f, *short_f; /* both NULL: plain rope */
    uint64_t n;                                 /* values in each */
};

/* 0 with the factor tensors (or none), or -1: one without the other, not
 * F32 vectors of rope dims / 2, no original context length, or an
 * attention factor that is neither formula's. */
int hf_rope_longrope(const struct gguf_model *m, const struct hf_arch *a, struct hf_longrope *out);

/* The n F32 values of tensor t (at most 1024), read from the model file.
 * 0, or -1. */
int hf_rope_read(const struct gguf_model *m, const struct gguf_tensor *t, float *f, uint64_t n);

#endif
