/* gguf.c - parse and validate a GGUF file (see gguf.h).
 *
 * The input is hostile until proven otherwise. Every count read from the file
 * is first compared with the bytes that are left, using the smallest encoding
 * one item can have, so a file that declares 2^40 tensors or a 2^60-byte
 * string fails at once without allocating anything. All offset arithmetic is
 * done in uint64_t with explicit overflow checks.
 *
 * The rules are ggml's own (ggml/src/gguf.cpp), a little stricter where the
 * mount needs it: names must be non-empty and free of NUL (they become file
 * names), keys must be free of NUL (ggml finds keys as C strings, see
 * parse_kv()), every dimension must be at least 1, and the FP32 image of a tensor
 * (n_elements * 4 bytes) must fit in an off_t. ggml also insists on tensors
 * being packed in file order; gguffs only needs them aligned, inside the file
 * and non-overlapping, so that is what it checks. Unknown type ids are kept
 * (with nbytes 0): the mount lists such a tensor and explains why it cannot
 * be read.
 *
 * The rules, one line each, are listed in docs/format.md.
 */
#include "format/gguf.h"
#include "format/ggml_types.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static const char *const vtype_names[GV_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

/* Bytes of one scalar value; 0 for strings and arrays, whose size varies. */
static const uint8_t vtype_sizes[GV_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* ------------------------------------------------------------------ reader
 *
 * A cursor over the image. `where` names what is being read ("header",
 * "key/value 3 'general.name'", "tensor 2 'output.weight'") and prefixes
 * every message, so each one says which rule broke and where.
 */
struct reader {
    const uint8_t *buf;
    uint64_t size;
    uint64_t pos;
    char where[300];
    char *err;
    size_t errlen;
};

static uint64_t left(const struct reader *r)
{
    return r->size - r->pos;
}

/* Format "<where>: <message> (at byte <at>)" into the error buffer; returns -1. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct reader *r, uint64_t at,
                                                         const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->err && r->errlen)
        snprintf(r->err, r->errlen, "%s: %s (at byte %llu)", r->where, msg, (unsigned long long)at);
    return -1;
}

/* Take n bytes at the cursor, or fail naming `what`. */
static int take(struct reader *r, uint64_t n, const char *what, const uint8_t **p)
{
    if (n > left(r))
        return fail_at(r, r->pos, "truncated: %s needs %llu bytes but only %llu remain", what,
                       (unsigned long long)n, (unsigned long long)left(r));
    *p = r->buf + r->pos;
    r->pos += n;
    return 0;
}

static uint64_t le_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int rd_u32(struct reader *r, const char *what, uint32_t *v)
{
    const uint8_t *p = NULL;

    if (take(r, 4, what, &p) < 0)
        return -1;
    *v = le_u32(p);
    return 0;
}

static int rd_u64(struct reader *r, const char *what, uint64_t *v)
{
    const uint8_t *p = NULL;

    if (take(r, 8, what, &p) < 0)
        return -1;
    *v = le_u64(p);
    return 0;
}

/* A GGUF string (u64 length, bytes); *s points into the image. */
static int rd_str(struct reader *r, const char *what, const uint8_t **s, uint64_t *len)
{
    uint64_t at = r->pos;

    if (rd_u64(r, what, len) < 0)
        return -1;
    if (*len > GGUF_MAX_STRING)
        return fail_at(r, at, "%s length %llu exceeds the limit of %llu bytes", what,
                       (unsigned long long)*len, (unsigned long long)GGUF_MAX_STRING);
    if (*len > left(r))
        return fail_at(r, at, "%s length %llu exceeds the %llu bytes left in the file", what,
                       (unsigned long long)*len, (unsigned long long)left(r));
    return take(r, *len, what, s);
}

/* Write a name for messages: printable ASCII kept, other bytes as \xNN,
 * cut at 60 bytes of input with "...". */
static void quote_name(char *dst, size_t dstlen, const uint8_t *s, uint64_t len)
{
    size_t o = 0;
    uint64_t n = len > 60 ? 60 : len;

    for (uint64_t i = 0; i < n && o + 5 < dstlen; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
            dst[o++] = (char)s[i];
        else
            o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", s[i]);
    }
    if (n < len && o + 4 < dstlen)
        o += (size_t)snprintf(dst + o, dstlen - o, "...");
    dst[o < dstlen ? o : dstlen - 1] = '\0';
}

static void set_where(struct reader *r, const char *kind, uint64_t i, const uint8_t *name,
                      uint64_t len)
{
    char q[256];

    if (!name) {
        snprintf(r->where, sizeof(r->where), "%s %llu", kind, (unsigned long long)i);
        return;
    }
    quote_name(q, sizeof(q), name, len);
    snprintf(r->where, sizeof(r->where), "%s %llu '%s'", kind, (unsigned long long)i, q);
}

/* ------------------------------------------------------------------ header */

static int parse_magic(struct reader *r)
{
    char q[64];

    if (r->size < 4)
        return fail_at(r, 0, "not a GGUF file: %llu bytes, too short for the magic",
                       (unsigned long long)r->size);
    if (memcmp(r->buf, "GGUF", 4) != 0) {
        quote_name(q, sizeof(q), r->buf, 4);
        return fail_at(r, 0, "not a GGUF file: magic is '%s', expected 'GGUF'", q);
    }
    if (r->size < GGUF_HEADER_SIZE)
        return fail_at(r, 0, "truncated: the file has %llu bytes, a GGUF header needs %d",
                       (unsigned long long)r->size, GGUF_HEADER_SIZE);
    r->pos = 4;
    return 0;
}

static int parse_version(struct reader *r, uint32_t *version)
{
    uint64_t at = r->pos;

    if (rd_u32(r, "version", version) < 0)
        return -1;
    if (*version == 2 || *version == 3)
        return 0;
    /* A byte-swapped small version has its low 16 bits zero: 3 reads as
     * 0x03000000. ggml uses the same test. */
    if (*version != 0 && (*version & 0xffff) == 0)
        return fail_at(r, at, "big-endian GGUF is not supported (version field reads 0x%08x)",
                       *version);
    if (*version == 1)
        return fail_at(r, at, "GGUF version 1 is not supported (only versions 2 and 3)");
    return fail_at(r, at, "unsupported GGUF version %u (only versions 2 and 3)", *version);
}

/* Make room for item i of an array of `size`-byte items (*cap of them now,
 * at most max ever), doubling. The tables grow with what the file really
 * holds rather than being sized by the count it declares: a sparse file can
 * declare 2^28 tensors that "fit" in its size and are all zeros. The new
 * items are zeroed. Returns 0, or -1 when out of memory. */
static int grow(void **arr, uint64_t *cap, uint64_t i, uint64_t max, size_t size)
{
    if (i < *cap)
        return 0;
    uint64_t n = *cap ? *cap * 2 : 64;
    if (n > max)
        n = max;
    if (n > SIZE_MAX / size)
        return -1;
    void *p = realloc(*arr, (size_t)n * size);
    if (!p)
        return -1;
    memset((char *)p + *cap * size, 0, (size_t)(n - *cap) * size);
    *arr = p;
    *cap = n;
    return 0;
}

/* Counts are bounded by the smallest bytes each item can take, so nothing is
 * allocated from a count the file cannot back. */
static int parse_counts(struct reader *r, struct gguf_model *m)
{
    uint64_t at = r->pos;

    if (rd_u64(r, "tensor count", &m->n_tensors) < 0 || rd_u64(r, "key/value count", &m->n_kv))
        return -1;
    if (m->n_tensors > left(r) / MIN_TENSOR_BYTES)
        return fail_at(r, at,
                       "tensor count %llu cannot fit in the file: each tensor info takes at "
                       "least %d bytes and %llu remain",
                       (unsigned long long)m->n_tensors, MIN_TENSOR_BYTES,
                       (unsigned long long)left(r));
    if (m->n_kv > (left(r) - m->n_tensors * MIN_TENSOR_BYTES) / MIN_KV_BYTES)
        return fail_at(r, at + 8,
                       "key/value count %llu cannot fit in the file: each key/value takes at "
                       "least %d bytes and %llu remain after the tensor infos",
                       (unsigned long long)m->n_kv, MIN_KV_BYTES,
                       (unsigned long long)(left(r) - m->n_tensors * MIN_TENSOR_BYTES));
    return 0;
}

/* ------------------------------------------------------------------ metadata
 *
 * Values are validated and skipped; only general.alignment,
 * general.architecture and general.name are kept. Keys are remembered as
 * pointers into the image so duplicates can be found by sorting.
 */
struct key_ref {
    const uint8_t *s;
    uint64_t len;
    uint64_t index;
    uint64_t at;
};

static int skip_value(struct reader *r, uint32_t type, int depth);

static int skip_array(struct reader *r, int depth)
{
    uint64_t at = r->pos, n;
    uint32_t etype;

    if (depth >= GGUF_MAX_NESTING)
        return fail_at(r, at, "arrays nested deeper than %d levels", GGUF_MAX_NESTING);
    if (rd_u32(r, "array element type", &etype) < 0 || rd_u64(r, "array length", &n) < 0)
        return -1;
    if (etype >= GV_COUNT)
        return fail_at(r, at, "array element type %u is not a GGUF value type (0..%d)", etype,
                       GV_COUNT - 1);
    /* Smallest element: its scalar size, a string's length, an array's header. */
    uint64_t min = vtype_sizes[etype] ? vtype_sizes[etype] : etype == GV_STRING ? 8 : 12;
    if (n > GGUF_MAX_ARRAY || n > left(r) / min)
        return fail_at(r, at, "array of %llu %s elements cannot fit in the %llu bytes left",
                       (unsigned long long)n, vtype_names[etype], (unsigned long long)left(r));
    if (vtype_sizes[etype]) {
        const uint8_t *p = NULL;
        return take(r, n * min, "array data", &p);
    }
    for (uint64_t i = 0; i < n; i++) {
        if (skip_value(r, etype, depth + 1) < 0)
            return -1;
    }
    return 0;
}

static int skip_value(struct reader *r, uint32_t type, int depth)
{
    const uint8_t *p = NULL;
    uint64_t len;

    if (type == GV_STRING)
        return rd_str(r, "string value", &p, &len);
    if (type == GV_ARRAY)
        return skip_array(r, depth);
    return take(r, vtype_sizes[type], "value", &p);
}

static char *dup_bytes(const uint8_t *s, uint64_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static bool key_is(const struct key_ref *k, const char *name)
{
    return k->len == strlen(name) && memcmp(k->s, name, k->len) == 0;
}

/* general.alignment must be a u32 that is a non-zero power of two. */
static int take_alignment(struct reader *r, struct gguf_model *m, uint32_t type, uint64_t at)
{
    uint32_t a;

    if (type != GV_UINT32)
        return fail_at(r, at, "must be of type u32, not %s",
                       type < GV_COUNT ? vtype_names[type] : "unknown");
    if (rd_u32(r, "value", &a) < 0)
        return -1;
    if (a == 0 || (a & (a - 1)) != 0)
        return fail_at(r, at, "alignment %u is not a non-zero power of two", a);
    m->alignment = a;
    return 0;
}

/* Keep general.architecture and general.name when they are strings. */
static int take_string(struct reader *r, char **dst)
{
    const uint8_t *s = NULL;
    uint64_t len;

    if (rd_str(r, "string value", &s, &len) < 0)
        return -1;
    *dst = dup_bytes(s, len);
    if (!*dst)
        return fail_at(r, r->pos, "out of memory");
    return 0;
}

/* Keep key/value i whole: its key and the bytes of its value, which the
 * parser has just validated from value_at to the cursor. */
static int keep_kv(struct reader *r, struct gguf_model *m, uint64_t i, const struct key_ref *k,
                   uint32_t type, uint64_t value_at)
{
    struct gguf_kv *kv = &m->kv[i];

    kv->key = dup_bytes(k->s, k->len);
    kv->key_len = k->len;
    kv->type = type;
    kv->value_len = r->pos - value_at;
    kv->value = malloc(kv->value_len ? kv->value_len : 1);
    if (!kv->key || !kv->value)
        return fail_at(r, value_at, "out of memory");
    memcpy(kv->value, r->buf + value_at, kv->value_len);
    return 0;
}

static int parse_value(struct reader *r, struct gguf_model *m, const struct key_ref *k,
                       uint32_t type, uint64_t type_at)
{
    if (key_is(k, "general.alignment"))
        return take_alignment(r, m, type, type_at);
    if (type == GV_STRING && key_is(k, "general.architecture") && !m->architecture)
        return take_string(r, &m->architecture);
    if (type == GV_STRING && key_is(k, "general.name") && !m->model_name)
        return take_string(r, &m->model_name);
    return skip_value(r, type, 0);
}

static int parse_kv(struct reader *r, struct gguf_model *m, uint64_t i, struct key_ref *k)
{
    uint32_t type;
    uint64_t type_at;

    set_where(r, "key/value", i, NULL, 0);
    k->at = r->pos;
    k->index = i;
    if (rd_str(r, "key", &k->s, &k->len) < 0)
        return -1;
    if (k->len == 0)
        return fail_at(r, k->at, "empty key");
    set_where(r, "key/value", i, k->s, k->len);
    /* ggml finds keys with C string compares and checks duplicates on whole
     * strings: "general.alignment\0X" is its alignment yet no duplicate of
     * a real "general.alignment". Refused, so that no key can mean one thing
     * to ggml and another here. */
    if (memchr(k->s, '\0', k->len) != NULL)
        return fail_at(r, k->at, "key contains a NUL byte at offset %llu of %llu",
                       (unsigned long long)((const uint8_t *)memchr(k->s, '\0', k->len) - k->s),
                       (unsigned long long)k->len);
    type_at = r->pos;
    if (rd_u32(r, "value type", &type) < 0)
        return -1;
    if (type >= GV_COUNT)
        return fail_at(r, type_at, "value type %u is not a GGUF value type (0..%d)", type,
                       GV_COUNT - 1);
    if (parse_value(r, m, k, type, type_at) < 0)
        return -1;
    return keep_kv(r, m, i, k, type, type_at + 4);
}

static int cmp_key(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    uint64_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);

    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : 1;
}

/* Sort the keys; equal neighbours are duplicates. Report the later one. */
static int check_duplicate_keys(struct reader *r, struct key_ref *keys, uint64_t n)
{
    if (n < 2)
        return 0;
    qsort(keys, n, sizeof(*keys), cmp_key);
    for (uint64_t i = 1; i < n; i++) {
        const struct key_ref *a = &keys[i - 1], *b = &keys[i];
        if (a->len == b->len && memcmp(a->s, b->s, a->len) == 0) {
            set_where(r, "key/value", b->index, b->s, b->len);
            return fail_at(r, b->at, "duplicate key (first defined by key/value %llu)",
                           (unsigned long long)a->index);
        }
    }
    return 0;
}

static int parse_metadata(struct reader *r, struct gguf_model *m)
{
    struct key_ref *keys = NULL;
    int rc = 0;

    uint64_t cap = 0, kvcap = 0;

    m->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < m->n_kv && rc == 0; i++) {
        if (grow((void **)&keys, &cap, i, m->n_kv, sizeof(*keys)) < 0 ||
            grow((void **)&m->kv, &kvcap, i, m->n_kv, sizeof(*m->kv)) < 0) {
            rc = fail_at(r, r->pos, "out of memory for %llu keys", (unsigned long long)m->n_kv);
            break;
        }
        rc = parse_kv(r, m, i, &keys[i]);
    }
    if (rc == 0)
        rc = check_duplicate_keys(r, keys, m->n_kv);
    else
        m->n_kv = kvcap; /* gguf_close() frees what was allocated, zeroed beyond */
    free(keys);
    return rc;
}

/* ------------------------------------------------------------------ tensor infos */

static int parse_tensor_name(struct reader *r, struct gguf_tensor *t, uint64_t i, uint64_t at)
{
    const uint8_t *s = NULL;
    uint64_t len;

    if (rd_str(r, "tensor name", &s, &len) < 0)
        return -1;
    if (len == 0)
        return fail_at(r, at, "empty tensor name");
    set_where(r, "tensor", i, s, len);
    if (len >= GGUF_MAX_NAME)
        return fail_at(r, at, "name is %llu bytes long, it must be shorter than %d",
                       (unsigned long long)len, GGUF_MAX_NAME);
    if (memchr(s, '\0', len))
        return fail_at(r, at, "name contains a NUL byte");
    t->name = dup_bytes(s, len);
    if (!t->name)
        return fail_at(r, at, "out of memory");
    t->name_len = len;
    return 0;
}

static void shape_str(char *dst, size_t n, const struct gguf_tensor *t)
{
    size_t o = (size_t)snprintf(dst, n, "[");
    for (uint32_t d = 0; d < t->n_dims && o < n; d++)
        o +=
            (size_t)snprintf(dst + o, n - o, "%s%llu", d ? ", " : "", (unsigned long long)t->ne[d]);
    if (o < n)
        snprintf(dst + o, n - o, "]");
}

/* n_dims 1..4, each ne in 1..INT64_MAX, and the element count (and the FP32
 * image, 4 bytes an element, served as a file) representable in int64. */
static int parse_tensor_shape(struct reader *r, struct gguf_tensor *t, uint64_t at)
{
    uint64_t n = 1, dims_at = r->pos;
    char shape[128];

    if (rd_u32(r, "n_dims", &t->n_dims) < 0)
        return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return fail_at(r, dims_at, "n_dims %u is not in 1..%d", t->n_dims, GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && rd_u64(r, "dimension", &t->ne[d]) < 0)
            return -1;
    }
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] == 0 || t->ne[d] > INT64_MAX)
            return fail_at(r, at, "ne[%u] = %llu is out of range (1..INT64_MAX)", d,
                           (unsigned long long)t->ne[d]);
    }
    shape_str(shape, sizeof(shape), t);
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (__builtin_mul_overflow(n, t->ne[d], &n) || n > INT64_MAX)
            return fail_at(r, at, "element count of shape %s overflows int64", shape);
    }
    t->n_elements = n;
    if (n > (uint64_t)INT64_MAX / sizeof(float))
        return fail_at(r, at,
                       "the FP32 image of shape %s (%llu elements, 4 bytes each) overflows int64",
                       shape, (unsigned long long)n);
    return 0;
}

/* Unknown type ids are kept with nbytes 0; a known type needs whole blocks. */
static int parse_tensor_type(struct reader *r, struct gguf_tensor *t, uint64_t at)
{
    const struct ggml_type_info *ti;

    if (rd_u32(r, "tensor type", &t->type) < 0)
        return -1;
    ti = ggml_type_find(t->type);
    if (!ti) {
        t->nbytes = 0;
        return 0;
    }
    if (t->ne[0] % ti->block_elems != 0)
        return fail_at(r, at, "ne[0] = %llu is not a multiple of the block size %u of type %s",
                       (unsigned long long)t->ne[0], ti->block_elems, ti->name);
    if (__builtin_mul_overflow(t->n_elements / ti->block_elems, (uint64_t)ti->block_bytes,
                               &t->nbytes) ||
        t->nbytes > INT64_MAX)
        return fail_at(r, at, "data size of %llu %s elements overflows int64",
                       (unsigned long long)t->n_elements, ti->name);
    return 0;
}

/* Where each tensor info starts, kept for the layout checks' messages. */
struct tensor_ref {
    const struct gguf_tensor *t;
    uint64_t index;
    uint64_t at;
};

static int parse_tensor_info(struct reader *r, struct gguf_model *m, struct tensor_ref *ref)
{
    struct gguf_tensor *t = &m->tensors[ref->index];
    uint64_t off_at;

    ref->t = t;
    ref->at = r->pos;
    set_where(r, "tensor", ref->index, NULL, 0);
    if (parse_tensor_name(r, t, ref->index, ref->at) < 0 || parse_tensor_shape(r, t, ref->at) < 0 ||
        parse_tensor_type(r, t, ref->at) < 0)
        return -1;
    off_at = r->pos;
    if (rd_u64(r, "tensor data offset", &t->offset) < 0)
        return -1;
    if (t->offset % m->alignment != 0)
        return fail_at(r, off_at, "data offset %llu is not a multiple of the alignment %u",
                       (unsigned long long)t->offset, m->alignment);
    return 0;
}

static int cmp_ref_name(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;
    int c = strcmp(x->t->name, y->t->name);

    if (c)
        return c;
    return x->index < y->index ? -1 : 1;
}

/* Sort by name; equal neighbours are duplicates. Report the later one. */
static int check_duplicate_names(struct reader *r, struct tensor_ref *refs, uint64_t n)
{
    if (n < 2)
        return 0;
    qsort(refs, n, sizeof(*refs), cmp_ref_name);
    for (uint64_t i = 1; i < n; i++) {
        const struct tensor_ref *a = &refs[i - 1], *b = &refs[i];
        if (strcmp(a->t->name, b->t->name) == 0) {
            set_where(r, "tensor", b->index, (const uint8_t *)b->t->name, b->t->name_len);
            return fail_at(r, b->at, "duplicate tensor name (first used by tensor %llu)",
                           (unsigned long long)a->index);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ data layout
 *
 * The data section starts at the first multiple of the alignment after the
 * tensor infos. Offsets in the infos are relative to it and were checked for
 * alignment as they were read; here each tensor must lie inside the file and
 * no two may share a byte.
 */
static int check_in_file(struct reader *r, struct gguf_model *m, const struct tensor_ref *ref)
{
    struct gguf_tensor *t = (struct gguf_tensor *)ref->t;
    uint64_t rel = t->offset, end;

    set_where(r, "tensor", ref->index, (const uint8_t *)t->name, t->name_len);
    if (__builtin_add_overflow(m->data_offset, rel, &t->offset) ||
        __builtin_add_overflow(t->offset, t->nbytes, &end) || end > r->size)
        return fail_at(r, ref->at,
                       "data at offset %llu + %llu bytes (data section at byte %llu) extends "
                       "past the end of the file (%llu bytes)",
                       (unsigned long long)rel, (unsigned long long)t->nbytes,
                       (unsigned long long)m->data_offset, (unsigned long long)r->size);
    return 0;
}

static int cmp_ref_offset(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;

    if (x->t->offset != y->t->offset)
        return x->t->offset < y->t->offset ? -1 : 1;
    if (x->t->nbytes != y->t->nbytes)
        return x->t->nbytes < y->t->nbytes ? -1 : 1;
    return x->index < y->index ? -1 : 1;
}

/* Sorted by start, a tensor overlaps another iff it starts before the
 * furthest end seen so far. Tensors of zero bytes (unknown types) hold no
 * data and cannot overlap anything. */
static int check_overlaps(struct reader *r, struct tensor_ref *refs, uint64_t n)
{
    const struct tensor_ref *far = NULL;

    if (n == 0)
        return 0;
    qsort(refs, n, sizeof(*refs), cmp_ref_offset);
    for (uint64_t i = 0; i < n; i++) {
        const struct gguf_tensor *t = refs[i].t;
        if (t->nbytes == 0)
            continue;
        if (far && t->offset < far->t->offset + far->t->nbytes) {
            char q[256];
            quote_name(q, sizeof(q), (const uint8_t *)far->t->name, far->t->name_len);
            set_where(r, "tensor", refs[i].index, (const uint8_t *)t->name, t->name_len);
            return fail_at(
                r, refs[i].at, "data [%llu, %llu) overlaps tensor %llu '%s' [%llu, %llu)",
                (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                (unsigned long long)far->index, q, (unsigned long long)far->t->offset,
                (unsigned long long)(far->t->offset + far->t->nbytes));
        }
        if (!far || t->offset + t->nbytes > far->t->offset + far->t->nbytes)
            far = &refs[i];
    }
    return 0;
}

static int cmp_ref_index(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

static int check_layout(struct reader *r, struct gguf_model *m, struct tensor_ref *refs)
{
    uint64_t a = m->alignment;

    /* r->pos <= size < 2^63 and a <= 2^31: no overflow. */
    m->data_offset = (r->pos + a - 1) / a * a;
    if (m->n_tensors > 0 && m->data_offset > r->size) {
        snprintf(r->where, sizeof(r->where), "data section");
        return fail_at(r, r->pos,
                       "starts at byte %llu (tensor infos end at byte %llu, alignment %u), "
                       "past the end of the file (%llu bytes)",
                       (unsigned long long)m->data_offset, (unsigned long long)r->pos, m->alignment,
                       (unsigned long long)r->size);
    }
    if (m->n_tensors > 1) /* report the first tensor at fault in file order */
        qsort(refs, m->n_tensors, sizeof(*refs), cmp_ref_index);
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        if (check_in_file(r, m, &refs[i]) < 0)
            return -1;
    }
    return check_overlaps(r, refs, m->n_tensors);
}

static int parse_tensors(struct reader *r, struct gguf_model *m)
{
    struct tensor_ref *refs = NULL;
    int rc = 0;

    uint64_t i = 0, tcap = 0, rcap = 0;
    while (i < m->n_tensors && rc == 0) {
        if (grow((void **)&m->tensors, &tcap, i, m->n_tensors, sizeof(*m->tensors)) < 0 ||
            grow((void **)&refs, &rcap, i, m->n_tensors, sizeof(*refs)) < 0) {
            uint64_t declared = m->n_tensors;
            free(refs);
            m->n_tensors = i;
            return fail_at(r, r->pos, "out of memory for %llu tensors",
                           (unsigned long long)declared);
        }
        refs[i].index = i;
        rc = parse_tensor_info(r, m, &refs[i]);
        i++;
    }
    /* On failure only the infos read so far hold anything. */
    if (rc != 0)
        m->n_tensors = i;
    /* m->tensors may have moved while growing. */
    for (uint64_t k = 0; k < i; k++)
        refs[k].t = &m->tensors[refs[k].index];
    if (rc == 0)
        rc = check_duplicate_names(r, refs, m->n_tensors);
    if (rc == 0)
        rc = check_layout(r, m, refs);
    free(refs);
    return rc;
}

/* ------------------------------------------------------------------ entry points */

int gguf_parse(const void *buf, size_t size, struct gguf_model **out, char *err, size_t errlen)
{
    struct reader r = {.buf = buf, .size = size, .err = err, .errlen = errlen};
    struct gguf_model *m = calloc(1, sizeof(*m));

    *out = NULL;
    snprintf(r.where, sizeof(r.where), "header");
    if (!m)
        return fail_at(&r, 0, "out of memory");
    m->fd = -1;
    m->st.st_size = (off_t)size;
    if (parse_magic(&r) < 0 || parse_version(&r, &m->version) < 0 || parse_counts(&r, m) < 0 ||
        parse_metadata(&r, m) < 0 || parse_tensors(&r, m) < 0) {
        gguf_close(m);
        return -1;
    }
    *out = m;
    return 0;
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file";
}

/* Open read-only, refuse what cannot be a model. O_NONBLOCK, because a
 * blocking open() of a FIFO waits for a writer forever; a regular file
 * ignores the flag, which is cleared once the type is known. */
static int open_checked(const char *path, struct stat *st, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "is %s, not a GGUF file", file_kind(st->st_mode));
    } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot clear O_NONBLOCK: %s", strerror(errno));
    } else if (st->st_size == 0) {
        /* Nothing to map; other short files get the parser's own message. */
        snprintf(err, errlen, "empty file (0 bytes), not a GGUF model");
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

int gguf_open(const char *path, struct gguf_model **out, char *err, size_t errlen)
{
    struct stat st;
    struct gguf_model *m;
    void *map;
    int fd, rc;

    *out = NULL;
    fd = open_checked(path, &st, err, errlen);
    if (fd < 0)
        return -1;
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map: %s", strerror(errno));
        close(fd);
        return -1;
    }
    rc = gguf_parse(map, (size_t)st.st_size, &m, err, errlen);
    munmap(map, (size_t)st.st_size);
    if (rc == 0 && !(m->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        gguf_close(m);
        rc = -1;
    }
    if (rc < 0) {
        close(fd);
        return -1;
    }
    m->fd = fd;
    m->st = st;
    *out = m;
    return 0;
}

void gguf_close(struct gguf_model *m)
{
    if (!m)
        return;
    for (uint64_t i = 0; m->tensors && i < m->n_tensors; i++)
        free(m->tensors[i].name);
    free(m->tensors);
    for (uint64_t i = 0; m->kv && i < m->n_kv; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    free(m->architecture);
    free(m->model_name);
    free(m->path);
    if (m->fd >= 0)
        close(m->fd);
    for (uint32_t i = 0; m->shards && i < m->n_shards; i++) {
        free(m->shards[i].path);
        if (m->shards[i].fd >= 0)
            close(m->shards[i].fd);
    }
    free(m->shards);
    free(m);
}
