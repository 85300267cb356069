/* gguf_kv.c - the key/value section of a GGUF file (see gguf_internal.h).
 *
 * Values are validated and skipped; only general.alignment,
 * general.architecture and general.name are read, and every key/value is
 * kept whole (key and value bytes) for the .meta view. Keys are remembered
 * as pointers into the image so duplicates can be found by sorting.
 */
#include "format/gguf_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
        return gguf_fail_at(r, at, "arrays nested deeper than %d levels", GGUF_MAX_NESTING);
    if (gguf_rd_u32(r, "array element type", &etype) < 0 || gguf_rd_u64(r, "array length", &n) < 0)
        return -1;
    if (etype >= GV_COUNT)
        return gguf_fail_at(r, at, "array element type %u is not a GGUF value type (0..%d)", etype,
                            GV_COUNT - 1);
    /* Smallest element: its scalar size, a string's length, an array's header. */
    uint64_t min = gguf_vtype_sizes[etype] ? gguf_vtype_sizes[etype] : etype == GV_STRING ? 8 : 12;
    if (n > GGUF_MAX_ARRAY || n > left(r) / min)
        return gguf_fail_at(r, at, "array of %llu %s elements cannot fit in the %llu bytes left",
                            (unsigned long long)n, gguf_vtype_names[etype],
                            (unsigned long long)left(r));
    if (gguf_vtype_sizes[etype]) {
        const uint8_t *p = NULL;
        return gguf_take(r, n * min, "array data", &p);
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
        return gguf_rd_str(r, "string value", &p, &len);
    if (type == GV_ARRAY)
        return skip_array(r, depth);
    return gguf_take(r, gguf_vtype_sizes[type], "value", &p);
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
        return gguf_fail_at(r, at, "must be of type u32, not %s",
                            type < GV_COUNT ? gguf_vtype_names[type] : "unknown");
    if (gguf_rd_u32(r, "value", &a) < 0)
        return -1;
    if (a == 0 || (a & (a - 1)) != 0)
        return gguf_fail_at(r, at, "alignment %u is not a non-zero power of two", a);
    m->alignment = a;
    return 0;
}

/* Keep general.architecture and general.name when they are strings. */
static int take_string(struct reader *r, char **dst)
{
    const uint8_t *s = NULL;
    uint64_t len;

    if (gguf_rd_str(r, "string value", &s, &len) < 0)
        return -1;
    *dst = gguf_dup_bytes(s, len);
    if (!*dst)
        return gguf_fail_at(r, r->pos, "out of memory");
    return 0;
}

/* Keep key/value i whole: its key and the bytes of its value, which the
 * parser has just validated from value_at to the cursor. */
static int keep_kv(struct reader *r, struct gguf_model *m, uint64_t i, const struct key_ref *k,
                   uint32_t type, uint64_t value_at)
{
    struct gguf_kv *kv = &m->kv[i];

    kv->key = gguf_dup_bytes(k->s, k->len);
    kv->key_len = k->len;
    kv->type = type;
    kv->value_len = r->pos - value_at;
    kv->value = malloc(kv->value_len ? kv->value_len : 1);
    if (!kv->key || !kv->value)
        return gguf_fail_at(r, value_at, "out of memory");
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

    gguf_set_where(r, "key/value", i, NULL, 0);
    k->at = r->pos;
    k->index = i;
    if (gguf_rd_str(r, "key", &k->s, &k->len) < 0)
        return -1;
    if (k->len == 0)
        return gguf_fail_at(r, k->at, "empty key");
    gguf_set_where(r, "key/value", i, k->s, k->len);
    /* ggml finds keys with C string compares and checks duplicates on whole
     * strings: "general.alignment\0X" is its alignment yet no duplicate of
     * a real "general.alignment". Refused, so that no key can mean one thing
     * to ggml and another here. */
    if (memchr(k->s, '\0', k->len) != NULL)
        return gguf_fail_at(
            r, k->at, "key contains a NUL byte at offset %llu of %llu",
            (unsigned long long)((const uint8_t *)memchr(k->s, '\0', k->len) - k->s),
            (unsigned long long)k->len);
    type_at = r->pos;
    if (gguf_rd_u32(r, "value type", &type) < 0)
        return -1;
    if (type >= GV_COUNT)
        return gguf_fail_at(r, type_at, "value type %u is not a GGUF value type (0..%d)", type,
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
            gguf_set_where(r, "key/value", b->index, b->s, b->len);
            return gguf_fail_at(r, b->at, "duplicate key (first defined by key/value %llu)",
                                (unsigned long long)a->index);
        }
    }
    return 0;
}

int gguf_parse_metadata(struct reader *r, struct gguf_model *m)
{
    struct key_ref *keys = NULL;
    int rc = 0;

    uint64_t cap = 0, kvcap = 0;

    m->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < m->n_kv && rc == 0; i++) {
        if (gguf_grow((void **)&keys, &cap, i, m->n_kv, sizeof(*keys)) < 0 ||
            gguf_grow((void **)&m->kv, &kvcap, i, m->n_kv, sizeof(*m->kv)) < 0) {
            rc =
                gguf_fail_at(r, r->pos, "out of memory for %llu keys", (unsigned long long)m->n_kv);
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
