/* control.h - per-tensor records of how reads were served, and the text of
 * the control file.
 *
 * One record per tensor: the set of paths that served it, the reason of the
 * last fallback or failure, and counts of reads and bytes. Recording is
 * lock-free (atomics) except for the reason text, which takes a mutex only
 * when it changes. control_render() returns a snapshot: the control file is
 * current at every open. The format is documented in docs/control-file.md.
 */
#ifndef GGUFFS_CONTROL_H
#define GGUFFS_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct gguf_model;

enum serve_path {
    PATH_PASSTHROUGH = 1u << 0,
    PATH_CPU = 1u << 1,
    PATH_CPU_FALLBACK = 1u << 2,
    PATH_GPU_HIP = 1u << 3,
    PATH_GPU_CUDA = 1u << 4,
    PATH_ERROR = 1u << 5, /* a read failed (EIO); reason says why */
};

struct control;

/* NULL when out of memory. The model must outlive the control. */
struct control *control_new(const struct gguf_model *m);
void control_free(struct control *c);

/* Record one served read of `bytes` bytes of tensor `t` by `path`. `reason`
 * (may be NULL) replaces the tensor's reason when not NULL. */
void control_record(struct control *c, uint64_t t, unsigned path, uint64_t bytes,
                    const char *reason);

/* Render the whole file: `preamble` ("# ..." lines, may be NULL or empty),
 * then the header row and one row per tensor. Returns a malloc'd buffer and
 * its length in *len, or NULL when out of memory. */
char *control_render(struct control *c, const char *preamble, size_t *len);

#endif
