/* hf_map.h - which GGUF models have a Hugging Face form, and the names.
 *
 * The facts come from llama.cpp's converter (convert_hf_to_gguf.py and
 * gguf-py's tensor_mapping.py), read backwards:
 *   token_embd.weight          model.embed_tokens.weight
 *   output_norm.weight         model.norm.weight
 *   output.weight              lm_head.weight (absent: tied embeddings)
 *   blk.N.attn_norm.weight     model.layers.N.input_layernorm.weight
 *   blk.N.attn_q|k|v.weight    model.layers.N.self_attn.q|k|v_proj.weight (and .bias)
 *   blk.N.attn_output.weight   model.layers.N.self_attn.o_proj.weight
 *   blk.N.attn_q|k_norm.weight model.layers.N.self_attn.q|k_norm.weight (qwen3)
 *   blk.N.ffn_norm.weight      model.layers.N.post_attention_layernorm.weight
 *   blk.N.ffn_gate|up|down.weight  model.layers.N.mlp.gate|up|down_proj.weight
 * For arch `llama` the converter interleaves the rows of each head of Q
 * and K (for rotary embeddings in ggml's order); the map says which rows
 * to de-interleave with how many heads. `phi3` keeps HF's fused tensors
 * as they are (no permutation):
 *   blk.N.attn_qkv.weight      model.layers.N.self_attn.qkv_proj.weight (q, k, v rows)
 *   blk.N.ffn_up.weight        model.layers.N.mlp.gate_up_proj.weight (gate, then up rows)
 *   rope_factors_long|short.weight  config.json's longrope factors (hf_rope.h)
 * Pure functions, no state.
 */
#ifndef GGUFFS_HF_MAP_H
#define GGUFFS_HF_MAP_H

#include "format/dtype.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf_model;

struct hf_arch {
    const char *gguf;       /* general.architecture */
    const char *class_name; /* config.json "architectures" */
    const char *model_type;
    bool permute_qk; /* llama.cpp interleaved Q/K rows */
    bool qkv_bias;   /* the HF model always has q/k/v biases */
    bool fused;      /* phi3: one qkv_proj and one gate_up_proj per layer */
};

/* The mapped architecture `name`, or NULL. */
const struct hf_arch *hf_arch_find(const char *name);

enum hf_rows {
    HF_ROWS_STORED,
    HF_ROWS_Q, /* de-interleave with attention.head_count heads */
    HF_ROWS_K, /* with attention.head_count_kv heads */
};

/* The HF name of GGUF tensor `name` into out, and how its rows are
 * ordered. 0; 1 when the tensor is left out because config.json says it
 * (llama's rope_freqs.weight, phi3's rope factors; hf_rope.h); -1 when it
 * has no HF counterpart. */
int hf_tensor_name(const struct hf_arch *a, const char *name, char *out, size_t outlen,
                   enum hf_rows *rows);

/* The model's HF form: its architecture, or NULL with the reason in why
 * ("architecture 'falcon'", "tensor 'x'", "tokenizer 'rwkv'", ...). Checks
 * the architecture, every tensor (name, decodable in `dt`, 2-D Q/K rows
 * divisible by the heads, phi3's fused tensors of the sizes HF's are),
 * the scalar hyperparameters config.json needs and the tokenizer model. */
const struct hf_arch *hf_check(const struct gguf_model *m, enum dtype dt, char *why, size_t whylen);

/* The attention head counts (head_count_kv defaults to head_count). */
int hf_heads(const struct gguf_model *m, const struct hf_arch *a, int64_t *q, int64_t *kv);

#endif
