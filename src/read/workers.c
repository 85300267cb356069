/* workers.c - a fixed pool of threads for data-parallel loops.
 *
 * A job is a range [0, n) cut into equal contiguous chunks, one per
 * participating thread at most (pool threads plus the caller), none smaller
 * than the caller's grain. Jobs wait in a FIFO queue under one mutex; a thread
 * takes the next unclaimed chunk of the job at the head, and the job leaves
 * the queue when its last chunk is claimed. The caller works on its own job
 * too, so a pool with no threads, or one busy with other callers' jobs, still
 * makes progress, and then waits until every chunk has finished.
 *
 * The load is a few large reads at a time (FUSE requests of 128 KiB to a few
 * MiB), so a chunk is claimed under the mutex: contention is a handful of
 * lock operations per request.
 */
#include "read/workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
    workers_fn fn;
    void *ctx;
    size_t n, chunk;     /* total items, items per chunk */
    size_t next;         /* first item of the next unclaimed chunk */
    size_t unfinished;   /* chunks claimed or not, not yet finished */
    pthread_cond_t done; /* signalled when unfinished reaches 0 */
    struct job *link;    /* queue order */
};

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop was set */
    struct job *head, *tail;
    bool stop;
    unsigned nthreads;
    pthread_t *threads;
};

/* Claims the next chunk of the head job; the caller holds mu and the queue
 * is not empty. Dequeues the job when this was its last chunk. */
static struct job *claim(struct workers *w, size_t *begin, size_t *end)
{
    struct job *j = w->head;
    *begin = j->next;
    *end = j->n - j->next > j->chunk ? j->next + j->chunk : j->n;
    j->next = *end;
    if (j->next == j->n) {
        w->head = j->link;
        if (w->head == NULL)
            w->tail = NULL;
    }
    return j;
}

/* Runs one claimed chunk with mu released, and accounts for it. */
static void run_chunk(struct workers *w, struct job *j, size_t begin, size_t end)
{
    pthread_mutex_unlock(&w->mu);
    j->fn(j->ctx, begin, end);
    pthread_mutex_lock(&w->mu);
    if (--j->unfinished == 0)
        pthread_cond_signal(&j->done);
}

static void *worker_main(void *arg)
{
    struct workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->head == NULL)
            break; /* stop, and nothing left to do */
        size_t begin, end;
        struct job *j = claim(w, &begin, &end);
        run_chunk(w, j, begin, end);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Stops and joins the first `started` threads. */
static void stop_threads(struct workers *w, unsigned started)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w->threads[i], NULL);
}

static unsigned default_count(void)
{
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 1 ? (unsigned)(cpus - 1) : 0;
}

struct workers *workers_new(unsigned n)
{
    struct workers *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->nthreads = n != 0 ? n : default_count();
    w->threads = calloc(w->nthreads ? w->nthreads : 1, sizeof(pthread_t));
    if (w->threads == NULL || pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail_alloc;
    if (pthread_cond_init(&w->work, NULL) != 0)
        goto fail_mutex;
    for (unsigned i = 0; i < w->nthreads; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
            stop_threads(w, i);
            goto fail_cond;
        }
    }
    return w;
fail_cond:
    pthread_cond_destroy(&w->work);
fail_mutex:
    pthread_mutex_destroy(&w->mu);
fail_alloc:
    free(w->threads);
    free(w);
    return NULL;
}

unsigned workers_count(const struct workers *w)
{
    return w->nthreads;
}

/* Items per chunk: an equal share for each participant, at least `grain`. */
static size_t chunk_size(const struct workers *w, size_t n, size_t grain)
{
    const size_t parts = (size_t)w->nthreads + 1;
    size_t chunk = n / parts + (n % parts != 0);
    if (grain == 0)
        grain = 1;
    return chunk < grain ? grain : chunk;
}

static void enqueue(struct workers *w, struct job *j)
{
    j->link = NULL;
    if (w->tail != NULL)
        w->tail->link = j;
    else
        w->head = j;
    w->tail = j;
}

void workers_run(struct workers *w, size_t n, size_t grain, workers_fn fn, void *ctx)
{
    if (n == 0)
        return;
    const size_t chunk = chunk_size(w, n, grain);
    if (w->nthreads == 0 || chunk >= n) {
        fn(ctx, 0, n);
        return;
    }
    struct job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk, .next = 0};
    j.unfinished = n / chunk + (n % chunk != 0);
    if (pthread_cond_init(&j.done, NULL) != 0) {
        fn(ctx, 0, n); /* no way to wait for helpers: do it all here */
        return;
    }
    pthread_mutex_lock(&w->mu);
    enqueue(w, &j);
    pthread_cond_broadcast(&w->work);
    /* Help with this job (and, if ours is not at the head yet, with the
     * jobs queued before it) until ours has no unclaimed chunk left. */
    while (j.next < j.n) {
        size_t begin, end;
        struct job *h = claim(w, &begin, &end);
        run_chunk(w, h, begin, end);
    }
    while (j.unfinished != 0)
        pthread_cond_wait(&j.done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&j.done);
}

void workers_free(struct workers *w)
{
    if (w == NULL)
        return;
    stop_threads(w, w->nthreads);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
}
