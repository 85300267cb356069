/* model_file.h - reading tensor bytes from the model file, and noticing when
 * the file changes under the mount.
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
struct read_result;

struct model_file;

/* NULL when out of memory. m must outlive it. */
struct model_file *model_file_new(const struct gguf_model *m);
void model_file_free(struct model_file *mf);

/* pread exactly len bytes at file offset off. 0, or -1 with res set to
 * READ_ERROR EIO and the reason (a read error, a short file, a change). */
int model_file_read(struct model_file *mf, void *buf, size_t len, uint64_t off,
                    struct read_result *res);

/* Has the file's size or mtime changed since the mount? True with res set
 * to READ_ERROR EIO and the reason. */
bool model_file_changed(struct model_file *mf, struct read_result *res);

#endif
