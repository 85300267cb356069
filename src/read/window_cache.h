/* window_cache.h - decoded windows: a tensor's FP32 image decoded in
 * windows of several MiB, kept in a bounded cache of host memory, whoever
 * decodes them.
 *
 * Every decoded read (any type but f32 and passthrough) lands here. A
 * tensor is cut into windows of window_bytes of FP32; a window is decoded
 * whole, by the GPU (gpu_decode() into memory from gpu_host_alloc()) for a
 * type the type table gives a kernel when a GPU is wanted and usable, else
 * by the CPU on all decode threads (cpu_decode.h), and when the GPU fails by
 * the CPU with the GPU's reason kept in the window. Windows live in one LRU
 * cache, so a tensor's bytes are decoded once whichever file they are read
 * through (the raw file, its .npy, the safetensors file, .hf/) while they
 * stay cached. Kernel page-cache reads arrive as 128 KiB requests, so one
 * window serves dozens of reads, and a read inside one window is answered
 * by reference: the reply is then the only copy. A sequential reader has
 * the next windows decoded in the background.
 *
 * The cache is bounded by cache_bytes less the resident memory the GPU
 * runtime added when it started, so the daemon's footprint stays near
 * cache_bytes. It fills that bound only as far as reuse asks: past a few
 * windows, a new window recycles the least recently used one unless it was
 * itself evicted lately, so one pass over a large tensor holds a few
 * windows, not the whole budget. Thread-safe.
 */
#ifndef GGUFFS_WINDOW_CACHE_H
#define GGUFFS_WINDOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf_model;
struct ggml_type_info;
struct gpu;
struct cpu_decode;
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

/* NULL when out of memory. m, mf, g and cpu must outlive it; g may be NULL
 * (CPU only). */
struct window_cache *window_cache_new(const struct gguf_model *m, struct model_file *mf,
                                      struct gpu *g, struct cpu_decode *cpu,
                                      const struct window_options *opt);
void window_cache_free(struct window_cache *wc);

/* Would the GPU decode windows of a type with this table entry (it has a
 * kernel, and a GPU is wanted)? */
bool window_cache_gpu_type(const struct window_cache *wc, const struct ggml_type_info *ti);

/* Start the GPU runtime now, on a thread of its own, if the model has a
 * tensor the GPU would decode: the first read then finds it up. Never
 * delays the caller; a failure is the GPU layer's to keep and report. */
void window_cache_start_early(struct window_cache *wc);

/* Serve rq from windows. Returns 0 with rq->paths set, `fallback` holding
 * the GPU's reason where a window was decoded on the CPU because the GPU
 * failed ("" otherwise), and, when rq->hold is not NULL and the range lies
 * in one window, *rq->data pointing into it and *rq->hold keeping it until
 * window_cache_release(). Or -1 with rq->res: READ_FALLBACK (no memory for
 * a window: the caller may decode without one) or READ_ERROR. */
int window_cache_read(struct window_cache *wc, struct read_req *rq, char *fallback,
                      size_t fallbacklen);
void window_cache_release(struct window_cache *wc, void *hold); /* NULL: no-op */

/* "cache": limit, budget, window size, read-ahead, use and hit counts;
 * "gpu start": early or at the first read. */
void window_cache_describe(struct window_cache *wc, struct facts *f);

#endif
