/* gpu.h - GPU dequantization of Q4_0, behind one interface for HIP and CUDA.
 *
 * gpu_new() touches no runtime: the runtime library is dlopen()ed, the device
 * opened and the kernel's code object loaded on the first gpu_q4_0() call,
 * once per process and under a lock, because a GPU context does not survive
 * the fork that daemonizes the mount. The loaded kernel is cached for the life
 * of the `struct gpu`.
 *
 * Every failure is returned, never fatal: the caller serves the read from the
 * CPU and records the reason. A failure that cannot heal (no runtime, no
 * device, stub driver, kernel that does not load) is remembered and returned
 * again at once, without retrying the runtime on every read.
 *
 * Thread-safe: any number of threads may call gpu_q4_0() at once.
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
};

struct gpu;

/* Parse "auto", "cpu", "hip" or "cuda". Returns 0, or -1 if unknown. */
int gpu_backend_parse(const char *s, enum gpu_backend *out);
const char *gpu_backend_name(enum gpu_backend b);

/* A handle; no runtime is touched. NULL only when out of memory. */
struct gpu *gpu_new(const struct gpu_options *opt);
void gpu_free(struct gpu *g);

/* Decode `nblocks` Q4_0 blocks (18 bytes each) from host memory `src` into
 * host memory `dst` (32 floats a block), bit-identical to ggml's CPU
 * reference. src and dst from gpu_host_alloc() move at full PCIe speed.
 * Returns 0 and sets *path to "gpu-cuda" or "gpu-hip"; or returns -1 with the
 * reason in `why` (e.g. "cuda: no device", "hip: hipErrorNoBinaryForGpu
 * loading /x.hsaco"), and the caller falls back to the CPU. With backend cpu
 * it returns -1 with why "" (no GPU wanted: not a fallback). */
int gpu_q4_0(struct gpu *g, const void *src, uint64_t nblocks, float *dst, const char **path,
             char *why, size_t whylen);

/* Page-locked host memory when a GPU runtime is up (*pinned = true), else
 * plain memory (*pinned = false). Free with gpu_host_free(), passing the same
 * `pinned`. NULL when out of memory. */
void *gpu_host_alloc(struct gpu *g, size_t bytes, bool *pinned);
void gpu_host_free(struct gpu *g, void *p, size_t bytes, bool pinned);

/* Resident memory the runtime's start added to this process (its libraries
 * and driver mappings), in bytes; 0 until it is up. The read path counts it
 * against its cache budget. */
size_t gpu_start_bytes(struct gpu *g);

/* True once a runtime is up and the kernel loaded (no later failure yet). */
bool gpu_ready(struct gpu *g);

/* Model-wide facts for the control file: lines starting with "# " (backend,
 * device, kernel source and load time, last permanent failure). Writes at
 * most len bytes including the NUL; returns the length it wanted. */
size_t gpu_describe(struct gpu *g, char *buf, size_t len);

#endif
