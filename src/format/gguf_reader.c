/* gguf_reader.c - the bounded cursor and the message helpers of the GGUF
 * parser (see gguf_internal.h). Nothing here reads past r->size: every
 * length is compared with the bytes left before it is taken.
 */
#include "format/gguf_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gguf_vtype_names[GV_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

const uint8_t gguf_vtype_sizes[GV_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

__attribute__((format(printf, 3, 4))) int gguf_fail_at(struct reader *r, uint64_t at,
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
int gguf_take(struct reader *r, uint64_t n, const char *what, const uint8_t **p)
{
    if (n > left(r))
        return gguf_fail_at(r, r->pos, "truncated: %s needs %llu bytes but only %llu remain", what,
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

int gguf_rd_u32(struct reader *r, const char *what, uint32_t *v)
{
    const uint8_t *p = NULL;

    if (gguf_take(r, 4, what, &p) < 0)
        return -1;
    *v = le_u32(p);
    return 0;
}

int gguf_rd_u64(struct reader *r, const char *what, uint64_t *v)
{
    const uint8_t *p = NULL;

    if (gguf_take(r, 8, what, &p) < 0)
        return -1;
    *v = le_u64(p);
    return 0;
}

/* A GGUF string (u64 length, bytes); *s points into the image. */
int gguf_rd_str(struct reader *r, const char *what, const uint8_t **s, uint64_t *len)
{
    uint64_t at = r->pos;

    if (gguf_rd_u64(r, what, len) < 0)
        return -1;
    if (*len > GGUF_MAX_STRING)
        return gguf_fail_at(r, at, "%s length %llu exceeds the limit of %llu bytes", what,
                            (unsigned long long)*len, (unsigned long long)GGUF_MAX_STRING);
    if (*len > left(r))
        return gguf_fail_at(r, at, "%s length %llu exceeds the %llu bytes left in the file", what,
                            (unsigned long long)*len, (unsigned long long)left(r));
    return gguf_take(r, *len, what, s);
}

/* Write a name for messages: printable ASCII kept, other bytes as \xNN,
 * cut at 60 bytes of input with "...". */
void gguf_quote_name(char *dst, size_t dstlen, const uint8_t *s, uint64_t len)
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

void gguf_set_where(struct reader *r, const char *kind, uint64_t i, const uint8_t *name,
                    uint64_t len)
{
    char q[256];

    if (!name) {
        snprintf(r->where, sizeof(r->where), "%s %llu", kind, (unsigned long long)i);
        return;
    }
    gguf_quote_name(q, sizeof(q), name, len);
    snprintf(r->where, sizeof(r->where), "%s %llu '%s'", kind, (unsigned long long)i, q);
}

/* Make room for item i of an array of `size`-byte items (*cap of them now,
 * at most max ever), doubling. The tables grow with what the file really
 * holds rather than being sized by the count it declares: a sparse file can
 * declare 2^28 tensors that "fit" in its size and are all zeros. The new
 * items are zeroed. Returns 0, or -1 when out of memory. */
int gguf_grow(void **arr, uint64_t *cap, uint64_t i, uint64_t max, size_t size)
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

char *gguf_dup_bytes(const uint8_t *s, uint64_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}
