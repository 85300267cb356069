/* window_internal.h - the window cache's state, shared by window_cache.c
 * (the LRU, its budget and pools, reads) and window_ahead.c (the read-ahead
 * thread). Nothing else includes it.
 */
#ifndef GGUFFS_WINDOW_INTERNAL_H
#define GGUFFS_WINDOW_INTERNAL_H

#include "read/record.h"
#include "read/request.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf_model;
struct gpu;
struct cpu_decode;
struct model_file;
struct read_result;

#define STAGE_KEEP 4 /* buffers of each pool kept for reuse */
#define GHOSTS 64    /* windows evicted lately, remembered by name */

enum window_state { WIN_DECODING, WIN_READY };

/* One decoded window of one tensor. Lives on the LRU list (most recently
 * used at head) from the moment a thread starts decoding it. `refs` counts
 * readers using it: a window with refs is never evicted. */
struct window {
    struct window *prev, *next;
    uint64_t t, k;
    float *data; /* window_bytes of host memory */
    bool pinned;
    enum window_state state;
    unsigned refs;
    enum read_path path; /* GPU_HIP, GPU_CUDA, CPU or CPU_FALLBACK */
    char *why;           /* CPU_FALLBACK: the GPU's reason (owned) */
};

struct buffer {
    void *p;
    bool pinned;
};

struct window_cache {
    const struct gguf_model *m;
    struct model_file *mf;
    struct gpu *g;
    struct cpu_decode *cpu;
    size_t cache_bytes; /* the limit asked for */
    size_t window_bytes;
    uint64_t window_elems;
    size_t stage_bytes; /* raw bytes of one window, for the largest GPU type */
    atomic_bool probed; /* outside the lock */
    pthread_t starter;  /* window_cache_start_early()'s thread */
    bool starter_started;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* a window left DECODING */
    size_t budget;        /* window bytes allowed: cache_bytes less the runtime's */
    unsigned ra_want;     /* windows to decode ahead, as asked */
    unsigned ra_depth;    /* ... as many as the budget allows */
    struct window *head, *tail;
    size_t n_windows;
    size_t held_bytes; /* window buffers allocated, listed or spare */
    struct buffer spare[STAGE_KEEP];
    unsigned n_spare;
    struct buffer stage[STAGE_KEEP];
    unsigned n_stage;
    size_t grow_floor; /* window bytes allocated without asking for reuse */
    uint64_t hits, misses, readaheads, regrets;
    /* The last GHOSTS windows evicted: a miss on one of them (a regret) is
     * what lets the cache grow past grow_floor. */
    struct {
        uint64_t t, k;
    } ghost[GHOSTS];
    unsigned ghost_next, n_ghosts;

    /* Read-ahead: one background thread decoding windows [ra_next, ra_end)
     * of tensor ra_t, in order. */
    pthread_t ra_thread;
    bool ra_started, ra_quit;
    pthread_cond_t ra_cond;
    uint64_t ra_t, ra_next, ra_end;
};

/* Window (t, k) on the list, or NULL. Needs wc->lock. */
struct window *window_find(struct window_cache *wc, uint64_t t, uint64_t k);

/* Window (t, k), decoded and referenced, or NULL with res set. Takes the
 * lock itself. */
struct window *window_get(struct window_cache *wc, uint64_t t, uint64_t k, struct read_result *res);
void window_put(struct window_cache *wc, struct window *w);

/* A read was served from window k of tensor t (of nwin): have the windows
 * after it decoded in the background if the reads look sequential. */
void window_ahead(struct window_cache *wc, uint64_t t, uint64_t k, uint64_t nwin);

/* Stop the read-ahead thread, if it was started. */
void window_ahead_stop(struct window_cache *wc);

#endif
