/* snapshot.c - see snapshot.h.
 *
 * Each snapshot is counted: one reference per open file, one per read in
 * flight, one for the cache's `newest` while it is the newest. All counts
 * and the list move under one mutex, which get() also holds while it
 * renders: concurrent opens then wait for one rendering instead of making
 * one each, which is the point.
 */
#include "fs/snapshot.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct snapshot {
    struct ns_blob blob; /* first: a blob pointer is a snapshot pointer */
    struct snapshot *prev, *next;
    unsigned refs;
    uint64_t stamp;
    char *text;
};

struct snapshots {
    snapshot_render_fn render;
    snapshot_stamp_fn stamp;
    void *arg;
    unsigned cap, held;
    pthread_mutex_t lock;
    struct snapshot *list;   /* every live snapshot */
    struct snapshot *newest; /* holds a reference; NULL before the first */
};

struct snapshots *snapshots_new(snapshot_render_fn render, snapshot_stamp_fn stamp, void *arg,
                                unsigned cap)
{
    struct snapshots *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->render = render;
    s->stamp = stamp;
    s->arg = arg;
    s->cap = cap ? cap : 1;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void unlink_free(struct snapshots *s, struct snapshot *sn)
{
    if (sn->prev)
        sn->prev->next = sn->next;
    else
        s->list = sn->next;
    if (sn->next)
        sn->next->prev = sn->prev;
    s->held--;
    free(sn->text);
    free(sn);
}

void snapshots_free(struct snapshots *s)
{
    if (s == NULL)
        return;
    while (s->list != NULL)
        unlink_free(s, s->list);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void put_locked(struct snapshots *s, struct snapshot *sn)
{
    if (--sn->refs == 0)
        unlink_free(s, sn);
}

/* Render a new newest snapshot; the caller holds the lock. NULL when out
 * of memory (the old newest stays). */
static struct snapshot *render_locked(struct snapshots *s, uint64_t stamp)
{
    struct snapshot *sn = calloc(1, sizeof(*sn));
    if (sn == NULL)
        return NULL;
    sn->text = s->render(s->arg, &sn->blob.len);
    if (sn->text == NULL) {
        free(sn);
        return NULL;
    }
    sn->blob.bytes = sn->text;
    sn->stamp = stamp;
    sn->refs = 1; /* newest's */
    sn->next = s->list;
    if (s->list)
        s->list->prev = sn;
    s->list = sn;
    s->held++;
    if (s->newest != NULL)
        put_locked(s, s->newest);
    s->newest = sn;
    return sn;
}

static const struct ns_blob *snap_get(void *arg)
{
    struct snapshots *s = arg;
    pthread_mutex_lock(&s->lock);
    uint64_t stamp = s->stamp(s->arg);
    struct snapshot *sn = s->newest;
    bool fresh = sn != NULL && sn->stamp == stamp;
    /* Replacing a newest that only the cache holds frees it, so the count
     * does not grow; otherwise past the cap a stale newest is still better
     * than memory that grows with the opens. */
    if (!fresh && (sn == NULL || s->held < s->cap || sn->refs == 1)) {
        struct snapshot *n = render_locked(s, stamp);
        if (n != NULL)
            sn = n;
    }
    if (sn != NULL)
        sn->refs++;
    pthread_mutex_unlock(&s->lock);
    return sn != NULL ? &sn->blob : NULL;
}

static void snap_put(void *arg, const struct ns_blob *b)
{
    struct snapshots *s = arg;
    if (b == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    put_locked(s, (struct snapshot *)b);
    pthread_mutex_unlock(&s->lock);
}

static void snap_hold(void *arg, const struct ns_blob *b)
{
    struct snapshots *s = arg;
    pthread_mutex_lock(&s->lock);
    ((struct snapshot *)b)->refs++;
    pthread_mutex_unlock(&s->lock);
}

static uint64_t snap_size(void *arg)
{
    const struct ns_blob *b = snap_get(arg);
    uint64_t n = b != NULL ? b->len : 0;
    snap_put(arg, b);
    return n;
}

struct ns_source snapshots_source(struct snapshots *s)
{
    return (struct ns_source){
        .get = snap_get, .put = snap_put, .hold = snap_hold, .size = snap_size, .arg = s};
}

unsigned snapshots_held(struct snapshots *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = s->held;
    pthread_mutex_unlock(&s->lock);
    return n;
}
