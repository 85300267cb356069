/* gguf_internal.h - what the parts of the GGUF parser share (private to format/).
 *
 * gguf.c reads the header and drives the parse; gguf_kv.c validates the
 * metadata; gguf_tensors.c the tensor infos and the data layout;
 * gguf_reader.c holds the bounded cursor they all read through. Every read
 * goes through gguf_take() (directly or via gguf_rd_u32/u64/str), which fails
 * instead of passing the end of the image. Every failure is one message,
 * "<where>: <problem> (at byte N)", written by gguf_fail_at() into the
 * caller's buffer; the functions return 0 or -1 and leave the cursor
 * wherever the failure happened.
 */
#ifndef GGUFFS_FORMAT_GGUF_INTERNAL_H
#define GGUFFS_FORMAT_GGUF_INTERNAL_H

#include "format/gguf.h"

#include <stddef.h>
#include <stdint.h>

#define GGUF_HEADER_SIZE 24
#define GGUF_MAX_STRING ((uint64_t)1 << 30) /* ggml's GGUF_MAX_STRING_LENGTH */
#define GGUF_MAX_ARRAY ((uint64_t)1 << 30)  /* ggml's GGUF_MAX_ARRAY_ELEMENTS */
#define GGUF_MAX_NESTING 8                  /* arrays of arrays, at most this deep */
/* Smallest encodings, used to bound declared counts by the bytes left. */
#define MIN_KV_BYTES 14     /* key length, one key byte, type, a one-byte value */
#define MIN_TENSOR_BYTES 33 /* name length, one name byte, n_dims, ne0, type, offset */

enum gguf_vtype {
    GV_UINT8 = 0,
    GV_INT8 = 1,
    GV_UINT16 = 2,
    GV_INT16 = 3,
    GV_UINT32 = 4,
    GV_INT32 = 5,
    GV_FLOAT32 = 6,
    GV_BOOL = 7,
    GV_STRING = 8,
    GV_ARRAY = 9,
    GV_UINT64 = 10,
    GV_INT64 = 11,
    GV_FLOAT64 = 12,
    GV_COUNT
};

extern const char *const gguf_vtype_names[GV_COUNT];
/* Bytes of one scalar value; 0 for strings and arrays, whose size varies. */
extern const uint8_t gguf_vtype_sizes[GV_COUNT];

/* A cursor over the image. `where` names what is being read ("header",
 * "key/value 3 'general.name'", "tensor 2 'output.weight'") and prefixes
 * every message, so each one says which rule broke and where. */
struct reader {
    const uint8_t *buf;
    uint64_t size;
    uint64_t pos;
    char where[300];
    char *err;
    size_t errlen;
};

static inline uint64_t left(const struct reader *r)
{
    return r->size - r->pos;
}

/* Format "<where>: <message> (at byte <at>)" into the error buffer; returns -1. */
__attribute__((format(printf, 3, 4))) int gguf_fail_at(struct reader *r, uint64_t at,
                                                       const char *fmt, ...);
/* Take n bytes at the cursor, or fail naming `what`. */
int gguf_take(struct reader *r, uint64_t n, const char *what, const uint8_t **p);
int gguf_rd_u32(struct reader *r, const char *what, uint32_t *v);
int gguf_rd_u64(struct reader *r, const char *what, uint64_t *v);
/* A GGUF string (u64 length, bytes); *s points into the image. */
int gguf_rd_str(struct reader *r, const char *what, const uint8_t **s, uint64_t *len);
/* Write a name for messages: printable ASCII kept, other bytes as \xNN,
 * cut at 60 bytes of input with "...". */
void gguf_quote_name(char *dst, size_t dstlen, const uint8_t *s, uint64_t len);
/* Set `where` to "<kind> <i>", or "<kind> <i> '<name>'" when name is given. */
void gguf_set_where(struct reader *r, const char *kind, uint64_t i, const uint8_t *name,
                    uint64_t len);
/* Make room for item i of an array of `size`-byte items (*cap of them now,
 * at most max ever), doubling; the new items are zeroed. 0, or -1 when out
 * of memory. */
int gguf_grow(void **arr, uint64_t *cap, uint64_t i, uint64_t max, size_t size);
/* A NUL-terminated copy of len bytes, or NULL when out of memory. */
char *gguf_dup_bytes(const uint8_t *s, uint64_t len);

/* The key/value section (gguf_kv.c): sets m->alignment (default
 * GGUF_DEFAULT_ALIGNMENT), architecture, model_name and m->kv. */
int gguf_parse_metadata(struct reader *r, struct gguf_model *m);
/* The tensor infos and the data layout (gguf_tensors.c): sets m->tensors
 * with absolute offsets and m->data_offset. */
int gguf_parse_tensors(struct reader *r, struct gguf_model *m);

#endif
