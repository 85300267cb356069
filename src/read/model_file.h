/* model_file.h - reading tensor bytes from the model file, and noticing when
 * the file changes under the mount.
 *
 * A tensor's bytes are in the model file, or for a split model in the
 * tensor's shard (gguf.h, struct gguf_tensor's shard): every call names the
 * tensor, and reads and checks that file only. Offsets are absolute in it.
 *
 * Tensor bytes are preaded from the model's fd, never mapped: a model file
 * that shrinks or changes under the mount yields EIO and a reason, never
 * SIGBUS or stale bytes. The first change seen is logged once. Thread-safe.
 */
#ifndef GGUFFS_MODEL_FILE_H
#define GGUFFS_MODEL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gguf_model;
struct gguf_tensor;
struct read_result;

struct model_file;

/* NULL when out of memory. m must outlive it. */
struct model_file *model_file_new(const struct gguf_model *m);
void model_file_free(struct model_file *mf);

/* pread exactly len bytes at offset off of t's file. 0, or -1 with res set
 * to READ_ERROR EIO and the reason (a read error, a short file, a change). */
int model_file_read(struct model_file *mf, const struct gguf_tensor *t, void *buf, size_t len,
                    uint64_t off, struct read_result *res);

/* Has the size or mtime of t's file changed since the mount? True with res
 * set to READ_ERROR EIO and the reason (naming the shard of a split model). */
bool model_file_changed(struct model_file *mf, const struct gguf_tensor *t,
                        struct read_result *res);

#endif
