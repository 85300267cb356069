/* kv_format.c - see kv_format.h. */
#include "fs/kv_format.h"

#include "format/gguf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

const char *kv_type_name(uint32_t type)
{
    return type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : "?";
}

/* A cursor over a stored value. */
struct cur {
    const uint8_t *p;
    uint64_t left;
};

static int take(struct cur *c, uint64_t n, const uint8_t **p)
{
    if (n > c->left)
        return -1;
    *p = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static int rd_u64(struct cur *c, uint64_t *v)
{
    const uint8_t *p;
    if (take(c, 8, &p) < 0)
        return -1;
    *v = le(p, 8);
    return 0;
}

/* Shortest decimal that reads back to the same value. */
static void put_float(struct text *tx, double v, bool single, bool json)
{
    char b[320]; /* %.17g needs 25 at most; sized for what gcc can prove */
    if (isnan(v) || isinf(v)) {
        const char *s = isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
        text_printf(tx, json ? "\"%s\"" : "%s", s);
        return;
    }
    /* The fewest digits that read back: a binary search, since a precision
     * that reads back makes every higher one read back too (printf and
     * strto* round correctly), and a vocabulary's scores are 10^5 floats
     * formatted at every mount. 9 digits always do for a float, 17 for a
     * double. */
    int lo = 1, hi = single ? 9 : 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(b, sizeof(b), "%.*g", mid, v);
        if (single ? strtof(b, NULL) == (float)v : strtod(b, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(b, sizeof(b), "%.*g", lo, v);
    text_puts(tx, b);
}

/* A scalar (not a string or array) of `type`. */
static int put_scalar(struct text *tx, struct cur *c, uint32_t type, bool json)
{
    static const uint8_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    const uint8_t *p;
    if (type >= sizeof(sizes) || sizes[type] == 0 || take(c, sizes[type], &p) < 0)
        return -1;
    uint64_t u = le(p, sizes[type]);
    unsigned bits = 8u * sizes[type];
    switch (type) {
    case GGUF_VALUE_INT8:
    case GGUF_VALUE_INT16:
    case GGUF_VALUE_INT32:
    case GGUF_VALUE_INT64: {
        int64_t i =
            bits < 64 && (u >> (bits - 1)) ? (int64_t)(u | ~((1ull << bits) - 1)) : (int64_t)u;
        text_printf(tx, "%" PRId64, i);
        return 0;
    }
    case GGUF_VALUE_FLOAT32: {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        put_float(tx, f, true, json);
        return 0;
    }
    case GGUF_VALUE_FLOAT64: {
        double d;
        memcpy(&d, &u, 8);
        put_float(tx, d, false, json);
        return 0;
    }
    case GGUF_VALUE_BOOL:
        text_puts(tx, u ? "true" : "false");
        return 0;
    default:
        text_printf(tx, "%" PRIu64, u);
        return 0;
    }
}

static int get_string(struct cur *c, const uint8_t **s, uint64_t *n)
{
    return rd_u64(c, n) < 0 || take(c, *n, s) < 0 ? -1 : 0;
}

static int json_value(struct text *tx, struct cur *c, uint32_t type, int depth);

static int json_array(struct text *tx, struct cur *c, int depth)
{
    const uint8_t *p;
    uint64_t n;
    if (depth > 16 || take(c, 4, &p) < 0 || rd_u64(c, &n) < 0)
        return -1;
    uint32_t et = (uint32_t)le(p, 4);
    text_puts(tx, "[");
    for (uint64_t i = 0; i < n; i++) {
        if (i)
            text_puts(tx, ", ");
        if (json_value(tx, c, et, depth + 1) < 0)
            return -1;
    }
    text_puts(tx, "]");
    return 0;
}

static int json_value(struct text *tx, struct cur *c, uint32_t type, int depth)
{
    const uint8_t *s;
    uint64_t n;
    if (type == GGUF_VALUE_STRING) {
        if (get_string(c, &s, &n) < 0)
            return -1;
        text_json_string(tx, (const char *)s, n);
        return 0;
    }
    if (type == GGUF_VALUE_ARRAY)
        return json_array(tx, c, depth);
    return put_scalar(tx, c, type, true);
}

int kv_array_info(const uint8_t *v, uint64_t len, uint32_t *etype, uint64_t *n)
{
    struct cur c = {v, len};
    const uint8_t *p;
    if (take(&c, 4, &p) < 0 || rd_u64(&c, n) < 0)
        return -1;
    *etype = (uint32_t)le(p, 4);
    return 0;
}

int kv_json(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len)
{
    struct cur c = {v, len};
    return json_value(tx, &c, type, 0);
}

/* One element or scalar in plain form, without the newline. */
static int plain_value(struct text *tx, struct cur *c, uint32_t type)
{
    const uint8_t *s;
    uint64_t n;
    if (type == GGUF_VALUE_STRING) {
        if (get_string(c, &s, &n) < 0)
            return -1;
        text_put(tx, s, n);
        return 0;
    }
    if (type == GGUF_VALUE_ARRAY)
        return json_array(tx, c, 1);
    return put_scalar(tx, c, type, false);
}

int kv_plain(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len)
{
    struct cur c = {v, len};
    if (type != GGUF_VALUE_ARRAY) {
        if (plain_value(tx, &c, type) < 0)
            return -1;
        text_puts(tx, "\n");
        return 0;
    }
    const uint8_t *p;
    uint64_t n;
    if (take(&c, 4, &p) < 0 || rd_u64(&c, &n) < 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (plain_value(tx, &c, (uint32_t)le(p, 4)) < 0)
            return -1;
        text_puts(tx, "\n");
    }
    return 0;
}

int kv_string(struct text *tx, uint32_t type, const uint8_t *v, uint64_t len)
{
    struct cur c = {v, len};
    if (type == GGUF_VALUE_STRING)
        return plain_value(tx, &c, type);
    return json_value(tx, &c, type, 0);
}
