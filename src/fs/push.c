/* push.c - decoding ahead into the kernel's page cache. See push.h.
 *
 * A run is one file being read sequentially: where the kernel last asked
 * (`want`), how far it has been pushed (`next`) and how far it should be
 * (`target`). A few runs are tracked at once, the least recently asked-for
 * replaced first. Threads take the next chunk of the run whose pushed
 * frontier is nearest its reader; several threads may push chunks of one
 * run at once (the page cache does not care in which order pages come).
 */
#include "fs/push.h"

#include "common/facts.h"
#include "common/log.h"

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUSH_RUNS 32
#define PUSH_MAX_THREADS 16
#define PUSH_DEFAULT_MAX 4
#define PAGE 4096u
#define MiB (1024u * 1024u)

struct run {
    uint64_t ino; /* 0: unused */
    uint64_t fsize;
    uint64_t want;   /* end of the kernel's last request */
    uint64_t next;   /* pushed, or taken by a thread, up to here */
    uint64_t target; /* push up to here */
    uint64_t ramp;   /* how far ahead the next request sends target */
    uint64_t used;   /* tick of the last request, for replacement */
    unsigned busy;   /* threads pushing a chunk of it */
};

struct push {
    struct push_options opt;
    struct fuse_session *se;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* work arrived, or quit */
    struct run runs[PUSH_RUNS];
    uint64_t tick;
    bool quit;
    pthread_t th[PUSH_MAX_THREADS];
    unsigned nth;
    uint64_t pushed, refused; /* bytes the kernel took; chunks it refused */
    int last_err;
};

/* ----------------------------------------------------------------------
 * Runs. All need p->lock.
 * ---------------------------------------------------------------------- */

static struct run *run_find(struct push *p, uint64_t ino)
{
    for (unsigned i = 0; i < PUSH_RUNS; i++)
        if (p->runs[i].ino == ino)
            return &p->runs[i];
    return NULL;
}

/* A slot for a new run: a free one, or the least recently used idle one. */
static struct run *run_slot(struct push *p)
{
    struct run *best = NULL;
    for (unsigned i = 0; i < PUSH_RUNS; i++) {
        struct run *r = &p->runs[i];
        if (r->ino == 0)
            return r;
        if (r->busy == 0 && (best == NULL || r->used < best->used))
            best = r;
    }
    return best;
}

/* The run with work whose pushed frontier is furthest behind its reader. */
static struct run *run_pick(struct push *p)
{
    struct run *best = NULL;
    for (unsigned i = 0; i < PUSH_RUNS; i++) {
        struct run *r = &p->runs[i];
        if (r->ino == 0 || r->next >= r->target)
            continue;
        if (best == NULL || r->next - r->want < best->next - best->want)
            best = r;
    }
    return best;
}

void push_note(struct push *p, uint64_t ino, uint64_t fsize, uint64_t off, size_t len)
{
    if (p == NULL || p->nth == 0)
        return;
    uint64_t end = off + len;
    pthread_mutex_lock(&p->lock);
    struct run *r = run_find(p, ino);
    /* A run goes on while the reader stays between where it last asked and
     * a chunk past what was pushed (pages may have been reclaimed, readers
     * may overlap); a jump elsewhere starts over, so a random reader makes
     * no run. */
    bool on = r != NULL && off + PUSH_CHUNK >= r->want && off <= r->next + PUSH_CHUNK;
    if (!on) {
        if (r == NULL && (r = run_slot(p)) == NULL)
            goto out;
        if (r->busy != 0) /* threads are still pushing the old run */
            goto out;
        *r = (struct run){.ino = ino, .fsize = fsize, .want = end, .next = end, .target = end};
        r->ramp = PUSH_FIRST / 2;
        if (off != 0) /* one request in the middle is no run yet */
            goto used;
    }
    r->ramp = r->ramp * 2 < p->opt.ahead ? r->ramp * 2 : p->opt.ahead;
    r->want = end > r->want ? end : r->want;
    if (r->next < end)
        r->next = end;
    uint64_t t = end + r->ramp < fsize ? end + r->ramp : fsize;
    if (t > r->target) {
        r->target = t;
        pthread_cond_signal(&p->cond);
    }
used:
    r->used = ++p->tick;
out:
    pthread_mutex_unlock(&p->lock);
}

/* ----------------------------------------------------------------------
 * The threads
 * ---------------------------------------------------------------------- */

/* Push [off, off + len) of ino: 0, or -errno (the fill's, or the kernel's:
 * ENOENT when it has forgotten the inode). */
static int push_chunk(struct push *p, char *buf, uint64_t ino, uint64_t off, size_t len)
{
    const void *data = buf;
    void *hold = NULL;
    int rc = p->opt.fill(p->opt.arg, ino, buf, len, off, &data, &hold);
    if (rc == 0) {
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
        bv.buf[0].mem = (void *)data;
        rc = fuse_lowlevel_notify_store(p->se, ino, (off_t)off, &bv, 0);
    }
    p->opt.release(p->opt.arg, hold);
    return rc;
}

static void *push_main(void *arg)
{
    struct push *p = arg;
    char *buf = malloc(PUSH_CHUNK);

    pthread_mutex_lock(&p->lock);
    while (!p->quit) {
        struct run *r = buf ? run_pick(p) : NULL;
        if (r == NULL) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        /* Whole pages, ending on a chunk boundary: the kernel marks a page
         * valid only when a store fills it from its start. */
        uint64_t from = r->next - r->next % PAGE;
        uint64_t to = (from / PUSH_CHUNK + 1) * PUSH_CHUNK;
        if (to > r->target)
            to = r->target;
        uint64_t ino = r->ino;
        r->busy++;
        r->next = to;
        pthread_mutex_unlock(&p->lock);
        int rc = push_chunk(p, buf, ino, from, (size_t)(to - from));
        pthread_mutex_lock(&p->lock);
        r->busy--;
        if (rc == 0) {
            p->pushed += to - from;
        } else {
            p->refused++;
            p->last_err = -rc;
            if (r->ino == ino)
                r->target = r->next; /* this run waits for the reader */
        }
    }
    pthread_mutex_unlock(&p->lock);
    free(buf);
    return NULL;
}

/* ----------------------------------------------------------------------
 * Life
 * ---------------------------------------------------------------------- */

struct push *push_new(const struct push_options *opt)
{
    if (opt->ahead == 0)
        return NULL;
    struct push *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->opt = *opt;
    if (p->opt.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN) / 4;
        /* At least two: one thread alone, decoding and storing in turn,
         * fell behind a reader even on 2 cores (docs/PERFORMANCE.md). */
        p->opt.threads = n < 2 ? 2 : n > PUSH_DEFAULT_MAX ? PUSH_DEFAULT_MAX : (unsigned)n;
    }
    if (p->opt.threads > PUSH_MAX_THREADS)
        p->opt.threads = PUSH_MAX_THREADS;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return p;
}

int push_start(struct push *p, struct fuse_session *se)
{
    p->se = se;
    while (p->nth < p->opt.threads && pthread_create(&p->th[p->nth], NULL, push_main, p) == 0)
        p->nth++;
    if (p->nth == 0) {
        log_warn("cannot start a thread to decode ahead: reads are answered one by one");
        return -1;
    }
    return 0;
}

void push_quit(struct push *p)
{
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

bool push_busy(struct push *p)
{
    bool busy = false;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < PUSH_RUNS && !busy; i++)
        busy = p->runs[i].busy != 0;
    pthread_mutex_unlock(&p->lock);
    return busy;
}

void push_stop(struct push *p)
{
    if (p == NULL)
        return;
    push_quit(p);
    for (unsigned i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    p->nth = 0;
}

void push_free(struct push *p)
{
    if (p == NULL)
        return;
    push_stop(p);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void push_describe(struct push *p, struct facts *f)
{
    if (p == NULL) {
        facts_add(f, "push ahead", "off (-o push_ahead=0): every read is answered on request");
        return;
    }
    pthread_mutex_lock(&p->lock);
    uint64_t pushed = p->pushed, refused = p->refused;
    int err = p->last_err;
    pthread_mutex_unlock(&p->lock);
    char last[128] = "";
    if (err != 0)
        snprintf(last, sizeof(last), " (the last: %s)", strerror(err));
    facts_add(f, "push ahead",
              "up to %zu MiB ahead of a sequential reader, %u threads, %" PRIu64
              " MiB pushed into the page cache, %" PRIu64 " chunks refused%s",
              p->opt.ahead / MiB, p->opt.threads, pushed / MiB, refused, last);
}
