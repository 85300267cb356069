/* text.h - a growable text buffer for the views' headers and metadata.
 *
 * Errors are sticky: once an allocation fails every append does nothing
 * and text_failed() says so, so a view writes everything and checks once.
 * The buffer is always NUL-terminated (when not failed).
 */
#ifndef GGUFFS_TEXT_H
#define GGUFFS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct text {
    char *buf;
    size_t len, cap;
    bool oom;
};

/* Make room for `more` bytes beyond what is held (a hint: appends grow the
 * buffer anyway). */
void text_reserve(struct text *tx, size_t more);
void text_put(struct text *tx, const void *s, size_t n);
void text_puts(struct text *tx, const char *s);
void text_printf(struct text *tx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A JSON string literal (quotes included) of n bytes: '"', '\\' and control
 * characters escaped; bytes that are not valid UTF-8 become U+FFFD. */
void text_json_string(struct text *tx, const char *s, size_t n);

/* True when s[0..n) is valid UTF-8 (JSON strings must be). */
bool text_valid_utf8(const char *s, size_t n);

bool text_failed(const struct text *tx);
void text_free(struct text *tx); /* the buffer; the struct may be reused */

#endif
