/* gpu.h - GPU dequantization, behind one interface for HIP and CUDA.
 *
 * gpu_new() touches no runtime: the runtime library is dlopen()ed, the device
 * opened and the kernels' code object loaded on the first gpu_start() or
 * gpu_decode() call, once per process and under a lock, because a GPU context
 * does not survive the fork that daemonizes the mount. The kernels are those
 * the type table names (format/ggml_types.h, gpu_kernel column), cached for
 * the life of the `struct gpu`.
 *
 * This module alone says whether the GPU is usable, and why not: a failure
 * that cannot heal (no runtime, no device, stub driver, kernel that does not
 * load, a sticky runtime error) is kept and returned again at once, without
 * retrying the runtime; gpu_unusable() asks without taking a lock. Every
 * failure is returned, never fatal: the caller serves the read from the CPU
 * and records the reason.
 *
 * Thread-safe: any number of threads may call gpu_decode() at once.
 */
#ifndef GGUFFS_GPU_H
#define GGUFFS_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gpu_backend {
    GPU_BACKEND_AUTO, /* HIP if it finds an AMD device, else CUDA, else CPU */
    GPU_BACKEND_CPU,  /* never touch a GPU */
    GPU_BACKEND_HIP,
    GPU_BACKEND_CUDA,
};

struct gpu_options {
    enum gpu_backend backend;
    int device; /* ordinal, default 0 */
    /* Code objects to load instead of the embedded ones (main.c takes them
     * from Q4_0_DEQUANT_FATBIN and Q4_0_DEQUANT_HSACO); NULL: embedded. */
    const char *fatbin, *hsaco;
    /* For benchmarks: values per pipeline chunk (32768 to 2^27, rounded
     * down to whole 256-value blocks) and CTAs per launch at most; 0: the
     * measured defaults. */
    uint64_t chunk_values;
    unsigned grid_max;
};

struct gpu;
struct facts;

/* Parse "auto", "cpu", "hip" or "cuda". Returns 0, or -1 if unknown. */
int gpu_backend_parse(const char *s, enum gpu_backend *out);
const char *gpu_backend_name(enum gpu_backend b);

/* A handle; no runtime is touched. NULL only when out of memory. */
struct gpu *gpu_new(const struct gpu_options *opt);
void gpu_free(struct gpu *g);

/* False for backend cpu (and a NULL g): no GPU is wanted, and not using
 * one is no fallback. */
bool gpu_wanted(const struct gpu *g);

/* Bring the runtime up if it is not. 0 when it is up, else -1 with why. */
int gpu_start(struct gpu *g, char *why, size_t whylen);

/* True once the GPU has failed for good (or backend cpu), with the reason
 * in why when why is not NULL. Takes no lock while the GPU is usable. */
bool gpu_unusable(struct gpu *g, char *why, size_t whylen);

/* Decode `nblocks` blocks of ggml type `type` from host memory `src` into
 * host memory `dst` (FP32), bit-identical to ggml's CPU reference, with the
 * type's kernel. src and dst from gpu_host_alloc() move at full PCIe
 * speed. Returns 0 with the backend used in *used; or -1 with the reason
 * (e.g. "cuda: no device", "hip: hipErrorNoBinaryForGpu loading /x.hsaco"),
 * and the caller falls back to the CPU. nblocks 0 only starts the runtime. */
int gpu_decode(struct gpu *g, uint32_t type, const void *src, uint64_t nblocks, float *dst,
               enum gpu_backend *used, char *why, size_t whylen);

/* Page-locked host memory when a GPU runtime is up (*pinned = true), else
 * plain memory (*pinned = false). Free with gpu_host_free(), passing the same
 * `pinned`. NULL when out of memory. */
void *gpu_host_alloc(struct gpu *g, size_t bytes, bool *pinned);
void gpu_host_free(struct gpu *g, void *p, size_t bytes, bool pinned);

/* True once a runtime is up and the kernels loaded (no later failure yet).
 * Takes no lock: the read path asks it so as not to wait for a start under
 * way on another thread. */
bool gpu_ready(struct gpu *g);

/* Resident memory the runtime's start added to this process (its libraries
 * and driver mappings), in bytes; 0 until it is up. The read path counts it
 * against its cache budget. */
size_t gpu_start_bytes(struct gpu *g);

/* Facts for the control file, each under key "gpu": backend chosen and
 * asked for, device, kernels and where they came from, start time and
 * memory, lanes, the failure that keeps the GPU unused, transient failures. */
void gpu_describe(struct gpu *g, struct facts *f);

#endif
