/* cpu_decode.c - the CPU path. See cpu_decode.h.
 *
 * Output is produced in passes of CPU_PASS_BYTES, which bounds the
 * per-thread scratch whatever the request size.
 */
#include "read/cpu_decode.h"

#include "common/facts.h"
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "read/model_file.h"
#include "read/request.h"
#include "read/workers.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define CPU_PASS_BYTES (4u * MiB)         /* bounds the per-thread scratch */
#define PARALLEL_MIN_ELEMS (256u * 1024u) /* 1 MiB of FP32: below, one thread */
#define PARALLEL_GRAIN_ELEMS (64u * 1024u)

struct cpu_decode {
    const struct gguf_model *m;
    struct model_file *mf;
    struct workers *w; /* NULL: decode on the calling thread only */
    unsigned threads;
    pthread_key_t scratch_key;
};

/* ----------------------------------------------------------------------
 * Thread-local scratch: raw blocks and unaligned output
 * ---------------------------------------------------------------------- */

struct scratch {
    void *raw, *out;
    size_t raw_cap, out_cap;
};

static void scratch_free(void *p)
{
    struct scratch *sc = p;
    if (sc == NULL)
        return;
    free(sc->raw);
    free(sc->out);
    free(sc);
}

/* Grow *buf to at least `len` bytes; NULL when out of memory. */
static void *scratch_grow(void **buf, size_t *cap, size_t len)
{
    if (*cap >= len)
        return *buf;
    void *nb = malloc(len);
    if (nb == NULL)
        return NULL;
    free(*buf);
    *buf = nb;
    *cap = len;
    return nb;
}

static struct scratch *scratch_get(struct cpu_decode *cd)
{
    struct scratch *sc = pthread_getspecific(cd->scratch_key);
    if (sc != NULL)
        return sc;
    sc = calloc(1, sizeof(*sc));
    if (sc != NULL && pthread_setspecific(cd->scratch_key, sc) != 0) {
        free(sc);
        sc = NULL;
    }
    return sc;
}

/* ----------------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------------- */

struct cpu_job {
    uint32_t type;
    const void *raw; /* first block */
    uint64_t first;  /* element of raw's first block where output starts */
    float *dst;
    atomic_int failed;
};

static void cpu_job_run(void *ctx, size_t begin, size_t end)
{
    struct cpu_job *j = ctx;
    if (dequant_range(j->type, j->raw, j->first + begin, end - begin, j->dst + begin) != 0)
        atomic_store(&j->failed, 1);
}

/* FP32 elements [e0, e0 + ne) of rq's tensor into dst (aligned floats).
 * 0, or -1 with rq->res. */
static int cpu_decode_elems(struct cpu_decode *cd, struct read_req *rq, uint64_t e0, uint64_t ne,
                            float *dst)
{
    const struct gguf_tensor *t = rq->ten;
    uint64_t be = rq->ti->block_elems, bb = rq->ti->block_bytes;
    uint64_t b0 = e0 / be, b1 = (e0 + ne + be - 1) / be;
    size_t raw_len = (size_t)((b1 - b0) * bb);
    struct scratch *sc = scratch_get(cd);

    if (b1 * bb > t->nbytes) {
        read_result_set(&rq->res, READ_ERROR, EIO,
                        "tensor data ends at block %" PRIu64 " of %" PRIu64, t->nbytes / bb, b1);
        return -1;
    }
    void *raw = sc ? scratch_grow(&sc->raw, &sc->raw_cap, raw_len) : NULL;
    if (raw == NULL) {
        read_result_set(&rq->res, READ_ERROR, ENOMEM, "out of memory for %zu bytes of raw blocks",
                        raw_len);
        return -1;
    }
    if (model_file_read(cd->mf, t, raw, raw_len, t->offset + b0 * bb, &rq->res) != 0)
        return -1;

    struct cpu_job job = {.type = t->type, .raw = raw, .first = e0 - b0 * be, .dst = dst};
    atomic_init(&job.failed, 0);
    if (cd->w != NULL && ne >= PARALLEL_MIN_ELEMS)
        workers_run(cd->w, (size_t)ne, PARALLEL_GRAIN_ELEMS, cpu_job_run, &job);
    else
        cpu_job_run(&job, 0, (size_t)ne);
    if (atomic_load(&job.failed)) {
        char tb[16];
        read_result_set(&rq->res, READ_ERROR, EIO, "type %s has no FP32 decoder",
                        ggml_type_name(t->type, tb));
        return -1;
    }
    return 0;
}

int cpu_decode_read(struct cpu_decode *cd, struct read_req *rq)
{
    char *buf = rq->buf;
    size_t len = rq->len;
    uint64_t off = rq->off;

    while (len > 0) {
        size_t n = len < CPU_PASS_BYTES ? len : CPU_PASS_BYTES;
        uint64_t e0 = off / 4, e1 = (off + n + 3) / 4;
        int rc;

        if (off % 4 == 0 && n % 4 == 0 && (uintptr_t)buf % sizeof(float) == 0) {
            rc = cpu_decode_elems(cd, rq, e0, e1 - e0, (float *)buf);
        } else {
            struct scratch *sc = scratch_get(cd);
            float *tmp = sc ? scratch_grow(&sc->out, &sc->out_cap, (e1 - e0) * 4) : NULL;
            if (tmp == NULL) {
                read_result_set(&rq->res, READ_ERROR, ENOMEM,
                                "out of memory for %zu bytes of output", (size_t)(e1 - e0) * 4);
                return -1;
            }
            rc = cpu_decode_elems(cd, rq, e0, e1 - e0, tmp);
            if (rc == 0)
                memcpy(buf, (char *)tmp + off % 4, n);
        }
        if (rc != 0)
            return rc;
        buf += n;
        off += n;
        len -= n;
    }
    rq->paths |= READ_PATH_BIT(READ_PATH_CPU);
    return 0;
}

/* ----------------------------------------------------------------------
 * Life and description
 * ---------------------------------------------------------------------- */

struct cpu_decode *cpu_decode_new(const struct gguf_model *m, struct model_file *mf,
                                  unsigned threads)
{
    struct cpu_decode *cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return NULL;
    cd->m = m;
    cd->mf = mf;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cd->threads = threads ? threads : (ncpu > 0 ? (unsigned)ncpu : 1);
    if (cd->threads > 1 && (cd->w = workers_new(cd->threads - 1)) == NULL)
        goto fail;
    if (pthread_key_create(&cd->scratch_key, scratch_free) != 0)
        goto fail_workers;
    return cd;

fail_workers:
    workers_free(cd->w);
fail:
    free(cd);
    return NULL;
}

void cpu_decode_free(struct cpu_decode *cd)
{
    if (cd == NULL)
        return;
    scratch_free(pthread_getspecific(cd->scratch_key));
    pthread_key_delete(cd->scratch_key);
    workers_free(cd->w);
    free(cd);
}

void cpu_decode_describe(struct cpu_decode *cd, struct facts *f)
{
    uint8_t seen[64] = {0};
    char simd[512] = "";
    size_t n = 0;

    facts_add(f, "decode threads", "%u", cd->threads);
    for (uint64_t i = 0; i < cd->m->n_tensors; i++) {
        uint32_t type = cd->m->tensors[i].type;
        char tb[16];
        if (type >= sizeof(seen) || seen[type] || type == GT_F32 || !dequant_supported(type))
            continue;
        seen[type] = 1;
        int k = snprintf(simd + n, sizeof(simd) - n, "%s%s %s", n ? ", " : "",
                         ggml_type_name(type, tb), dequant_isa(type));
        if (k > 0 && (size_t)k < sizeof(simd) - n)
            n += (size_t)k;
    }
    facts_add(f, "simd", "%s", n ? simd : "(no quantized tensors)");
}
