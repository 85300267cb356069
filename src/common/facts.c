/* facts.c - see facts.h. */
#define _GNU_SOURCE /* vasprintf */
#include "common/facts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fact {
    char *key, *value;
};

struct facts {
    struct fact *v;
    size_t n, cap;
    bool failed;
};

struct facts *facts_new(void)
{
    return calloc(1, sizeof(struct facts));
}

void facts_free(struct facts *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].key);
        free(f->v[i].value);
    }
    free(f->v);
    free(f);
}

void facts_add(struct facts *f, const char *key, const char *fmt, ...)
{
    if (f == NULL || f->failed)
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct fact *nv = realloc(f->v, cap * sizeof(*nv));
        if (nv == NULL) {
            f->failed = true;
            return;
        }
        f->v = nv;
        f->cap = cap;
    }
    char *value = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&value, fmt, ap);
    va_end(ap);
    char *k = strdup(key);
    if (n < 0 || k == NULL) {
        free(k);
        if (n >= 0)
            free(value);
        f->failed = true;
        return;
    }
    f->v[f->n].key = k;
    f->v[f->n].value = value;
    f->n++;
}

bool facts_failed(const struct facts *f)
{
    return f == NULL || f->failed;
}

size_t facts_count(const struct facts *f)
{
    return f->n;
}

const char *facts_key(const struct facts *f, size_t i)
{
    return f->v[i].key;
}

const char *facts_value(const struct facts *f, size_t i)
{
    return f->v[i].value;
}
