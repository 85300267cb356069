/* fs_setup.c - building a mount's state: the read path's reader, the
 * tree (views_build()), the control file's snapshots and the one function
 * that renders its text. See fs.h. */
#include "fs/fs_internal.h"

#include "format/gguf.h"
#include "fs/snapshot.h"
#include "fs/views.h"
#include "read/control.h"
#include "read/read.h"
#include "read/serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fs_buf_free(void *p)
{
    struct fs_buf *b = p;
    if (b != NULL)
        free(b->p);
    free(b);
}

/* ----------------------------------------------------------------------
 * The control file's text: the one place that calls its renderer.
 * ---------------------------------------------------------------------- */

static char *control_text(void *arg, size_t *len)
{
    struct fs *fs = arg;
    char *pre = fs_describe(fs);
    char *text = pre != NULL ? control_render(fs->c, pre, len) : NULL;
    free(pre);
    return text;
}

static uint64_t control_stamp(void *arg)
{
    struct fs *fs = arg;
    return atomic_load_explicit(&fs->reads, memory_order_acquire);
}

char *fs_describe(struct fs *fs)
{
    const struct gguf_model *m = fs->m;
    char head[2048];
    int n = snprintf(head, sizeof(head),
                     "# gguffs %s\n# model: %s\n# file size: %jd\n# gguf version: %" PRIu32
                     "\n# tensors: %" PRIu64 "\n# metadata keys: %" PRIu64 "\n# alignment: %" PRIu32
                     "\n# output dtype: %s\n# views: %s\n",
                     GGUFFS_VERSION, m->path, (intmax_t)m->st.st_size, m->version, m->n_tensors,
                     m->n_kv, m->alignment, dtype_name(fs->opt.dtype), VIEWS_LIST);
    if (n < 0)
        return NULL;
    char *rest = serve_describe(fs->s);
    if (rest == NULL)
        return NULL;
    size_t hl = strlen(head), rl = strlen(rest);
    char *out = malloc(hl + rl + 1);
    if (out != NULL) {
        memcpy(out, head, hl);
        memcpy(out + hl, rest, rl + 1);
    }
    free(rest);
    return out;
}

/* ----------------------------------------------------------------------
 * Setup
 * ---------------------------------------------------------------------- */

struct fs *fs_new(const struct gguf_model *m, struct serve *s, struct control *c,
                  const struct fs_options *opt, char *err, size_t errlen)
{
    struct fs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL || pthread_key_create(&fs->buf_key, fs_buf_free) != 0) {
        snprintf(err, errlen, "out of memory");
        free(fs);
        return NULL;
    }
    fs->m = m;
    fs->s = s;
    fs->c = c;
    fs->opt = *opt;
    atomic_init(&fs->reads, 0);
    fs->r = read_new(s);
    fs->ns = ns_new();
    fs->snaps = snapshots_new(control_text, control_stamp, fs, SNAPSHOT_CAP);
    if (fs->r == NULL || fs->ns == NULL || fs->snaps == NULL) {
        snprintf(err, errlen, "out of memory");
        fs_free(fs);
        return NULL;
    }
    /* Sizes near 2^63 must saturate, not wrap into a small number. */
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (__builtin_add_overflow(fs->model_bytes, view_image_bytes(&m->tensors[i], opt->dtype),
                                   &fs->model_bytes))
            fs->model_bytes = UINT64_MAX;
    struct views_options vo = {.dtype = opt->dtype, .control = snapshots_source(fs->snaps)};
    if (views_build(fs->ns, m, &vo, err, errlen) != 0) {
        fs_free(fs);
        return NULL;
    }
    return fs;
}

void fs_free(struct fs *fs)
{
    if (fs == NULL)
        return;
    ns_free(fs->ns);
    snapshots_free(fs->snaps); /* with the snapshots of files still open */
    read_free(fs->r);
    fs_buf_free(pthread_getspecific(fs->buf_key));
    pthread_key_delete(fs->buf_key);
    free(fs);
}
