/* record.c - per-tensor read records. See record.h.
 *
 * Written by every reader thread (one record per FUSE read) and read by
 * whoever opens the control file. Counters and the path set are atomics, so
 * the hot path takes no lock; the reason changes rarely (a fallback or a
 * failure) and sits behind one mutex, which records_get() also takes.
 */
#include "read/record.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    atomic_uint paths;
    atomic_uint_fast64_t reads;
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t pushed;
    char *reason; /* under records.lock; NULL = none */
};

struct records {
    uint64_t n;
    struct record *rec;
    pthread_mutex_t lock;
};

const char *read_path_name(enum read_path p)
{
    static const char *const names[READ_PATH_COUNT] = {
        [READ_PATH_UNREAD] = "unread",   [READ_PATH_PASSTHROUGH] = "passthrough",
        [READ_PATH_CPU] = "cpu",         [READ_PATH_CPU_FALLBACK] = "cpu-fallback",
        [READ_PATH_GPU_HIP] = "gpu-hip", [READ_PATH_GPU_CUDA] = "gpu-cuda",
        [READ_PATH_ERROR] = "error",
    };
    return (unsigned)p < READ_PATH_COUNT ? names[p] : "?";
}

struct records *records_new(uint64_t n)
{
    struct records *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return NULL;
    rs->n = n;
    rs->rec = calloc(n ? n : 1, sizeof(*rs->rec));
    if (rs->rec == NULL || pthread_mutex_init(&rs->lock, NULL) != 0) {
        free(rs->rec);
        free(rs);
        return NULL;
    }
    for (uint64_t i = 0; i < n; i++) {
        atomic_init(&rs->rec[i].paths, 0);
        atomic_init(&rs->rec[i].reads, 0);
        atomic_init(&rs->rec[i].bytes, 0);
        atomic_init(&rs->rec[i].pushed, 0);
    }
    return rs;
}

void records_free(struct records *rs)
{
    if (rs == NULL)
        return;
    for (uint64_t i = 0; i < rs->n; i++)
        free(rs->rec[i].reason);
    pthread_mutex_destroy(&rs->lock);
    free(rs->rec);
    free(rs);
}

bool records_add(struct records *rs, uint64_t t, read_path_set paths, uint64_t bytes,
                 const char *reason)
{
    if (t >= rs->n)
        return false;
    struct record *r = &rs->rec[t];
    unsigned before = atomic_fetch_or_explicit(&r->paths, paths, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->reads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
    if (reason != NULL) {
        pthread_mutex_lock(&rs->lock);
        if (r->reason == NULL || strcmp(r->reason, reason) != 0) {
            /* Out of memory keeps the old reason: a stale reason beats none. */
            char *copy = strdup(reason);
            if (copy != NULL) {
                free(r->reason);
                r->reason = copy;
            }
        }
        pthread_mutex_unlock(&rs->lock);
    }
    read_path_set err = READ_PATH_BIT(READ_PATH_ERROR);
    return (paths & err) && !(before & err);
}

void records_pushed(struct records *rs, uint64_t t, uint64_t bytes)
{
    if (t < rs->n)
        atomic_fetch_add_explicit(&rs->rec[t].pushed, bytes, memory_order_relaxed);
}

void records_get(struct records *rs, uint64_t t, struct record_view *v)
{
    memset(v, 0, sizeof(*v));
    if (t >= rs->n)
        return;
    struct record *r = &rs->rec[t];
    v->paths = atomic_load_explicit(&r->paths, memory_order_relaxed);
    v->reads = atomic_load_explicit(&r->reads, memory_order_relaxed);
    v->bytes = atomic_load_explicit(&r->bytes, memory_order_relaxed);
    v->pushed = atomic_load_explicit(&r->pushed, memory_order_relaxed);
    pthread_mutex_lock(&rs->lock);
    if (r->reason != NULL)
        snprintf(v->reason, sizeof(v->reason), "%s", r->reason);
    pthread_mutex_unlock(&rs->lock);
}
