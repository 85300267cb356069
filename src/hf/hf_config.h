/* hf_config.h - config.json and generation_config.json of the .hf/ view.
 *
 * From the GGUF keys as llama.cpp's converter wrote them ({arch}.* and
 * tokenizer.ggml.*_token_id); see docs/hf.md for the table. Floats are
 * written as the shortest decimal that reads back to the stored f32 (an
 * rms_norm_eps of 1e-06, not 9.99999997e-07), so transformers computes
 * with the value the model was made with. The model must have passed
 * hf_check(). Text appended to tx (sticky errors, text.h).
 */
#ifndef GGUFFS_HF_CONFIG_H
#define GGUFFS_HF_CONFIG_H

#include "format/dtype.h"
#include "fs/text.h"
#include "hf/hf_map.h"

void hf_config_json(struct text *tx, const struct gguf_model *m, const struct hf_arch *a,
                    enum dtype dt);
void hf_generation_json(struct text *tx, const struct gguf_model *m);

/* The vocabulary size: {arch}.vocab_size, else the token list's length,
 * else token_embd's rows; 0 when none is known. */
uint64_t hf_vocab_size(const struct gguf_model *m, const struct hf_arch *a);

/* True when the model has tensor `name`. */
bool hf_has_tensor(const struct gguf_model *m, const char *name);

#endif
