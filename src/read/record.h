/* record.h - how each tensor's reads were served, for the control file.
 *
 * One record per tensor: the set of paths that served it, the reason of the
 * last fallback or failure, and counts of reads and bytes. Recording is
 * lock-free (atomics) except for the reason text, which takes a mutex only
 * when it changes. records_get() returns a snapshot of one record, consistent
 * per field, not across fields: good enough for a report, never torn text.
 * The text of the control file is fs/control.c's; this module only counts.
 */
#ifndef GGUFFS_RECORD_H
#define GGUFFS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The way a read was served. READ_PATH_UNREAD is no path at all (a record
 * with an empty set); a new path goes before READ_PATH_COUNT, and its name
 * into read_path_name(). */
enum read_path {
    READ_PATH_UNREAD,
    READ_PATH_PASSTHROUGH,  /* stored bytes are the image's bytes */
    READ_PATH_CPU,          /* decoded on the CPU */
    READ_PATH_CPU_FALLBACK, /* decoded on the CPU because the GPU failed */
    READ_PATH_GPU_HIP,
    READ_PATH_GPU_CUDA,
    READ_PATH_ERROR, /* a read failed (EIO); the reason says why */
    READ_PATH_COUNT,
};

/* "unread", "passthrough", "cpu", "cpu-fallback", "gpu-hip", "gpu-cuda",
 * "error". */
const char *read_path_name(enum read_path p);

/* A set of paths: bit READ_PATH_BIT(p) for each path p that served a read. */
typedef unsigned read_path_set;
#define READ_PATH_BIT(p) (1u << (p))

struct records;

/* Records for n tensors, or NULL when out of memory. */
struct records *records_new(uint64_t n);
void records_free(struct records *rs); /* NULL is a no-op */

/* Record one read of `bytes` bytes of tensor t served by `paths`;
 * `reason` (may be NULL) replaces the tensor's reason when not NULL. An
 * index past the end is ignored. Returns true when this is the tensor's
 * first read that failed (READ_PATH_ERROR), so the caller can log it once. */
bool records_add(struct records *rs, uint64_t t, read_path_set paths, uint64_t bytes,
                 const char *reason);

/* Of tensor t's bytes read so far, `bytes` were read to be stored ahead
 * into the page cache (fs/push.h) rather than to answer a request. An
 * index past the end is ignored. */
void records_pushed(struct records *rs, uint64_t t, uint64_t bytes);

/* One tensor's record, copied out. */
struct record_view {
    read_path_set paths; /* 0: unread */
    uint64_t reads, bytes;
    uint64_t pushed;  /* of bytes: read to be pushed ahead */
    char reason[256]; /* "" when none */
};

/* Fill *v for tensor t (all zero for an index past the end). */
void records_get(struct records *rs, uint64_t t, struct record_view *v);

#endif
