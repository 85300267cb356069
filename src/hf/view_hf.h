/* view_hf.h - /.hf/: the model as a Hugging Face model directory.
 *
 *   config.json, generation_config.json   hf_config.h
 *   model.safetensors                     every tensor under its HF name
 *                                         (hf_map.h), in the mount dtype
 *   tokenizer.json, tokenizer_config.json,
 *   special_tokens_map.json               hf_tokenizer.h
 * so that transformers' from_pretrained() loads it unmodified. Present only
 * for a model hf_check() maps; hf_describe() tells .control why not.
 */
#ifndef GGUFFS_VIEW_HF_H
#define GGUFFS_VIEW_HF_H

#include "format/dtype.h"
#include "fs/namespace.h"

#include <stddef.h>

struct gguf_model;
struct facts;

/* Adds /.hf/ when the model is mapped. 0, or -1 (out of memory) with a
 * message in err. */
int view_hf_build(struct ns *ns, const struct gguf_model *m, enum dtype dt, char *err,
                  size_t errlen);

/* The "hf" fact: ".hf/ (LlamaForCausalLM)" or "not mapped: <why>". */
void hf_describe(const struct gguf_model *m, enum dtype dt, struct facts *f);

#endif
