/* window_cache.c - decoded windows: the LRU, its budget, the spare and staging
 * pools, and the read-ahead thread. See window_cache.h.
 *
 * A window lives on the LRU list (most recently used at head) from the
 * moment a thread starts decoding it; other readers find it there and wait
 * on `cond` until it is READY or gone, rather than decode it twice. `refs`
 * counts readers using it: a window with refs is never evicted.
 *
 * The read-ahead thread is window_ahead.c's.
 *
 * Whether the GPU is usable is the GPU layer's to say (gpu_unusable()): a
 * failure that cannot heal switches it off there for the life of the mount,
 * and every later read falls back at once with its reason.
 */
#include "read/window_cache.h"
#include "read/window_internal.h"

#include "common/facts.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "gpu/gpu.h"
#include "read/cpu_decode.h"
#include "read/model_file.h"
#include "read/request.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MiB (1024u * 1024u)
#define WINDOW_DEFAULT_BYTES (8u * MiB)
#define HUGE_PAGE_BYTES (2u * MiB)
#define WINDOW_ALIGN_ELEMS 256 /* the largest block: windows start on blocks */
/* Windows allocated before the cache asks for evidence of reuse: room for
 * the read-ahead, the windows a few readers and the pushing threads are in,
 * and the ones just left. 4, 8 and 16 were measured (docs/PERFORMANCE.md). */
#define GROW_FLOOR_WINDOWS 8

/* ----------------------------------------------------------------------
 * The LRU list and the window pools. All need wc->lock held.
 * ---------------------------------------------------------------------- */

static void lru_unlink(struct window_cache *wc, struct window *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        wc->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        wc->tail = w->prev;
    w->prev = w->next = NULL;
    wc->n_windows--;
}

static void lru_push(struct window_cache *wc, struct window *w)
{
    w->prev = NULL;
    w->next = wc->head;
    if (wc->head)
        wc->head->prev = w;
    wc->head = w;
    if (wc->tail == NULL)
        wc->tail = w;
    wc->n_windows++;
}

/* Free a window's record (not its buffer). */
static void window_drop(struct window *w)
{
    free(w->why);
    free(w);
}

struct window *window_find(struct window_cache *wc, uint64_t t, uint64_t k)
{
    for (struct window *w = wc->head; w; w = w->next)
        if (w->t == t && w->k == k)
            return w;
    return NULL;
}

/* The least recently used window nobody is using, or NULL. */
static struct window *lru_victim(struct window_cache *wc)
{
    for (struct window *w = wc->tail; w; w = w->prev)
        if (w->state == WIN_READY && w->refs == 0)
            return w;
    return NULL;
}

static void ghost_add(struct window_cache *wc, const struct window *w)
{
    wc->ghost[wc->ghost_next].t = w->t;
    wc->ghost[wc->ghost_next].k = w->k;
    wc->ghost_next = (wc->ghost_next + 1) % GHOSTS;
    if (wc->n_ghosts < GHOSTS)
        wc->n_ghosts++;
}

static bool ghost_has(const struct window_cache *wc, uint64_t t, uint64_t k)
{
    for (unsigned i = 0; i < wc->n_ghosts; i++)
        if (wc->ghost[i].t == t && wc->ghost[i].k == k)
            return true;
    return false;
}

/* Take an idle window off the list for its buffer. */
static struct buffer evict(struct window_cache *wc, struct window *v)
{
    struct buffer b = {v->data, v->pinned};
    lru_unlink(wc, v);
    ghost_add(wc, v);
    window_drop(v);
    return b;
}

/* A buffer for new window (t, k): a spare, a fresh allocation (returns p ==
 * NULL: the caller allocates outside the lock), or the buffer of the least
 * recently used idle window. Past grow_floor the cache grows only when (t,
 * k) was evicted lately: a reader came back for it. A scan that never comes
 * back then recycles a few windows instead of faulting in fresh memory for
 * the whole budget, which on a virtual machine cost more than decoding
 * (docs/PERFORMANCE.md). Over the budget with every window busy, it
 * allocates anyway; window_put() trims afterwards. */
static struct buffer buffer_take(struct window_cache *wc, uint64_t t, uint64_t k)
{
    struct buffer b = {0};
    struct window *v;

    bool regret = ghost_has(wc, t, k);
    wc->regrets += regret;
    if (wc->n_spare > 0)
        return wc->spare[--wc->n_spare];
    bool room = wc->held_bytes + wc->window_bytes <= wc->budget;
    bool grow = room && (wc->held_bytes < wc->grow_floor || regret);
    if (!grow && (v = lru_victim(wc)) != NULL)
        return evict(wc, v);
    wc->held_bytes += wc->window_bytes;
    return b;
}

/* Give a window buffer back: kept as a spare, or freed when over budget. */
static void buffer_give(struct window_cache *wc, struct buffer b)
{
    if (b.p == NULL) {
        wc->held_bytes -= wc->window_bytes;
        return;
    }
    if (wc->held_bytes <= wc->budget && wc->n_spare < STAGE_KEEP) {
        wc->spare[wc->n_spare++] = b;
        return;
    }
    gpu_host_free(wc->g, b.p, wc->window_bytes, b.pinned);
    wc->held_bytes -= wc->window_bytes;
}

/* Free idle windows until the cache is back under its budget. */
static void cache_trim(struct window_cache *wc)
{
    struct window *v;

    while (wc->held_bytes > wc->budget && wc->n_spare > 0) {
        struct buffer b = wc->spare[--wc->n_spare];
        gpu_host_free(wc->g, b.p, wc->window_bytes, b.pinned);
        wc->held_bytes -= wc->window_bytes;
    }
    while (wc->held_bytes > wc->budget && (v = lru_victim(wc)) != NULL) {
        struct buffer b = evict(wc, v);
        gpu_host_free(wc->g, b.p, wc->window_bytes, b.pinned);
        wc->held_bytes -= wc->window_bytes;
    }
}

/* Staging buffers for raw blocks; these take the lock themselves. */
static struct buffer stage_take(struct window_cache *wc)
{
    struct buffer b = {0};
    pthread_mutex_lock(&wc->lock);
    if (wc->n_stage > 0)
        b = wc->stage[--wc->n_stage];
    pthread_mutex_unlock(&wc->lock);
    if (b.p == NULL)
        b.p = gpu_host_alloc(wc->g, wc->stage_bytes, &b.pinned);
    return b;
}

static void stage_give(struct window_cache *wc, struct buffer b)
{
    pthread_mutex_lock(&wc->lock);
    if (wc->n_stage < STAGE_KEEP) {
        wc->stage[wc->n_stage++] = b;
        b.p = NULL;
    }
    pthread_mutex_unlock(&wc->lock);
    if (b.p != NULL)
        gpu_host_free(wc->g, b.p, wc->stage_bytes, b.pinned);
}

/* ----------------------------------------------------------------------
 * Decoding a window
 * ---------------------------------------------------------------------- */

/* Is a window of this type for the GPU to decode (or to fail and fall
 * back)? Not while the early start (window_cache_start_early()) is under
 * way: the CPU decodes rather than wait for it, so the first reads after a
 * mount are never slower than the CPU path. */
static bool gpu_window(struct window_cache *wc, const struct ggml_type_info *ti)
{
    return window_cache_gpu_type(wc, ti) && !(wc->starter_started && !atomic_load(&wc->probed));
}

/* Decode window k of tensor t into dst on the GPU; 0, or -1 with res
 * (READ_FALLBACK for a GPU failure or short host memory, READ_ERROR for
 * the file). */
static int window_decode_gpu(struct window_cache *wc, const struct gguf_tensor *ten,
                             const struct ggml_type_info *ti, uint64_t e0, uint64_t ne, float *dst,
                             enum read_path *path, struct read_result *res)
{
    uint64_t be = ti->block_elems, bb = ti->block_bytes;
    uint64_t nblocks = (ne + be - 1) / be;
    uint64_t raw_off = (e0 / be) * bb;
    char why[READ_WHY_MAX];
    enum gpu_backend used;

    if (gpu_unusable(wc->g, why, sizeof(why))) {
        read_result_set(res, READ_FALLBACK, 0, "%s", why);
        return -1;
    }
    if (raw_off + nblocks * bb > ten->nbytes) {
        read_result_set(res, READ_ERROR, EIO, "tensor data ends at block %" PRIu64 " of %" PRIu64,
                        ten->nbytes / bb, e0 / be + nblocks);
        return -1;
    }
    struct buffer st = stage_take(wc);
    if (st.p == NULL) {
        read_result_set(res, READ_FALLBACK, 0, "out of memory for a %zu-byte staging buffer",
                        wc->stage_bytes);
        return -1;
    }
    if (model_file_read(wc->mf, ten, st.p, (size_t)(nblocks * bb), ten->offset + raw_off, res) !=
        0) {
        stage_give(wc, st);
        return -1;
    }
    int rc = gpu_decode(wc->g, ten->type, st.p, nblocks, dst, &used, why, sizeof(why));
    stage_give(wc, st);
    if (rc != 0) {
        read_result_set(res, READ_FALLBACK, 0, "%s", why);
        return -1;
    }
    *path = used == GPU_BACKEND_HIP ? READ_PATH_GPU_HIP : READ_PATH_GPU_CUDA;
    return 0;
}

/* Decode window k of tensor t into w's buffer `dst`: on the GPU where it
 * decodes the type, else (or when it fails) on the CPU. 0 with w->path
 * (and w->why for a fallback), or -1 with res set to READ_ERROR. */
static int window_decode(struct window_cache *wc, struct window *w, float *dst,
                         struct read_result *res)
{
    const struct gguf_tensor *ten = &wc->m->tensors[w->t];
    const struct ggml_type_info *ti = ggml_type_find(ten->type);
    uint64_t e0 = w->k * wc->window_elems;
    uint64_t ne = ten->n_elements - e0 < wc->window_elems ? ten->n_elements - e0 : wc->window_elems;

    w->path = READ_PATH_CPU;
    if (gpu_window(wc, ti)) {
        if (window_decode_gpu(wc, ten, ti, e0, ne, dst, &w->path, res) == 0)
            return 0;
        if (res->status == READ_ERROR)
            return -1;
        w->path = READ_PATH_CPU_FALLBACK;
        w->why = strdup(res->why); /* NULL: the record just lacks the reason */
    }
    struct read_req sub = {.t = w->t,
                           .ten = ten,
                           .ti = ti,
                           .buf = (char *)dst,
                           .len = (size_t)(ne * 4),
                           .off = e0 * 4};
    if (cpu_decode_read(wc->cpu, &sub) != 0) {
        *res = sub.res;
        return -1;
    }
    return 0;
}

/* A buffer of window_bytes for window w: pinned for a window the GPU
 * decodes (PCIe copies run at full speed only from pinned memory), plain
 * for the CPU's (which must not start a GPU runtime). */
static void *window_alloc(struct window_cache *wc, const struct window *w, bool *pinned)
{
    const struct ggml_type_info *ti = ggml_type_find(wc->m->tensors[w->t].type);
    *pinned = false;
    if (gpu_window(wc, ti) && !gpu_unusable(wc->g, NULL, 0))
        return gpu_host_alloc(wc->g, wc->window_bytes, pinned);
    /* On 2 MiB boundaries, asking for huge pages: a fresh window is then
     * faulted in a few times instead of 2048, which on a virtual machine
     * cost more than decoding it (docs/PERFORMANCE.md). The advice is a
     * hint: where huge pages are off, small ones serve as well. */
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE_BYTES, wc->window_bytes) != 0)
        return NULL;
    (void)madvise(p, wc->window_bytes, MADV_HUGEPAGE);
    return p;
}

/* Window (t, k), decoded and referenced, or NULL with res set. */
struct window *window_get(struct window_cache *wc, uint64_t t, uint64_t k, struct read_result *res)
{
    struct window *w;

    pthread_mutex_lock(&wc->lock);
    for (;;) {
        w = window_find(wc, t, k);
        if (w == NULL)
            break;
        if (w->state == WIN_READY) {
            w->refs++;
            lru_unlink(wc, w);
            lru_push(wc, w);
            wc->hits++;
            pthread_mutex_unlock(&wc->lock);
            return w;
        }
        pthread_cond_wait(&wc->cond, &wc->lock);
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        pthread_mutex_unlock(&wc->lock);
        read_result_set(res, READ_ERROR, ENOMEM, "out of memory for a window record");
        return NULL;
    }
    w->t = t;
    w->k = k;
    w->state = WIN_DECODING;
    w->refs = 1;
    lru_push(wc, w);
    wc->misses++;
    struct buffer b = buffer_take(wc, t, k);
    pthread_mutex_unlock(&wc->lock);

    if (b.p == NULL)
        b.p = window_alloc(wc, w, &b.pinned);
    int rc = -1;
    if (b.p == NULL) /* short of memory: the caller can still decode without a window */
        read_result_set(res, READ_FALLBACK, 0, "out of memory for a %zu-byte window",
                        wc->window_bytes);
    else
        rc = window_decode(wc, w, b.p, res);

    pthread_mutex_lock(&wc->lock);
    if (rc == 0) {
        w->data = b.p;
        w->pinned = b.pinned;
        w->state = WIN_READY;
    } else {
        lru_unlink(wc, w);
        buffer_give(wc, b);
        window_drop(w);
        w = NULL;
    }
    pthread_cond_broadcast(&wc->cond);
    pthread_mutex_unlock(&wc->lock);
    return w;
}

void window_put(struct window_cache *wc, struct window *w)
{
    pthread_mutex_lock(&wc->lock);
    w->refs--;
    if (wc->held_bytes > wc->budget)
        cache_trim(wc);
    pthread_mutex_unlock(&wc->lock);
}

/* The window budget: cache_bytes less the GPU runtime's resident memory
 * (rt), at least two windows. Read-ahead may use half of it: the other
 * half holds the windows readers are in and the ones just left. Needs
 * wc->lock. */
static void budget_set(struct window_cache *wc, size_t rt)
{
    size_t floor = 2 * wc->window_bytes;
    wc->budget = wc->cache_bytes > rt + floor ? wc->cache_bytes - rt : floor;
    size_t nwin = wc->budget / wc->window_bytes;
    size_t cap = nwin >= 2 ? nwin / 2 - 1 : 0;
    wc->ra_depth = (unsigned)(wc->ra_want < cap ? wc->ra_want : cap);
    wc->grow_floor = GROW_FLOOR_WINDOWS * wc->window_bytes;
}

/* Bring the GPU runtime up (or learn it will not come) before the first
 * GPU window: buffers from gpu_host_alloc() are pinned only once it is up.
 * The runtime's own resident memory then comes out of the window budget.
 * A failure is the GPU layer's to keep: windows then decode on the CPU. */
static void gpu_probe(struct window_cache *wc)
{
    char why[READ_WHY_MAX];

    if (atomic_load(&wc->probed))
        return;
    if (gpu_start(wc->g, why, sizeof(why)) == 0) {
        size_t rt = gpu_start_bytes(wc->g);
        pthread_mutex_lock(&wc->lock);
        budget_set(wc, rt);
        pthread_mutex_unlock(&wc->lock);
    }
    atomic_store(&wc->probed, true);
}

/* ----------------------------------------------------------------------
 * Public interface
 * ---------------------------------------------------------------------- */

bool window_cache_gpu_type(const struct window_cache *wc, const struct ggml_type_info *ti)
{
    return ti->gpu_kernel != NULL && gpu_wanted(wc->g);
}

static void *starter_main(void *arg)
{
    gpu_probe(arg);
    return NULL;
}

void window_cache_start_early(struct window_cache *wc)
{
    for (uint64_t i = 0; i < wc->m->n_tensors; i++) {
        const struct ggml_type_info *ti = ggml_type_find(wc->m->tensors[i].type);
        if (ti != NULL && window_cache_gpu_type(wc, ti)) {
            wc->starter_started = pthread_create(&wc->starter, NULL, starter_main, wc) == 0;
            return;
        }
    }
}

int window_cache_read(struct window_cache *wc, struct read_req *rq, char *fallback,
                      size_t fallbacklen)
{
    uint64_t wbytes = wc->window_elems * 4;
    uint64_t size = rq->ten->n_elements * 4;
    uint64_t nwin = (size + wbytes - 1) / wbytes;
    uint64_t end = rq->off + rq->len, pos = rq->off;

    fallback[0] = '\0';
    if (window_cache_gpu_type(wc, rq->ti) && !wc->starter_started)
        gpu_probe(wc);
    while (pos < end) {
        uint64_t k = pos / wbytes;
        uint64_t wend = (k + 1) * wbytes < size ? (k + 1) * wbytes : size;
        uint64_t n = (end < wend ? end : wend) - pos;
        struct window *w = window_get(wc, rq->t, k, &rq->res);
        if (w == NULL)
            return -1;
        rq->paths |= READ_PATH_BIT(w->path);
        if (w->why != NULL)
            snprintf(fallback, fallbacklen, "%s", w->why);
        window_ahead(wc, rq->t, k, nwin);
        const char *src = (const char *)w->data + (pos - k * wbytes);
        if (rq->hold != NULL && pos == rq->off && n == rq->len) {
            *rq->data = src;
            *rq->hold = w;
            return 0;
        }
        memcpy(rq->buf + (pos - rq->off), src, (size_t)n);
        window_put(wc, w);
        pos += n;
    }
    return 0;
}

void window_cache_release(struct window_cache *wc, void *hold)
{
    if (hold != NULL)
        window_put(wc, hold);
}

/* Window size: opt->window_bytes, or 8 MiB, at most a quarter of the cache,
 * at least WINDOW_MIN_BYTES; whole blocks of any type. */
static size_t window_size(const struct window_options *opt)
{
    size_t w = opt->cache_bytes / 4;
    size_t max = opt->window_bytes ? opt->window_bytes : WINDOW_DEFAULT_BYTES;
    if (w > max)
        w = max;
    if (w < WINDOW_MIN_BYTES)
        w = WINDOW_MIN_BYTES;
    return w - w % (WINDOW_ALIGN_ELEMS * sizeof(float));
}

/* Raw bytes of one window for the GPU type with the most bytes per element. */
static size_t stage_size(uint64_t window_elems)
{
    size_t most = 0;
    for (uint32_t id = 0; id < 64; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti == NULL || ti->gpu_kernel == NULL)
            continue;
        size_t n =
            (size_t)((window_elems + ti->block_elems - 1) / ti->block_elems) * ti->block_bytes;
        if (n > most)
            most = n;
    }
    return most;
}

struct window_cache *window_cache_new(const struct gguf_model *m, struct model_file *mf,
                                      struct gpu *g, struct cpu_decode *cpu,
                                      const struct window_options *opt)
{
    struct window_cache *wc = calloc(1, sizeof(*wc));
    if (wc == NULL)
        return NULL;
    wc->m = m;
    wc->mf = mf;
    wc->g = g;
    wc->cpu = cpu;
    wc->cache_bytes = opt->cache_bytes;
    wc->window_bytes = window_size(opt);
    wc->window_elems = wc->window_bytes / sizeof(float);
    wc->stage_bytes = stage_size(wc->window_elems);
    atomic_init(&wc->probed, false);
    pthread_mutex_init(&wc->lock, NULL);
    pthread_cond_init(&wc->cond, NULL);
    pthread_cond_init(&wc->ra_cond, NULL);
    wc->ra_want = opt->ahead;
    budget_set(wc, 0);
    wc->ra_t = UINT64_MAX;
    return wc;
}

void window_cache_free(struct window_cache *wc)
{
    if (wc == NULL)
        return;
    if (wc->starter_started)
        pthread_join(wc->starter, NULL);
    window_ahead_stop(wc);
    while (wc->head != NULL) {
        struct window *w = wc->head;
        lru_unlink(wc, w);
        gpu_host_free(wc->g, w->data, wc->window_bytes, w->pinned);
        window_drop(w);
    }
    for (unsigned i = 0; i < wc->n_spare; i++)
        gpu_host_free(wc->g, wc->spare[i].p, wc->window_bytes, wc->spare[i].pinned);
    for (unsigned i = 0; i < wc->n_stage; i++)
        gpu_host_free(wc->g, wc->stage[i].p, wc->stage_bytes, wc->stage[i].pinned);
    pthread_cond_destroy(&wc->ra_cond);
    pthread_cond_destroy(&wc->cond);
    pthread_mutex_destroy(&wc->lock);
    free(wc);
}

void window_cache_describe(struct window_cache *wc, struct facts *f)
{
    pthread_mutex_lock(&wc->lock);
    size_t held = wc->held_bytes, nwin = wc->n_windows, budget = wc->budget;
    uint64_t hits = wc->hits, misses = wc->misses, ra = wc->readaheads, regrets = wc->regrets;
    unsigned depth = wc->ra_depth;
    pthread_mutex_unlock(&wc->lock);

    facts_add(f, "cache",
              "%zu MiB limit, %zu MiB of it for windows, %zu KiB windows, %u decoded ahead, %zu "
              "windows held, %zu MiB allocated, %" PRIu64 " hits, %" PRIu64 " misses (%" PRIu64
              " of windows evicted lately), %" PRIu64 " read-aheads",
              wc->cache_bytes / MiB, budget / MiB, wc->window_bytes / 1024, depth, nwin, held / MiB,
              hits, misses, regrets, ra);
    if (gpu_wanted(wc->g))
        facts_add(f, "gpu start", "%s",
                  wc->starter_started ? "early: at mount, on a thread of its own"
                                      : "at the first read of a tensor it decodes");
}
