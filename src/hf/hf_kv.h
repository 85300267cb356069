/* hf_kv.h - typed reads of a model's metadata for the .hf/ view.
 *
 * The values are read from their stored encoding (format/gguf.h), which
 * the parser has validated; a read that would run past a value fails.
 * Integers of any GGUF integer type read as one; a key missing or of
 * another type is "absent" (-1). Pure functions over the model.
 */
#ifndef GGUFFS_HF_KV_H
#define GGUFFS_HF_KV_H

#include <stdbool.h>
#include <stdint.h>

struct gguf_model;
struct gguf_kv;

/* The key `key`, or `arch`.`key` when arch is given; NULL when absent. */
const struct gguf_kv *hf_kv(const struct gguf_model *m, const char *arch, const char *key);

/* A scalar integer (any width or sign; bool too) as int64. 0, or -1. */
int hf_kv_int(const struct gguf_kv *kv, int64_t *out);
/* A string: pointer into the value and length. 0, or -1. */
int hf_kv_str(const struct gguf_kv *kv, const char **s, uint64_t *n);
/* True when kv is a bool true. */
bool hf_kv_true(const struct gguf_kv *kv);

/* A cursor over an array's elements. */
struct hf_arr {
    uint32_t etype;
    uint64_t n;
    const uint8_t *p;
    uint64_t left;
};

/* Open kv as an array of `etype` elements. 0, or -1. */
int hf_arr_open(const struct gguf_kv *kv, uint32_t etype, struct hf_arr *a);
/* The next element: a string, an f32, an integer (any integer etype). */
int hf_arr_str(struct hf_arr *a, const char **s, uint64_t *n);
int hf_arr_f32(struct hf_arr *a, float *v);
int hf_arr_int(struct hf_arr *a, int64_t *v);

#endif
