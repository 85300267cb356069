/* xattr.h - the user.gguf.* extended attributes of a file that stands for
 * a tensor: its GGUF name, ggml type, shape (ne, comma-separated, ne[0]
 * first) and absolute data offset in the model file. Pure functions. */
#ifndef GGUFFS_XATTR_H
#define GGUFFS_XATTR_H

#include <stddef.h>

struct gguf_tensor;

#define XATTR_VALUE_MAX 256

/* The names, each NUL-terminated, as listxattr() returns them. */
extern const char xattr_names[63];

/* The value of attribute `name` of t in buf (no NUL counted); its length,
 * or -1 when t has no such attribute. */
int xattr_value(const struct gguf_tensor *t, const char *name, char *buf, size_t len);

#endif
