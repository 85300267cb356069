/* gpu_pipeline.c - pinned host memory, lanes, and the transfer pipeline
 * that runs a kernel over host memory.
 *
 * A read of n blocks is cut into chunks of g->chunk values. Each chunk goes
 * host->device, through the kernel and device->host on one of two streams,
 * alternately, so one chunk's copy-out overlaps the next one's copy-in and
 * kernel; the device->host copy (4 bytes out per 0.5625 in for Q4_0 and
 * Q4_K, per 1.0625 for Q8_0) is
 * what bounds the whole. Copies run at PCIe speed only from page-locked
 * memory: src and dst that came from gpu_host_alloc() are used as they are,
 * any other memory is staged through the lane's own pinned buffers.
 *
 * Concurrent callers each take a lane (at most GPU_MAX_LANES exist; beyond
 * that a caller waits for one to come back), so readers never share buffers
 * and the device memory used stays bounded.
 */
#include "gpu/gpu_internal.h"

#include "format/ggml_types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- lanes -- */

void gpu_lane_free(struct gpu *g, struct lane *l)
{
    for (int k = 0; k < GPU_NSTREAMS; k++) {
        if (l->stream[k]) {
            g->be->stream_sync(g->rt, l->stream[k]);
            g->be->stream_free(g->rt, l->stream[k]);
        }
        if (l->din[k])
            g->be->dev_free(g->rt, l->din[k]);
        if (l->dout[k])
            g->be->dev_free(g->rt, l->dout[k]);
        if (l->hin[k])
            g->be->host_free(g->rt, l->hin[k]);
        if (l->hout[k])
            g->be->host_free(g->rt, l->hout[k]);
    }
    free(l);
}

static int lane_init(struct gpu *g, struct lane *l, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    int rc = 0;
    const char *call = "";
    for (int k = 0; k < GPU_NSTREAMS && rc == 0; k++) {
        call = "stream create";
        if ((rc = be->stream_new(g->rt, &l->stream[k])) != 0)
            break;
        call = "device alloc";
        if ((rc = be->dev_alloc(g->rt, &l->din[k], g->chunk_in)) != 0)
            break;
        rc = be->dev_alloc(g->rt, &l->dout[k], g->chunk_out);
    }
    if (rc != 0)
        gpu_runtime_failed(g, call, rc, why, whylen);
    return rc ? -1 : 0;
}

/* Take a lane, making one if fewer than GPU_MAX_LANES exist, else waiting. */
static struct lane *lane_get(struct gpu *g, char *why, size_t whylen)
{
    pthread_mutex_lock(&g->lock);
    while (!g->free_lanes && g->nlanes >= GPU_MAX_LANES)
        pthread_cond_wait(&g->lane_back, &g->lock);
    struct lane *l = g->free_lanes;
    if (l) {
        g->free_lanes = l->next;
        pthread_mutex_unlock(&g->lock);
        return l;
    }
    g->nlanes++;
    pthread_mutex_unlock(&g->lock);
    l = calloc(1, sizeof *l);
    if (!l)
        snprintf(why, whylen, "%s: out of host memory", g->be->name);
    if (!l || lane_init(g, l, why, whylen) != 0) {
        if (l)
            gpu_lane_free(g, l);
        pthread_mutex_lock(&g->lock);
        g->nlanes--;
        pthread_cond_signal(&g->lane_back);
        pthread_mutex_unlock(&g->lock);
        return NULL;
    }
    return l;
}

static void lane_put(struct gpu *g, struct lane *l)
{
    pthread_mutex_lock(&g->lock);
    l->next = g->free_lanes;
    g->free_lanes = l;
    pthread_cond_signal(&g->lane_back);
    pthread_mutex_unlock(&g->lock);
}

/* The lane's pinned staging, made the first time pageable memory comes. */
static int lane_staging(struct gpu *g, struct lane *l, char *why, size_t whylen)
{
    for (int k = 0; k < GPU_NSTREAMS; k++) {
        int rc = 0;
        if (!l->hin[k])
            rc = g->be->host_alloc(g->rt, &l->hin[k], g->chunk_in);
        if (rc == 0 && !l->hout[k])
            rc = g->be->host_alloc(g->rt, &l->hout[k], g->chunk_out);
        if (rc != 0) {
            gpu_runtime_failed(g, "pinned alloc", rc, why, whylen);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------ pinned memory -- */

static bool is_pinned(struct gpu *g, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    bool found = false;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->npins && !found; i++)
        found = a >= g->pins[i].p && n <= g->pins[i].n && a - g->pins[i].p <= g->pins[i].n - n;
    pthread_mutex_unlock(&g->lock);
    return found;
}

static int pin_add(struct gpu *g, void *p, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    if (g->npins == g->cappins) {
        size_t cap = g->cappins ? 2 * g->cappins : 16;
        struct pin *np = realloc(g->pins, cap * sizeof *np);
        if (np) {
            g->pins = np;
            g->cappins = cap;
        } else {
            rc = -1;
        }
    }
    if (rc == 0)
        g->pins[g->npins++] = (struct pin){(uintptr_t)p, n};
    pthread_mutex_unlock(&g->lock);
    return rc;
}

static void pin_remove(struct gpu *g, void *p)
{
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->npins; i++) {
        if (g->pins[i].p == (uintptr_t)p) {
            g->pins[i] = g->pins[--g->npins];
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
}

void *gpu_host_alloc(struct gpu *g, size_t bytes, bool *pinned)
{
    char why[GPU_REASON_MAX];
    void *p = NULL;
    *pinned = false;
    if (gpu_wanted(g) && gpu_ensure_ready(g, why, sizeof why) == 0 && g->be->bind(g->rt) == 0 &&
        g->be->host_alloc(g->rt, &p, bytes ? bytes : 1) == 0) {
        if (pin_add(g, p, bytes) == 0) {
            *pinned = true;
            return p;
        }
        g->be->host_free(g->rt, p);
    }
    return malloc(bytes ? bytes : 1);
}

void gpu_host_free(struct gpu *g, void *p, size_t bytes, bool pinned)
{
    (void)bytes;
    if (!p)
        return;
    if (!pinned) {
        free(p);
        return;
    }
    pin_remove(g, p);
    g->be->bind(g->rt);
    g->be->host_free(g->rt, p);
}

/* ----------------------------------------------------------- pipeline -- */

/* One read's walk through the lane: which chunk each stream holds. */
struct flight {
    gpu_fn fn;
    size_t in_block, out_block;         /* bytes per block of this type */
    uint64_t block_elems, chunk_blocks; /* values per block; blocks per chunk */
    const uint8_t *src;
    uint8_t *dst;
    bool src_pinned, dst_pinned;
    uint64_t b0[GPU_NSTREAMS], n[GPU_NSTREAMS]; /* chunk on stream k; n == 0: none */
};

/* Wait for stream k's chunk and, for pageable dst, copy it out of staging. */
static int chunk_finish(struct gpu *g, struct lane *l, struct flight *f, int k, char *why,
                        size_t whylen)
{
    if (f->n[k] == 0)
        return 0;
    int rc = g->be->stream_sync(g->rt, l->stream[k]);
    if (rc != 0) {
        gpu_runtime_failed(g, "stream sync", rc, why, whylen);
        return -1;
    }
    if (!f->dst_pinned)
        memcpy(f->dst + f->b0[k] * f->out_block, l->hout[k], f->n[k] * f->out_block);
    f->n[k] = 0;
    return 0;
}

/* Enqueue copy-in, kernel, copy-out of blocks [b0, b0 + n) on stream k. */
static int chunk_start(struct gpu *g, struct lane *l, struct flight *f, int k, uint64_t b0,
                       uint64_t n, char *why, size_t whylen)
{
    const struct gpu_ops *be = g->be;
    const void *in = f->src + b0 * f->in_block;
    void *out = f->dst_pinned ? (void *)(f->dst + b0 * f->out_block) : l->hout[k];
    int rc;
    if (!f->src_pinned) {
        memcpy(l->hin[k], in, n * f->in_block);
        in = l->hin[k];
    }
    if ((rc = be->h2d(g->rt, l->din[k], in, n * f->in_block, l->stream[k])) != 0) {
        gpu_runtime_failed(g, "copy to device", rc, why, whylen);
        return -1;
    }
    if ((rc = be->launch(g->rt, f->fn, l->stream[k], l->din[k], l->dout[k], n,
                         gpu_grid_for(n * f->block_elems, g->grid_max))) != 0) {
        gpu_runtime_failed(g, "kernel launch", rc, why, whylen);
        return -1;
    }
    if ((rc = be->d2h(g->rt, out, l->dout[k], n * f->out_block, l->stream[k])) != 0) {
        gpu_runtime_failed(g, "copy from device", rc, why, whylen);
        return -1;
    }
    f->b0[k] = b0;
    f->n[k] = n;
    return 0;
}

static int run_chunks(struct gpu *g, struct lane *l, struct flight *f, uint64_t nblocks, char *why,
                      size_t whylen)
{
    uint64_t b0 = 0;
    int rc = 0;
    for (uint64_t i = 0; b0 < nblocks && rc == 0; i++) {
        int k = (int)(i % GPU_NSTREAMS);
        uint64_t n = nblocks - b0 < f->chunk_blocks ? nblocks - b0 : f->chunk_blocks;
        rc = chunk_finish(g, l, f, k, why, whylen);
        if (rc == 0)
            rc = chunk_start(g, l, f, k, b0, n, why, whylen);
        b0 += n;
    }
    for (int k = 0; k < GPU_NSTREAMS; k++) {
        if (rc != 0) /* drain without copying: the caller decodes on the CPU */
            g->be->stream_sync(g->rt, l->stream[k]);
        else
            rc = chunk_finish(g, l, f, k, why, whylen);
    }
    return rc;
}

int gpu_decode(struct gpu *g, uint32_t type, const void *src, uint64_t nblocks, float *dst,
               enum gpu_backend *used, char *why, size_t whylen)
{
    const struct ggml_type_info *ti = ggml_type_find(type);
    char tb[16];

    if (whylen)
        why[0] = '\0';
    if (gpu_ensure_ready(g, why, whylen) != 0)
        return -1;
    if (ti == NULL || type >= GPU_TYPES || g->kernel[type] == NULL) {
        snprintf(why, whylen, "%s: no kernel for type %s", g->be->name, ggml_type_name(type, tb));
        return -1;
    }
    int rc = g->be->bind(g->rt);
    if (rc != 0) {
        gpu_runtime_failed(g, "bind", rc, why, whylen);
        return -1;
    }
    *used = g->be->id;
    if (nblocks == 0)
        return 0;
    struct flight f = {
        .fn = g->kernel[type],
        .in_block = ti->block_bytes,
        .out_block = (size_t)ti->block_elems * sizeof(float),
        .block_elems = ti->block_elems,
        .chunk_blocks = g->chunk / ti->block_elems,
        .src = src,
        .dst = (uint8_t *)dst,
    };
    f.src_pinned = is_pinned(g, src, nblocks * f.in_block);
    f.dst_pinned = is_pinned(g, dst, nblocks * f.out_block);
    struct lane *l = lane_get(g, why, whylen);
    if (!l)
        return -1;
    rc = (f.src_pinned && f.dst_pinned) ? 0 : lane_staging(g, l, why, whylen);
    if (rc == 0)
        rc = run_chunks(g, l, &f, nblocks, why, whylen);
    lane_put(g, l);
    return rc != 0 ? -1 : 0;
}
