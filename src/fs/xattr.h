/* xattr.h - the user.gguf.* extended attributes of a file that stands for
 * a tensor: its GGUF name, ggml type, shape (ne, comma-separated, ne[0]
 * first), the file holding its data (the model, or for a split model the
 * shard) and its absolute data offset in that file. Pure functions. */
#ifndef GGUFFS_XATTR_H
#define GGUFFS_XATTR_H

#include <stddef.h>

struct gguf_model;
struct gguf_tensor;

#define XATTR_VALUE_MAX 4352 /* a path (PATH_MAX) and then some */

/* The names, each NUL-terminated, as listxattr() returns them. */
extern const char xattr_names[78];

/* The value of attribute `name` of t (of model m) in buf (no NUL counted);
 * its length, or -1 when t has no such attribute or it does not fit. */
int xattr_value(const struct gguf_model *m, const struct gguf_tensor *t, const char *name,
                char *buf, size_t len);

#endif
