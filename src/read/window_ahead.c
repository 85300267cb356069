/* window_ahead.c - the read-ahead thread of the window cache: it decodes
 * the windows after the one a sequential reader is in, so the reader rarely
 * waits for a decode. One thread, started at the first sequential read,
 * works on one tensor's run of windows [ra_next, ra_end) at a time; a
 * request for another tensor replaces one not yet done. Read-ahead takes at
 * most half the window budget (window_cache.c sets ra_depth).
 */
#include "read/request.h"
#include "read/window_cache.h"
#include "read/window_internal.h"

#include <pthread.h>

static void *ra_main(void *arg)
{
    struct window_cache *wc = arg;

    pthread_mutex_lock(&wc->lock);
    for (;;) {
        while (wc->ra_next >= wc->ra_end && !wc->ra_quit)
            pthread_cond_wait(&wc->ra_cond, &wc->lock);
        if (wc->ra_quit)
            break;
        uint64_t t = wc->ra_t, k = wc->ra_next++;
        bool cached = window_find(wc, t, k) != NULL;
        if (!cached)
            wc->readaheads++;
        pthread_mutex_unlock(&wc->lock);
        if (!cached) {
            struct read_result res;
            struct window *w = window_get(wc, t, k, &res);
            if (w != NULL)
                window_put(wc, w);
        }
        pthread_mutex_lock(&wc->lock);
    }
    pthread_mutex_unlock(&wc->lock);
    return NULL;
}

/* A read was served from window k of tensor t (of nwin windows). If it looks
 * sequential (the window before is cached, or this is the first), have the
 * next ra_depth windows decoded in the background. A request for another
 * tensor replaces one not yet done. Needs wc->lock. */
static void ra_consider(struct window_cache *wc, uint64_t t, uint64_t k, uint64_t nwin)
{
    uint64_t end = k + 1 + wc->ra_depth < nwin ? k + 1 + wc->ra_depth : nwin;

    if (end <= k + 1 || (t == wc->ra_t && end <= wc->ra_end))
        return;
    if (k > 0 && window_find(wc, t, k - 1) == NULL)
        return;
    if (!wc->ra_started) {
        wc->ra_started = pthread_create(&wc->ra_thread, NULL, ra_main, wc) == 0;
        if (!wc->ra_started)
            return;
    }
    if (t != wc->ra_t || wc->ra_next < k + 1)
        wc->ra_next = k + 1;
    wc->ra_t = t;
    wc->ra_end = end;
    pthread_cond_signal(&wc->ra_cond);
}

void window_ahead(struct window_cache *wc, uint64_t t, uint64_t k, uint64_t nwin)
{
    pthread_mutex_lock(&wc->lock);
    ra_consider(wc, t, k, nwin);
    pthread_mutex_unlock(&wc->lock);
}

void window_ahead_stop(struct window_cache *wc)
{
    if (!wc->ra_started)
        return;
    pthread_mutex_lock(&wc->lock);
    wc->ra_quit = true;
    pthread_cond_signal(&wc->ra_cond);
    pthread_mutex_unlock(&wc->lock);
    pthread_join(wc->ra_thread, NULL);
}
