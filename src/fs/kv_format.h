/* kv_format.h - GGUF metadata values (struct gguf_kv) as text.
 *
 * A value is read from its stored encoding (gguf.h); a value that ends
 * early makes the call return -1, though the parser has validated it.
 * Numbers are written in full: integers in decimal, floats as the shortest
 * decimal that reads back to the same f32/f64 ("1e-06", "0.1"), NaN and
 * infinities as nan, inf, -inf (strings in JSON, which has no such
 * numbers). Pure functions.
 */
#ifndef GGUFFS_KV_FORMAT_H
#define GGUFFS_KV_FORMAT_H

#include "fs/text.h"

#include <stdint.h>

/* "u8", "i8", ..., "f32", "bool", "str", "arr", "u64", "i64", "f64"; "?". */
const char *kv_type_name(uint32_t type);

/* For an array: its element type and count. -1 when not an array. */
int kv_array_info(const uint8_t *v, uint64_t len, uint32_t *etype, uint64_t *n);

/* The value as JSON: number, true/false, string, or a list (nested lists
 * for arrays of arrays). */
int kv_json(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len);

/* The value as a kv/<key> file: a number or bool as text, a string raw, an
 * array one element per line (strings raw, arrays of arrays as one JSON
 * list per line), always ending in a newline. */
int kv_plain(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len);

/* The value as one string: a string's bytes raw, anything else as kv_json
 * writes it (the safetensors __metadata__ holds only strings). */
int kv_string(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len);

#endif
