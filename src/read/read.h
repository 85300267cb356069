/* read.h - the read path's interface to the file layer: bytes of one
 * tensor's image in an output dtype.
 *
 * A tensor's image in dtype d is its n_elements values, each
 * dtype_elem_bytes(d, type) bytes, little-endian, in GGUF order (ne[0]
 * fastest). read_tensor() answers any byte range of it; the file layer
 * (fs/) calls nothing else of the read path to serve a tensor segment.
 *
 * How a range is served (read.c dispatches):
 *   passthrough  the stored bytes are the image (f32 as f32, f16 as f16,
 *                bf16 as bf16, and DTYPE_STORED of any plain type);
 *   decoded      window_cache.c: windows decoded by the GPU (gpu) for types
 *                with a GPU kernel, else by cpu_decode.c (cpu), and by the
 *                CPU for any GPU failure (cpu-fallback, with the GPU's
 *                reason); one cache behind every file a tensor shows in;
 * f16 and bf16 images of other tensors are their FP32 image converted as
 * PyTorch does (decode/convert.h). Every read is recorded per tensor (path
 * taken, reason: read/record.h) for the control file, and a tensor's first
 * failed read is logged. Thread-safe.
 */
#ifndef GGUFFS_READ_H
#define GGUFFS_READ_H

#include "format/dtype.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gguf_model;
struct gpu;
struct facts;
struct records;

struct read_options {
    size_t cache_bytes;  /* bound on decoded data held (decoded windows) */
    unsigned threads;    /* CPU decode threads; 0 = one per CPU */
    size_t window_bytes; /* window size; 0 = 8 MiB (less for small caches) */
    unsigned ahead;      /* windows decoded ahead of a sequential reader */
    bool gpu_early;      /* start the GPU runtime at read_new(), in the background */
};

/* The defaults: 256 MiB cache, one thread per CPU, 8 MiB windows, 3 ahead,
 * the GPU started early. */
void read_options_init(struct read_options *opt);

struct reader;
struct read_hold;

/* NULL when out of memory. m and g must outlive the reader; g may be NULL
 * (CPU only). */
struct reader *read_new(const struct gguf_model *m, struct gpu *g, const struct read_options *opt);
void read_free(struct reader *r);

/* Copy up to len bytes at `off` of tensor t's image in dtype dt into buf.
 * Returns the count (short only at the end of the image; 0 past it), or
 * -errno: -EIO when the tensor cannot be served so or the model changed,
 * -ENOMEM, -EINVAL for no such tensor. Where the bytes already sit whole in
 * memory the read path owns (a decoded window), *data points at them
 * and *hold keeps them valid until read_release(); otherwise they are in
 * buf, *data == buf and *hold == NULL. hold may be NULL: always copy into
 * buf. */
ssize_t read_tensor(struct reader *r, uint64_t t, enum dtype dt, void *buf, size_t len,
                    uint64_t off, const void **data, struct read_hold **hold);

void read_release(struct reader *r, struct read_hold *hold); /* NULL: no-op */

/* The per-tensor records (how each tensor's reads were served). */
struct records *read_records(struct reader *r);

/* Facts for the control file: the window cache, decode threads, SIMD
 * levels and the GPU's own facts. */
void read_describe(struct reader *r, struct facts *f);

#endif
