/* window_cache.h - the GPU path: a tensor's FP32 image decoded on the GPU in
 * windows of several MiB, kept in a bounded cache of host memory.
 *
 * A tensor of a type the GPU decodes (the type table's gpu_kernel column)
 * is cut into windows of window_bytes of FP32. A window is decoded whole by
 * gpu_decode() into host memory from gpu_host_alloc() and kept in an LRU
 * cache. Kernel page-cache reads arrive as 128 KiB requests, so one window
 * serves dozens of reads for one PCIe round trip, and a read inside one
 * window is answered by reference: the reply is then the only copy. A
 * sequential reader has the next windows decoded in the background.
 *
 * The cache is bounded by cache_bytes less the resident memory the GPU
 * runtime added when it started, so the daemon's footprint stays near
 * cache_bytes. Thread-safe.
 */
#ifndef GGUFFS_WINDOW_CACHE_H
#define GGUFFS_WINDOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf_model;
struct ggml_type_info;
struct gpu;
struct model_file;
struct read_req;
struct facts;

struct window_options {
    size_t cache_bytes;  /* bound on decoded data held */
    size_t window_bytes; /* 0: 8 MiB, or a quarter of a smaller cache */
    unsigned ahead;      /* windows decoded ahead of a sequential reader */
};

#define WINDOW_DEFAULT_AHEAD 3
#define WINDOW_MIN_BYTES (128u * 1024u)
#define WINDOW_MAX_BYTES (1024u * 1024u * 1024u)

struct window_cache;

/* NULL when out of memory. m, mf and g must outlive it. */
struct window_cache *window_cache_new(const struct gguf_model *m, struct model_file *mf,
                                      struct gpu *g, const struct window_options *opt);
void window_cache_free(struct window_cache *wc);

/* Does the GPU path take reads of a type with this table entry (it has a
 * kernel, and a GPU is wanted)? */
bool window_cache_serves(const struct window_cache *wc, const struct ggml_type_info *ti);

/* Serve rq from windows. Returns 0 with rq->paths set (and, when rq->hold
 * is not NULL and the range lies in one window, *rq->data pointing into it
 * and *rq->hold keeping it until window_cache_release()), or -1 with
 * rq->res: READ_FALLBACK (the CPU may serve it) or READ_ERROR. */
int window_cache_read(struct window_cache *wc, struct read_req *rq);
void window_cache_release(struct window_cache *wc, void *hold); /* NULL: no-op */

/* "cache": limit, budget, window size, read-ahead, use and hit counts. */
void window_cache_describe(struct window_cache *wc, struct facts *f);

#endif
