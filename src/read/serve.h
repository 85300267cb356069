/* serve.h - the read path: bytes of a tensor file, as FP32.
 *
 * serve_read() answers "len bytes at byte offset off of tensor t's FP32
 * image" for any offset and length. F32 tensors are passed through from the
 * model file; Q4_0 goes to the GPU in windows of several MiB that are kept in
 * a bounded cache of decoded data (pinned host memory); everything else, and
 * every GPU failure, is decoded on the CPU, directly into the caller's buffer
 * (large reads on several cores). Each read is recorded in the control.
 *
 * Tensor bytes are preaded from the model's fd, never mapped: a model file
 * that shrinks or changes under the mount yields -EIO and a reason, never
 * SIGBUS or stale bytes. Thread-safe.
 */
#ifndef GGUFFS_SERVE_H
#define GGUFFS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gguf_model;
struct gpu;
struct control;

struct serve_options {
    size_t cache_bytes; /* bound on decoded data held (GPU windows) */
    unsigned threads;   /* CPU decode threads; 0 = one per CPU */
};

struct serve;

/* NULL when out of memory. m, g and c must outlive the serve. g may be NULL
 * (CPU only). */
struct serve *serve_new(const struct gguf_model *m, struct gpu *g, struct control *c,
                        const struct serve_options *opt);
void serve_free(struct serve *s);

/* Copy up to len bytes at `off` of tensor t's FP32 image into buf. Returns
 * the count (short only at end of file; 0 past it), or -errno: -EIO when the
 * type cannot be decoded or the model file changed, -ENOMEM. */
ssize_t serve_read(struct serve *s, uint64_t t, void *buf, size_t len, uint64_t off);

/* serve_read(), without the copy where the bytes already sit whole in
 * memory the serve owns (a decoded GPU window): then *data points at them
 * and *hold keeps them valid until serve_release(). Otherwise the bytes are
 * in buf, *data = buf and *hold = NULL. hold may be NULL: always copy. */
struct serve_hold;
ssize_t serve_read_ref(struct serve *s, uint64_t t, void *buf, size_t len, uint64_t off,
                       const void **data, struct serve_hold **hold);
void serve_release(struct serve *s, struct serve_hold *hold); /* NULL: no-op */

/* Lines "# ..." describing the read path (cache size and use, threads,
 * SIMD level, the GPU's description), for the control file. Returns a
 * malloc'd string or NULL. */
char *serve_describe(struct serve *s);

#endif
