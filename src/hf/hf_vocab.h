/* hf_vocab.h - a GGUF tokenizer's vocabulary, and SentencePiece merges.
 *
 * hf_vocab_load() reads tokenizer.ggml.tokens, .scores and .token_type
 * (types as llama.cpp numbers them: 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte; 1 when absent). Strings point into the
 * model's metadata, which outlives the vocabulary.
 *
 * hf_vocab_merges() gives the merges a BPE model needs to tokenize as
 * SentencePiece does from scores alone (a GGUF `llama` tokenizer has no
 * merges): every split of a token, at a character boundary, into two
 * tokens, ordered by the token's score (highest first), then token order,
 * then the halves' scores (highest first), then split position. This is
 * the order transformers' GGUF tokenizer converter produces.
 */
#ifndef GGUFFS_HF_VOCAB_H
#define GGUFFS_HF_VOCAB_H

#include <stdbool.h>
#include <stdint.h>

struct gguf_model;

enum hf_token_type {
    HF_TOK_NORMAL = 1,
    HF_TOK_UNKNOWN = 2,
    HF_TOK_CONTROL = 3,
    HF_TOK_USER = 4,
    HF_TOK_UNUSED = 5,
    HF_TOK_BYTE = 6,
};

struct hf_token {
    const char *s;
    uint32_t n;
    int32_t type;
    float score;
};

struct hf_vocab {
    struct hf_token *tok;
    uint32_t n;
};

struct hf_merge {
    uint32_t left, right; /* token ids */
};

/* 0, or -1 (no token list, a malformed array, out of memory). */
int hf_vocab_load(const struct gguf_model *m, struct hf_vocab *v);
void hf_vocab_free(struct hf_vocab *v);

/* The merges, malloc'd, count in *n. NULL when out of memory. */
struct hf_merge *hf_vocab_merges(const struct hf_vocab *v, uint64_t *n);

#endif
