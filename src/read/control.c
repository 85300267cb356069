/* control.c - per-tensor read records and the control file's text.
 *
 * One `struct record` per tensor, written by every reader thread and read by
 * whoever opens the control file. Counters and the path set are atomics, so
 * the hot path (one record per FUSE read) takes no lock; the reason string
 * changes rarely (a fallback or a failure) and sits behind one mutex, which
 * rendering also takes to copy it. A rendered snapshot is consistent per
 * field, not across fields: good enough for a report, and never torn text.
 */
#include "read/control.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    atomic_uint paths;
    atomic_uint_fast64_t reads;
    atomic_uint_fast64_t bytes;
    char *reason; /* under control.lock; NULL = none */
};

struct control {
    const struct gguf_model *m;
    struct record *rec;
    pthread_mutex_t lock;
};

struct control *control_new(const struct gguf_model *m)
{
    struct control *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->m = m;
    c->rec = calloc(m->n_tensors ? m->n_tensors : 1, sizeof(*c->rec));
    if (c->rec == NULL) {
        free(c);
        return NULL;
    }
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        atomic_init(&c->rec[i].paths, 0);
        atomic_init(&c->rec[i].reads, 0);
        atomic_init(&c->rec[i].bytes, 0);
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void control_free(struct control *c)
{
    if (c == NULL)
        return;
    for (uint64_t i = 0; i < c->m->n_tensors; i++)
        free(c->rec[i].reason);
    pthread_mutex_destroy(&c->lock);
    free(c->rec);
    free(c);
}

void control_record(struct control *c, uint64_t t, unsigned path, uint64_t bytes,
                    const char *reason)
{
    if (t >= c->m->n_tensors)
        return;
    struct record *r = &c->rec[t];
    atomic_fetch_or_explicit(&r->paths, path, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->reads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
    if (reason == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    if (r->reason == NULL || strcmp(r->reason, reason) != 0) {
        /* Out of memory keeps the old reason: a stale reason beats none. */
        char *copy = strdup(reason);
        if (copy != NULL) {
            free(r->reason);
            r->reason = copy;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* ----------------------------------------------------------------------
 * Rendering: a growable text buffer, then one row per tensor.
 * ---------------------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    int oom;
};

static void text_reserve(struct text *tx, size_t more)
{
    if (tx->oom || tx->len + more + 1 <= tx->cap)
        return;
    size_t cap = tx->cap ? tx->cap : 4096;
    while (cap < tx->len + more + 1)
        cap *= 2;
    char *nb = realloc(tx->buf, cap);
    if (nb == NULL) {
        tx->oom = 1;
        return;
    }
    tx->buf = nb;
    tx->cap = cap;
}

static void text_put(struct text *tx, const char *s, size_t n)
{
    text_reserve(tx, n);
    if (tx->oom)
        return;
    memcpy(tx->buf + tx->len, s, n);
    tx->len += n;
    tx->buf[tx->len] = '\0';
}

static void text_puts(struct text *tx, const char *s)
{
    text_put(tx, s, strlen(s));
}

/* A field must not hold a tab or a line break: they would break the table. */
static void text_put_field(struct text *tx, const char *s)
{
    size_t start = tx->len;
    text_puts(tx, s);
    if (tx->oom)
        return;
    for (size_t i = start; i < tx->len; i++)
        if (tx->buf[i] == '\t' || tx->buf[i] == '\n' || tx->buf[i] == '\r')
            tx->buf[i] = ' ';
}

static const struct {
    unsigned bit;
    const char *name;
} path_names[] = {
    {PATH_PASSTHROUGH, "passthrough"},   {PATH_CPU, "cpu"},
    {PATH_CPU_FALLBACK, "cpu-fallback"}, {PATH_GPU_HIP, "gpu-hip"},
    {PATH_GPU_CUDA, "gpu-cuda"},         {PATH_ERROR, "error"},
};

static void render_paths(struct text *tx, unsigned paths)
{
    if (paths == 0) {
        text_puts(tx, "unread");
        return;
    }
    int first = 1;
    for (size_t i = 0; i < sizeof(path_names) / sizeof(path_names[0]); i++) {
        if (!(paths & path_names[i].bit))
            continue;
        if (!first)
            text_puts(tx, ",");
        text_puts(tx, path_names[i].name);
        first = 0;
    }
}

static void render_row(struct control *c, struct text *tx, uint64_t i)
{
    const struct gguf_tensor *t = &c->m->tensors[i];
    struct record *r = &c->rec[i];
    char name[NAMES_ENCODED_MAX(GGUF_MAX_NAME)], tbuf[16], num[32];

    if (names_encode(t->name, t->name_len, name, sizeof(name)) < 0)
        snprintf(name, sizeof(name), "tensor%" PRIu64, i);
    text_puts(tx, name);
    text_puts(tx, "\t");
    text_puts(tx, ggml_type_name(t->type, tbuf));
    snprintf(num, sizeof(num), "\t%" PRIu64 "\t", t->n_elements);
    text_puts(tx, num);
    for (uint32_t d = 0; d < t->n_dims; d++) {
        snprintf(num, sizeof(num), d ? ",%" PRIu64 : "%" PRIu64, t->ne[d]);
        text_puts(tx, num);
    }
    text_puts(tx, "\t");
    render_paths(tx, atomic_load_explicit(&r->paths, memory_order_relaxed));
    text_puts(tx, "\t");
    pthread_mutex_lock(&c->lock);
    text_put_field(tx, r->reason ? r->reason : "-");
    pthread_mutex_unlock(&c->lock);
    snprintf(num, sizeof(num), "\t%" PRIu64 "\t",
             (uint64_t)atomic_load_explicit(&r->reads, memory_order_relaxed));
    text_puts(tx, num);
    snprintf(num, sizeof(num), "%" PRIu64 "\n",
             (uint64_t)atomic_load_explicit(&r->bytes, memory_order_relaxed));
    text_puts(tx, num);
}

char *control_render(struct control *c, const char *preamble, size_t *len)
{
    struct text tx = {0};

    text_reserve(&tx, 256 + c->m->n_tensors * 96);
    if (preamble != NULL)
        text_puts(&tx, preamble);
    if (tx.len > 0 && tx.buf[tx.len - 1] != '\n')
        text_puts(&tx, "\n");
    text_puts(&tx, "tensor\ttype\telements\tshape\tpath\treason\treads\tbytes\n");
    for (uint64_t i = 0; i < c->m->n_tensors && !tx.oom; i++)
        render_row(c, &tx, i);
    if (tx.oom) {
        free(tx.buf);
        return NULL;
    }
    *len = tx.len;
    return tx.buf;
}
