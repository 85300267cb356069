/* gguf.h - parse and validate a GGUF file (versions 2 and 3).
 *
 * The parser reads the whole header (metadata and tensor infos) and checks
 * every count, length, offset and size against the real size of the file with
 * overflow-safe arithmetic before it trusts it. What survives is copied into a
 * `struct gguf_model` that owns its memory; no pointer into the input is kept,
 * so the mapping can go away after gguf_open() returns.
 *
 * Tensor data is never read through a mapping: the serving code preads it
 * from `fd`, so a model file truncated under the mount yields a short read
 * (EIO) instead of SIGBUS. See docs/design.md.
 *
 * Errors: functions return 0 on success and -1 on failure, with a message in
 * the caller's buffer that names the rule broken and where, e.g.
 *   "tensor 3 'blk.0.attn_q.weight': offset 100 is not a multiple of the
 *    alignment 32 (tensor info at byte 1234)".
 * The caller prefixes "gguffs: MODEL: ".
 */
#ifndef GGUFFS_GGUF_H
#define GGUFFS_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 64 /* ggml's GGML_MAX_NAME: a name must be shorter */
#define GGUF_DEFAULT_ALIGNMENT 32

/* GGUF metadata value types, numbered as in the file format. */
enum gguf_value_type {
    GGUF_VALUE_UINT8 = 0,
    GGUF_VALUE_INT8 = 1,
    GGUF_VALUE_UINT16 = 2,
    GGUF_VALUE_INT16 = 3,
    GGUF_VALUE_UINT32 = 4,
    GGUF_VALUE_INT32 = 5,
    GGUF_VALUE_FLOAT32 = 6,
    GGUF_VALUE_BOOL = 7,
    GGUF_VALUE_STRING = 8,
    GGUF_VALUE_ARRAY = 9,
    GGUF_VALUE_UINT64 = 10,
    GGUF_VALUE_INT64 = 11,
    GGUF_VALUE_FLOAT64 = 12,
};

/* One metadata key/value, as stored. The value's bytes are a copy of its
 * encoding in the file (little-endian scalars; u64 length + bytes for a
 * string; element type, u64 count and elements for an array), already
 * validated by the parser: a reader that follows the encoding stays inside
 * value_len bytes. */
struct gguf_kv {
    char *key;      /* NUL-terminated copy */
    size_t key_len; /* bytes of the key (a NUL inside is possible) */
    uint32_t type;  /* enum gguf_value_type */
    uint8_t *value;
    uint64_t value_len;
};

struct gguf_tensor {
    char *name;                 /* the name as stored; NUL-terminated, no NUL inside */
    size_t name_len;            /* strlen(name), < GGUF_MAX_NAME */
    uint32_t type;              /* ggml type id; may be unknown to ggml_type_find() */
    uint32_t n_dims;            /* 1..4 */
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] contiguous; dims past n_dims are 1 */
    uint64_t n_elements;
    uint64_t offset; /* absolute offset of the first data byte in the file */
    uint64_t nbytes; /* bytes of data; 0 when the type is unknown */
    uint32_t shard;  /* the file holding the data: an index into the model's
                        shards, 0 for a model of one file */
};

/* One file of a split model (gguf-split): its own GGUF, with tensor
 * offsets relative to its own data section. */
struct gguf_shard {
    char *path;
    int fd; /* open read-only for the life of the model */
    struct stat st;
};

struct gguf_model {
    char *path;       /* as given to gguf_open() */
    int fd;           /* open read-only for the life of the model; -1 after parse */
    struct stat st;   /* fstat at open: size and times served by the mount */
    uint32_t version; /* 2 or 3 */
    uint64_t n_kv;
    struct gguf_kv *kv;   /* n_kv entries, in file order */
    uint32_t alignment;   /* general.alignment or 32 */
    uint64_t data_offset; /* absolute start of the data section */
    uint64_t n_tensors;
    struct gguf_tensor *tensors;
    char *architecture; /* general.architecture, or NULL */
    char *model_name;   /* general.name, or NULL */
    /* A split model (format/model_split.h): every shard in order, shard 0
     * first; path and st above are shard 0's and fd is -1. A model of one
     * file has none: its data is read from fd. */
    uint32_t n_shards;
    struct gguf_shard *shards;
};

/* Open `path` (refusing anything but a regular file, without blocking on a
 * FIFO), map the whole file read-only and parse it; the parser touches only
 * the header's pages, and the mapping is gone when this returns. On success
 * *out owns the fd and all memory. On failure nothing is left open. */
int gguf_open(const char *path, struct gguf_model **out, char *err, size_t errlen);

/* Parse a GGUF image held in memory (`size` bytes). Used by gguf_open(), the
 * unit tests and the fuzzer. The result has fd == -1 and a zeroed st except
 * st_size == size. */
int gguf_parse(const void *buf, size_t size, struct gguf_model **out, char *err, size_t errlen);

/* Free everything, closing the fds if open. NULL is a no-op. */
void gguf_close(struct gguf_model *m);

#endif
