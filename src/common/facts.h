/* facts.h - model-wide facts for the "#" lines of the control file.
 *
 * A facts list is an ordered list of (key, value) pairs that modules fill
 * (the model, the read path, the GPU) and control.c alone turns into text:
 * no other module formats a line of the control file. Values are plain
 * strings; control.c escapes them when it writes them.
 *
 * Errors are sticky: once an allocation fails, facts_add() does nothing more
 * and facts_failed() says so, so a caller adds everything and checks once.
 * Not thread-safe: one list is built by one thread.
 */
#ifndef GGUFFS_FACTS_H
#define GGUFFS_FACTS_H

#include <stdbool.h>
#include <stddef.h>

struct facts;

/* An empty list, or NULL when out of memory. */
struct facts *facts_new(void);
void facts_free(struct facts *f); /* NULL is a no-op */

/* Append key: value, the value formatted as by printf. */
void facts_add(struct facts *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool facts_failed(const struct facts *f);
size_t facts_count(const struct facts *f);
const char *facts_key(const struct facts *f, size_t i);
const char *facts_value(const struct facts *f, size_t i);

#endif
