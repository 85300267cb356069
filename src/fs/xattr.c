/* xattr.c - see xattr.h. */
#include "fs/xattr.h"

#include "format/ggml_types.h"
#include "format/gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char xattr_names[78] = "user.gguf.name\0user.gguf.type\0user.gguf.shape\0"
                             "user.gguf.file\0user.gguf.offset";

static int value(const struct gguf_model *m, const struct gguf_tensor *t, const char *name,
                 char *buf, size_t len)
{
    char tb[16];

    if (strncmp(name, "user.gguf.", 10) != 0)
        return -1;
    name += 10;
    if (strcmp(name, "name") == 0)
        return snprintf(buf, len, "%s", t->name);
    if (strcmp(name, "type") == 0)
        return snprintf(buf, len, "%s", ggml_type_name(t->type, tb));
    if (strcmp(name, "file") == 0) /* where offset counts from */
        return snprintf(buf, len, "%s",
                        m->n_shards > 0 && t->shard < m->n_shards ? m->shards[t->shard].path
                                                                  : m->path);
    if (strcmp(name, "offset") == 0)
        return snprintf(buf, len, "%" PRIu64, t->offset);
    if (strcmp(name, "shape") != 0)
        return -1;
    int n = 0;
    for (uint32_t d = 0; d < t->n_dims && (size_t)n < len; d++)
        n += snprintf(buf + n, len - (size_t)n, d ? ",%" PRIu64 : "%" PRIu64, t->ne[d]);
    return n;
}

int xattr_value(const struct gguf_model *m, const struct gguf_tensor *t, const char *name,
                char *buf, size_t len)
{
    int n = value(m, t, name, buf, len);
    return n >= 0 && (size_t)n < len ? n : -1;
}
