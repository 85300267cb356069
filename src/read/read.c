/* read.c - read dispatch and recording. See read.h.
 *
 * read_tensor() clamps the range to the image, picks the way to serve it
 * (passthrough, or decoded windows: GPU or CPU), converts
 * to f16/bf16 where asked, checks that the model file did not change while
 * the bytes were read, and records the read. The servers fill a struct
 * read_req (read/request.h); nothing else travels between them.
 */
#include "read/read.h"

#include "common/facts.h"
#include "common/log.h"
#include "decode/convert.h"
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "gpu/gpu.h"
#include "read/cpu_decode.h"
#include "read/model_file.h"
#include "read/record.h"
#include "read/request.h"
#include "read/window_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONVERT_PASS_ELEMS (256u * 1024u) /* 1 MiB of FP32 per conversion pass */

struct reader {
    const struct gguf_model *m;
    struct gpu *g;
    struct model_file *mf;
    struct records *rec;
    struct cpu_decode *cpu;
    struct window_cache *wc;
    pthread_key_t conv_key;      /* per-thread conversion buffers */
    atomic_bool fallback_logged; /* the first GPU fallback is logged */
};

/* Per-thread buffers of one conversion pass: FP32 in, 16-bit out. */
struct conv_scratch {
    float f32[CONVERT_PASS_ELEMS];
    uint16_t u16[CONVERT_PASS_ELEMS];
};

void read_options_init(struct read_options *opt)
{
    *opt = (struct read_options){
        .cache_bytes = (size_t)256 << 20, .ahead = WINDOW_DEFAULT_AHEAD, .gpu_early = true};
}

/* ----------------------------------------------------------------------
 * The FP32 image: decoded windows, GPU or CPU
 * ---------------------------------------------------------------------- */

/* Serve rq's FP32 range from decoded windows, or, when there is no memory
 * for one, straight into rq->buf. 0 (reason holds a GPU fallback's reason,
 * or ""), or -1 with rq->res. */
static int decoded_f32(struct reader *r, struct read_req *rq, char *reason, size_t reasonlen)
{
    if (window_cache_read(r->wc, rq, reason, reasonlen) != 0) {
        if (rq->res.status == READ_ERROR)
            return -1;
        snprintf(reason, reasonlen, "%s", rq->res.why);
        rq->paths = 0;
        if (cpu_decode_read(r->cpu, rq) != 0)
            return -1;
        if (window_cache_gpu_type(r->wc, rq->ti))
            rq->paths = READ_PATH_BIT(READ_PATH_CPU_FALLBACK);
        else
            reason[0] = '\0';
    }
    if (reason[0] != '\0' && !atomic_exchange(&r->fallback_logged, true))
        log_warn("GPU fallback: %s; decoding on the CPU", reason);
    return 0;
}

/* FP32 elements [e0, e0 + n) of rq's tensor, into f32 or by reference
 * (*src, released through *hold). */
static int f32_elems(struct reader *r, const struct read_req *rq, uint64_t e0, uint64_t n,
                     float *f32, const float **src, void **hold, struct read_req *sub, char *reason,
                     size_t reasonlen)
{
    *sub = (struct read_req){.t = rq->t,
                             .ten = rq->ten,
                             .ti = rq->ti,
                             .buf = (char *)f32,
                             .len = (size_t)(n * 4),
                             .off = e0 * 4};
    const void *data = f32;
    sub->data = &data;
    sub->hold = hold;
    *hold = NULL;
    if (rq->ten->type == GT_F32) {
        reason[0] = '\0';
        if (sub->off + sub->len > rq->ten->nbytes) {
            read_result_set(&sub->res, READ_ERROR, EIO,
                            "tensor data holds %" PRIu64 " bytes, not %" PRIu64, rq->ten->nbytes,
                            rq->ten->n_elements * 4);
            return -1;
        }
        if (model_file_read(r->mf, rq->ten, f32, sub->len, rq->ten->offset + sub->off, &sub->res) !=
            0)
            return -1;
        sub->paths = READ_PATH_BIT(READ_PATH_CPU);
    } else if (decoded_f32(r, sub, reason, reasonlen) != 0) {
        return -1;
    }
    *src = data;
    return 0;
}

/* Serve rq's range of the f16 or bf16 image: FP32 in passes, converted. */
static int converted(struct reader *r, struct read_req *rq, enum dtype dt, char *reason,
                     size_t reasonlen)
{
    struct conv_scratch *sc = pthread_getspecific(r->conv_key);
    if (sc == NULL) {
        sc = malloc(sizeof(*sc));
        if (sc == NULL || pthread_setspecific(r->conv_key, sc) != 0) {
            free(sc);
            read_result_set(&rq->res, READ_ERROR, ENOMEM, "out of memory for conversion");
            return -1;
        }
    }
    uint64_t pos = rq->off, end = rq->off + rq->len;
    while (pos < end) {
        uint64_t e0 = pos / 2, e1 = (end + 1) / 2;
        uint64_t n = e1 - e0 < CONVERT_PASS_ELEMS ? e1 - e0 : CONVERT_PASS_ELEMS;
        const float *src;
        void *hold;
        struct read_req sub;
        char why[READ_WHY_MAX]; /* this pass's fallback reason, if any */
        if (f32_elems(r, rq, e0, n, sc->f32, &src, &hold, &sub, why, sizeof(why)) != 0) {
            rq->res = sub.res;
            return -1;
        }
        if (why[0] != '\0')
            snprintf(reason, reasonlen, "%s", why);
        if (dt == DTYPE_F16)
            convert_f32_to_f16(src, n, sc->u16);
        else
            convert_f32_to_bf16(src, n, sc->u16);
        window_cache_release(r->wc, hold);
        uint64_t stop = (e0 + n) * 2 < end ? (e0 + n) * 2 : end;
        memcpy(rq->buf + (pos - rq->off), (const char *)sc->u16 + (pos - e0 * 2),
               (size_t)(stop - pos));
        rq->paths |= sub.paths;
        pos = stop;
    }
    return 0;
}

/* ----------------------------------------------------------------------
 * Dispatch
 * ---------------------------------------------------------------------- */

static bool is_passthrough(enum dtype dt, uint32_t type)
{
    return dt == DTYPE_STORED || (dt == DTYPE_F32 && type == GT_F32) ||
           (dt == DTYPE_F16 && type == GT_F16) || (dt == DTYPE_BF16 && type == GT_BF16);
}

/* Serve rq in dtype dt. 0 (reason: a fallback's, or ""), or -1 with rq->res. */
static int serve(struct reader *r, struct read_req *rq, enum dtype dt, uint64_t size, char *reason,
                 size_t reasonlen)
{
    char tb[16];

    reason[0] = '\0';
    if (is_passthrough(dt, rq->ten->type)) {
        if (rq->off + rq->len > rq->ten->nbytes) {
            read_result_set(&rq->res, READ_ERROR, EIO,
                            "tensor data holds %" PRIu64 " bytes, not %" PRIu64, rq->ten->nbytes,
                            size);
            return -1;
        }
        if (model_file_read(r->mf, rq->ten, rq->buf, rq->len, rq->ten->offset + rq->off,
                            &rq->res) != 0)
            return -1;
        rq->paths = READ_PATH_BIT(READ_PATH_PASSTHROUGH);
        return 0;
    }
    if (rq->ten->type != GT_F32 && !dequant_supported(rq->ten->type)) {
        read_result_set(&rq->res, READ_ERROR, EIO, "type %s has no FP32 decoder",
                        ggml_type_name(rq->ten->type, tb));
        return -1;
    }
    if (dt == DTYPE_F32)
        return decoded_f32(r, rq, reason, reasonlen);
    return converted(r, rq, dt, reason, reasonlen);
}

/* The tensor's name for a log line: control bytes shown as '?', so a name
 * cannot break the line. */
static void log_name(const struct gguf_tensor *t, char *out, size_t outlen)
{
    size_t n = t->name_len < outlen - 1 ? t->name_len : outlen - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->name[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

/* Record a failed read, log it the first time for this tensor, and return
 * the errno for the reply. */
static ssize_t failed(struct reader *r, const struct read_req *rq)
{
    if (records_add(r->rec, rq->t, READ_PATH_BIT(READ_PATH_ERROR), 0, rq->res.why)) {
        char name[256];
        log_name(rq->ten, name, sizeof(name));
        log_warn("%s: read failed: %s", name, rq->res.why);
    }
    return rq->res.err == ENOMEM ? -ENOMEM : -EIO;
}

ssize_t read_tensor(struct reader *r, uint64_t t, enum dtype dt, void *buf, size_t len,
                    uint64_t off, const void **data, struct read_hold **hold)
{
    char reason[READ_WHY_MAX];
    void *held = NULL;

    *data = buf;
    if (hold != NULL)
        *hold = NULL;
    if (t >= r->m->n_tensors)
        return -EINVAL;
    struct read_req rq = {.t = t, .ten = &r->m->tensors[t], .buf = buf, .data = data};
    rq.ti = ggml_type_find(rq.ten->type);
    if (rq.ti == NULL) {
        read_result_set(&rq.res, READ_ERROR, EIO, "unknown type id %" PRIu32, rq.ten->type);
        return failed(r, &rq);
    }
    uint32_t eb = dtype_elem_bytes(dt, rq.ten->type);
    if (eb == 0) {
        char tb[16];
        read_result_set(&rq.res, READ_ERROR, EIO, "type %s cannot be served as %s",
                        ggml_type_name(rq.ten->type, tb), dtype_name(dt));
        return failed(r, &rq);
    }
    uint64_t size = rq.ten->n_elements * eb;
    if (off >= size || len == 0)
        return 0;
    rq.len = len > size - off ? (size_t)(size - off) : len;
    rq.off = off;
    rq.hold = hold != NULL && dt == DTYPE_F32 ? &held : NULL;
    if (serve(r, &rq, dt, size, reason, sizeof(reason)) != 0)
        return failed(r, &rq);
    /* Bytes read before the file changed under us may be a mix of old and
     * new: fail the read rather than serve them. */
    if (model_file_changed(r->mf, rq.ten, &rq.res)) {
        window_cache_release(r->wc, held);
        *data = buf;
        return failed(r, &rq);
    }
    if (hold != NULL)
        *hold = held;
    records_add(r->rec, t, rq.paths, rq.len, reason[0] ? reason : NULL);
    return (ssize_t)rq.len;
}

void read_release(struct reader *r, struct read_hold *hold)
{
    window_cache_release(r->wc, hold);
}

struct records *read_records(struct reader *r)
{
    return r->rec;
}

void read_describe(struct reader *r, struct facts *f)
{
    window_cache_describe(r->wc, f);
    cpu_decode_describe(r->cpu, f);
    if (r->g != NULL)
        gpu_describe(r->g, f);
}

/* ----------------------------------------------------------------------
 * Life
 * ---------------------------------------------------------------------- */

struct reader *read_new(const struct gguf_model *m, struct gpu *g, const struct read_options *opt)
{
    struct reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->m = m;
    r->g = g;
    atomic_init(&r->fallback_logged, false);
    struct window_options wo = {
        .cache_bytes = opt->cache_bytes, .window_bytes = opt->window_bytes, .ahead = opt->ahead};
    if (pthread_key_create(&r->conv_key, free) != 0) {
        free(r);
        return NULL;
    }
    if ((r->mf = model_file_new(m)) == NULL || (r->rec = records_new(m->n_tensors)) == NULL ||
        (r->cpu = cpu_decode_new(m, r->mf, opt->threads)) == NULL ||
        (r->wc = window_cache_new(m, r->mf, g, r->cpu, &wo)) == NULL) {
        read_free(r);
        return NULL;
    }
    if (opt->gpu_early)
        window_cache_start_early(r->wc);
    return r;
}

void read_free(struct reader *r)
{
    if (r == NULL)
        return;
    window_cache_free(r->wc);
    cpu_decode_free(r->cpu);
    records_free(r->rec);
    model_file_free(r->mf);
    free(pthread_getspecific(r->conv_key));
    pthread_key_delete(r->conv_key);
    free(r);
}
