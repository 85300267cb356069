/* text.c - see text.h. */
#include "fs/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_reserve(struct text *tx, size_t more)
{
    if (tx->oom || tx->len + more + 1 <= tx->cap)
        return;
    size_t cap = tx->cap ? tx->cap : 256;
    while (cap < tx->len + more + 1)
        cap *= 2;
    char *nb = realloc(tx->buf, cap);
    if (nb == NULL) {
        tx->oom = true;
        return;
    }
    tx->buf = nb;
    tx->cap = cap;
}

void text_put(struct text *tx, const void *s, size_t n)
{
    text_reserve(tx, n);
    if (tx->oom)
        return;
    memcpy(tx->buf + tx->len, s, n);
    tx->len += n;
    tx->buf[tx->len] = '\0';
}

void text_puts(struct text *tx, const char *s)
{
    text_put(tx, s, strlen(s));
}

void text_printf(struct text *tx, const char *fmt, ...)
{
    char small[128];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        tx->oom = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        text_put(tx, small, (size_t)n);
        return;
    }
    text_reserve(tx, (size_t)n);
    if (tx->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(tx->buf + tx->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tx->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    uint32_t c = s[0], min;
    size_t len;

    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return len;
}

bool text_valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

void text_json_string(struct text *tx, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    text_puts(tx, "\"");
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(p + i, n - i);
        if (l == 0) {
            text_puts(tx, "\\ufffd");
            i++;
        } else if (p[i] == '"' || p[i] == '\\') {
            text_printf(tx, "\\%c", p[i]);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            text_printf(tx, "\\u%04x", p[i]);
            i++;
        } else {
            text_put(tx, p + i, l);
            i += l;
        }
    }
    text_puts(tx, "\"");
}

bool text_failed(const struct text *tx)
{
    return tx->oom;
}

void text_free(struct text *tx)
{
    free(tx->buf);
    tx->buf = NULL;
    tx->len = tx->cap = 0;
    tx->oom = false;
}
