/* hf_tokenizer.h - tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json of the .hf/ view.
 *
 * A model that embeds tokenizer.huggingface.json gets it as it is.
 * Otherwise tokenizer.json is made from tokenizer.ggml.*:
 *   gpt2   byte-level BPE: the vocabulary, tokenizer.ggml.merges, and the
 *          pre-tokenizer named by tokenizer.ggml.pre (hf_pre_known()).
 *   llama  SentencePiece-style BPE with byte fallback: the vocabulary,
 *          merges derived from the scores (hf_vocab.h), "▁" for spaces.
 * Control and unknown tokens are added tokens (special), user-defined ones
 * added tokens (not special). BOS/EOS are added as tokenizer.ggml.
 * add_bos_token / add_eos_token say (absent: BOS for llama only, as
 * llama.cpp does). The model must have passed hf_check(). Text is appended
 * to tx; -1 when the vocabulary cannot be read or memory runs out.
 */
#ifndef GGUFFS_HF_TOKENIZER_H
#define GGUFFS_HF_TOKENIZER_H

#include "fs/text.h"

#include <stdbool.h>
#include <stdint.h>

struct gguf_model;

/* True when tokenizer.ggml.pre names a pre-tokenizer written here. */
bool hf_pre_known(const char *s, uint64_t n);

int hf_tokenizer_json(struct text *tx, const struct gguf_model *m);
int hf_tokenizer_config_json(struct text *tx, const struct gguf_model *m);
int hf_special_tokens_json(struct text *tx, const struct gguf_model *m);

#endif
