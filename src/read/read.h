/* read.h - the read path's interface to the file layer: bytes of one
 * tensor's image in an output dtype.
 *
 * A tensor's image in dtype d is its n_elements values, each
 * dtype_elem_bytes(d, type) bytes, little-endian, in GGUF order (ne[0]
 * fastest). read_tensor() answers any byte range of it; the file layer
 * (fs/) calls nothing else of the read path to serve a tensor segment.
 * Every read is recorded per tensor (path taken, reason) for .control.
 * Thread-safe.
 */
#ifndef GGUFFS_READ_H
#define GGUFFS_READ_H

#include "format/dtype.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct reader;
struct read_hold;
struct serve;

/* The reader over a serve (interim: the architecture work folds serve.c
 * into the read path behind this header). NULL when out of memory. */
struct reader *read_new(struct serve *s);
void read_free(struct reader *r);

/* Copy up to len bytes at `off` of tensor t's image in dtype dt into buf.
 * Returns the count (short only at the end of the image; 0 past it), or
 * -errno: -EIO when the tensor cannot be served so or the model changed,
 * -ENOMEM. Where the bytes already sit whole in memory the read path owns
 * (a decoded GPU window), *data points at them and *hold keeps them valid
 * until read_release(); otherwise they are in buf, *data == buf and
 * *hold == NULL. hold may be NULL: always copy into buf. */
ssize_t read_tensor(struct reader *r, uint64_t t, enum dtype dt, void *buf, size_t len,
                    uint64_t off, const void **data, struct read_hold **hold);

void read_release(struct reader *r, struct read_hold *hold); /* NULL: no-op */

#endif
