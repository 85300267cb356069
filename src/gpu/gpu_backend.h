/* gpu_backend.h - what gpu.c needs from a GPU runtime.
 *
 * The CUDA driver API and HIP's module API are near twins, so one table of
 * operations serves both (gpu_cuda.c, gpu_hip.c). Each backend dlopen()s its
 * runtime and resolves the symbols itself: no vendor header or library is
 * needed to build, and a machine without one still runs the CPU path.
 *
 * Operations after open() return the runtime's own status code (0 success);
 * error_name() turns it into the API's name for it, and sticky() says whether
 * the code leaves the context unusable (so the failure is permanent).
 * Every operation but open() needs bind() first on the calling thread.
 *
 * The product's operations are resolved when the runtime opens; a missing
 * one makes the backend unusable. Operations only the benchmark calls
 * (device copies, timing events) sit apart in struct gpu_bench_ops and are
 * resolved only by its resolve(), which the benchmark calls: their absence
 * can never disable a backend. gpu_runtime() hands the opened runtime to the
 * benchmark and the GPU tests, which drive the device directly; nothing else
 * outside gpu/ should use this header.
 */
#ifndef GGUFFS_GPU_BACKEND_H
#define GGUFFS_GPU_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/gpu.h"

struct gpu;
struct gpu_rt; /* one runtime, opened on one device */

typedef uint64_t gpu_dptr; /* a device address */
typedef void *gpu_stream;
typedef void *gpu_event;
typedef void *gpu_fn; /* a loaded kernel */

/* The kernels' launch shape: one thread per four output values (eight a
 * 32-value block, 64 a 256-value block). */
#define GPU_VALUES_PER_THREAD 4
#define GPU_CTA_THREADS 256

/* What only the benchmark calls; resolve() first, on an open runtime. */
struct gpu_bench_ops {
    int (*resolve)(struct gpu_rt *rt, char *why, size_t whylen); /* 0, or -1 with why */
    int (*d2d)(struct gpu_rt *rt, gpu_dptr dst, gpu_dptr src, size_t n, gpu_stream s);
    int (*event_new)(struct gpu_rt *rt, gpu_event *e);
    int (*event_free)(struct gpu_rt *rt, gpu_event e);
    int (*event_record)(struct gpu_rt *rt, gpu_event e, gpu_stream s);
    /* Waits for `stop`, then gives the milliseconds between the two. */
    int (*event_ms)(struct gpu_rt *rt, float *ms, gpu_event start, gpu_event stop);
};

struct gpu_ops {
    const char *name;    /* "cuda", "hip" */
    enum gpu_backend id; /* GPU_BACKEND_CUDA, GPU_BACKEND_HIP */
    const char *objkind; /* "fatbin", "hsaco" */
    /* The embedded code object; NULL when the build had no compiler for it. */
    const unsigned char *(*embedded)(size_t *size);

    /* Load the runtime and open device `ordinal`. Returns the runtime or NULL
     * with the reason ("cuda: no device"): such failures are permanent. */
    struct gpu_rt *(*open)(int ordinal, char *why, size_t whylen);
    void (*close)(struct gpu_rt *rt);
    /* Load the code object `image`. 0, or the status code. */
    int (*load)(struct gpu_rt *rt, const void *image);
    /* Look up kernel `name` in the loaded object. 0, or the status code. */
    int (*function)(struct gpu_rt *rt, const char *name, gpu_fn *fn);
    const char *(*device_name)(struct gpu_rt *rt);
    const char *(*error_name)(struct gpu_rt *rt, int code);
    bool (*sticky)(int code);

    int (*bind)(struct gpu_rt *rt);
    int (*host_alloc)(struct gpu_rt *rt, void **p, size_t bytes);
    int (*host_free)(struct gpu_rt *rt, void *p);
    int (*dev_alloc)(struct gpu_rt *rt, gpu_dptr *p, size_t bytes);
    int (*dev_free)(struct gpu_rt *rt, gpu_dptr p);
    int (*stream_new)(struct gpu_rt *rt, gpu_stream *s);
    int (*stream_free)(struct gpu_rt *rt, gpu_stream s);
    int (*stream_sync)(struct gpu_rt *rt, gpu_stream s);
    int (*h2d)(struct gpu_rt *rt, gpu_dptr dst, const void *src, size_t n, gpu_stream s);
    int (*d2h)(struct gpu_rt *rt, void *dst, gpu_dptr src, size_t n, gpu_stream s);
    /* Enqueue kernel fn over `nblocks` blocks of its type, src -> dst, on
     * stream s, with `grid` CTAs of GPU_CTA_THREADS (any grid is correct). */
    int (*launch)(struct gpu_rt *rt, gpu_fn fn, gpu_stream s, gpu_dptr src, gpu_dptr dst,
                  uint64_t nblocks, unsigned grid);

    const struct gpu_bench_ops *bench;
};

extern const struct gpu_ops gpu_ops_cuda;
extern const struct gpu_ops gpu_ops_hip;

/* Grid size for a launch that writes `nvalues` values: one thread per
 * GPU_VALUES_PER_THREAD, at most `max_grid` CTAs (the kernel strides past
 * the grid). */
unsigned gpu_grid_for(uint64_t nvalues, unsigned max_grid);

/* Status codes every runtime shares (CUDA's numbering, which HIP follows)
 * that leave a context unusable. */
bool gpu_code_is_sticky(int code);

/* Bring the runtime up (as the first gpu_decode would) and hand it out,
 * bound to the calling thread, with the kernel for ggml type `type` (NULL
 * kernel: the type has none). 0, or -1 with the reason. */
int gpu_runtime(struct gpu *g, uint32_t type, const struct gpu_ops **be, struct gpu_rt **rt,
                gpu_fn *kernel, char *why, size_t whylen);

#endif
