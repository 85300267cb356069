/* gpu_internal.h - the state gpu.c (start, state, description) and
 * gpu_pipeline.c (pinned memory, lanes, the transfer pipeline) share.
 * Nothing outside gpu/ includes it.
 */
#ifndef GGUFFS_GPU_INTERNAL_H
#define GGUFFS_GPU_INTERNAL_H

#include "gpu/gpu.h"
#include "gpu/gpu_backend.h"

#include <pthread.h>
#include <stdatomic.h>

#define GPU_NSTREAMS 2
#define GPU_MAX_LANES 4
#define GPU_REASON_MAX 512
#define GPU_TYPES 64 /* ggml type ids below this may have a kernel */

enum gpu_state { GPU_NEW, GPU_READY, GPU_FAILED };

/* A lane: two streams with their device and staging buffers, allocated once
 * and reused by one caller at a time. */
struct lane {
    struct lane *next; /* free list */
    gpu_stream stream[GPU_NSTREAMS];
    gpu_dptr din[GPU_NSTREAMS], dout[GPU_NSTREAMS];
    void *hin[GPU_NSTREAMS], *hout[GPU_NSTREAMS]; /* pinned staging, made on first need */
};

struct pin {
    uintptr_t p;
    size_t n;
};

struct gpu {
    struct gpu_options opt;
    pthread_mutex_t lock; /* guards everything below but `state` reads */
    pthread_cond_t lane_back;
    _Atomic int state; /* enum gpu_state; written under lock, read anywhere */
    const struct gpu_ops *be;
    struct gpu_rt *rt;
    gpu_fn kernel[GPU_TYPES];    /* by ggml type id; NULL: none */
    char fail[GPU_REASON_MAX];   /* the permanent failure, once GPU_FAILED */
    char source[GPU_REASON_MAX]; /* where the code object came from */
    double load_ms;              /* runtime start + module load */
    size_t start_bytes;          /* resident memory the start added */
    uint64_t chunk;              /* values per pipeline chunk */
    unsigned grid_max;           /* CTAs per launch, at most */
    size_t chunk_in, chunk_out;  /* bytes of a chunk in (largest type) and out */
    struct lane *free_lanes;
    unsigned nlanes;
    struct pin *pins; /* gpu_host_alloc()'s live allocations */
    size_t npins, cappins;
    uint64_t transient;
    char last_transient[GPU_REASON_MAX];
};

/* Start if needed; 0 when ready, else -1 with the kept reason. */
int gpu_ensure_ready(struct gpu *g, char *why, size_t whylen);

/* Word a runtime error as "cuda: <call>: <NAME>" into why. A sticky error
 * leaves the context unusable: it becomes the permanent failure. */
void gpu_runtime_failed(struct gpu *g, const char *call, int code, char *why, size_t whylen);

/* Free a lane's streams and buffers (gpu.c frees the idle ones at the end). */
void gpu_lane_free(struct gpu *g, struct lane *l);

#endif
