/* model_file.c - see model_file.h.
 *
 * After each read the read path asks model_file_changed(): an fstat of the
 * tensor's file compared with the one taken at mount time. Bytes read while
 * the file changed may be a mix of old and new, so such a read fails rather
 * than serve them.
 */
#include "read/model_file.h"

#include "common/log.h"
#include "format/gguf.h"
#include "read/request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct model_file {
    const struct gguf_model *m;
    struct gguf_shard one; /* a model of one file: its path, fd and stat */
    const struct gguf_shard *files;
    uint32_t n_files;
    atomic_bool change_logged;
};

struct model_file *model_file_new(const struct gguf_model *m)
{
    struct model_file *mf = calloc(1, sizeof(*mf));
    if (mf == NULL)
        return NULL;
    mf->m = m;
    if (m->n_shards > 0) {
        mf->files = m->shards;
        mf->n_files = m->n_shards;
    } else {
        mf->one = (struct gguf_shard){.path = m->path, .fd = m->fd, .st = m->st};
        mf->files = &mf->one;
        mf->n_files = 1;
    }
    atomic_init(&mf->change_logged, false);
    return mf;
}

void model_file_free(struct model_file *mf)
{
    free(mf);
}

/* t's file; the parser and the split join set shard below n_files. */
static const struct gguf_shard *file_of(const struct model_file *mf, const struct gguf_tensor *t)
{
    return &mf->files[t->shard < mf->n_files ? t->shard : 0];
}

/* The change of file f, worded into res; false when there is none. */
static bool describe_change(const struct model_file *mf, const struct gguf_shard *f,
                            struct read_result *res)
{
    struct stat st;
    const struct stat *st0 = &f->st;
    /* A split model names the shard; one file is "model file". */
    const char *what = mf->n_files > 1 ? "shard " : "model file";
    const char *name = mf->n_files > 1 ? f->path : "";

    if (fstat(f->fd, &st) != 0) {
        read_result_set(res, READ_ERROR, EIO, "cannot stat the %s%s: %s", what, name,
                        strerror(errno));
        return true;
    }
    if (st.st_size != st0->st_size) {
        read_result_set(res, READ_ERROR, EIO, "%s%s changed while mounted (size %jd -> %jd)", what,
                        name, (intmax_t)st0->st_size, (intmax_t)st.st_size);
        return true;
    }
    if (st.st_mtim.tv_sec != st0->st_mtim.tv_sec || st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec) {
        read_result_set(res, READ_ERROR, EIO,
                        "%s%s changed while mounted (mtime %jd.%09ld -> %jd.%09ld)", what, name,
                        (intmax_t)st0->st_mtim.tv_sec, st0->st_mtim.tv_nsec,
                        (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        return true;
    }
    return false;
}

bool model_file_changed(struct model_file *mf, const struct gguf_tensor *t, struct read_result *res)
{
    const struct gguf_shard *f = file_of(mf, t);
    if (!describe_change(mf, f, res))
        return false;
    if (!atomic_exchange(&mf->change_logged, true)) {
        char path[512]; /* control bytes shown as '?': one log line */
        size_t n = 0;
        for (const char *p = f->path; *p != '\0' && n < sizeof(path) - 1; p++)
            path[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        path[n] = '\0';
        log_warn("%s: %s; reads fail with EIO until it is remounted", path, res->why);
    }
    return true;
}

int model_file_read(struct model_file *mf, const struct gguf_tensor *t, void *buf, size_t len,
                    uint64_t off, struct read_result *res)
{
    const struct gguf_shard *f = file_of(mf, t);
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            read_result_set(res, READ_ERROR, EIO,
                            "read error at byte %" PRIu64 " of the model file: %s", off + done,
                            strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (!model_file_changed(mf, t, res))
                read_result_set(res, READ_ERROR, EIO,
                                "model file ends early: %zu of %zu bytes read at byte %" PRIu64,
                                done, len, off);
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}
