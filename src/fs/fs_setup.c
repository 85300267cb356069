/* fs_setup.c - building a mount's state: the tree (views_build()), the
 * control file's snapshots and the facts its text is rendered from. See
 * fs.h. */
#include "fs/fs_internal.h"

#include "common/facts.h"
#include "format/gguf.h"
#include "fs/control.h"
#include "fs/push.h"
#include "fs/snapshot.h"
#include "fs/views.h"
#include "hf/view_hf.h"
#include "read/read.h"

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

/* The model's facts (a split model's shards, one line each), the mount's,
 * the read path's (the GPU's with them), then the table: control.c writes
 * the text. */
static char *control_text(void *arg, size_t *len)
{
    struct fs *fs = arg;
    struct facts *f = facts_new();
    char *text = NULL;

    control_model_facts(fs->m, f);
    for (uint32_t i = 0; i < fs->m->n_shards; i++) {
        char key[32];
        snprintf(key, sizeof(key), "shard %" PRIu32 " of %" PRIu32, i + 1, fs->m->n_shards);
        facts_add(f, key, "%s", fs->m->shards[i].path);
    }
    facts_add(f, "output dtype", "%s", dtype_name(fs->opt.dtype));
    facts_add(f, "views", "%s", VIEWS_LIST);
    hf_describe(fs->m, fs->opt.dtype, f);
    read_describe(fs->r, f);
    push_describe(fs->push, f);
    if (!facts_failed(f))
        text = control_render(fs->m, f, read_records(fs->r), len);
    facts_free(f);
    return text;
}

static uint64_t control_stamp(void *arg)
{
    struct fs *fs = arg;
    return atomic_load_explicit(&fs->reads, memory_order_acquire);
}

/* ----------------------------------------------------------------------
 * Setup
 * ---------------------------------------------------------------------- */

struct fs *fs_new(const struct gguf_model *m, struct reader *r, const struct fs_options *opt,
                  char *err, size_t errlen)
{
    struct fs *fs = calloc(1, sizeof(*fs));
    if (fs == NULL || pthread_key_create(&fs->buf_key, fs_buf_free) != 0) {
        snprintf(err, errlen, "out of memory");
        free(fs);
        return NULL;
    }
    fs->m = m;
    fs->r = r;
    fs->opt = *opt;
    atomic_init(&fs->reads, 0);
    fs->ns = ns_new();
    fs->snaps = snapshots_new(control_text, control_stamp, fs, SNAPSHOT_CAP);
    if (fs->ns == NULL || fs->snaps == NULL) {
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
    fs_buf_free(pthread_getspecific(fs->buf_key));
    pthread_key_delete(fs->buf_key);
    free(fs);
}
