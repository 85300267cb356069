/* model_file.c - see model_file.h.
 *
 * After each read the read path asks model_file_changed(): an fstat compared
 * with the one taken at mount time. Bytes read while the file changed may
 * be a mix of old and new, so such a read fails rather than serve them.
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
    atomic_bool change_logged;
};

struct model_file *model_file_new(const struct gguf_model *m)
{
    struct model_file *mf = calloc(1, sizeof(*mf));
    if (mf == NULL)
        return NULL;
    mf->m = m;
    atomic_init(&mf->change_logged, false);
    return mf;
}

void model_file_free(struct model_file *mf)
{
    free(mf);
}

/* The change, worded into res; false when there is none. */
static bool describe_change(const struct model_file *mf, struct read_result *res)
{
    struct stat st;
    const struct stat *st0 = &mf->m->st;

    if (fstat(mf->m->fd, &st) != 0) {
        read_result_set(res, READ_ERROR, EIO, "cannot stat the model file: %s", strerror(errno));
        return true;
    }
    if (st.st_size != st0->st_size) {
        read_result_set(res, READ_ERROR, EIO, "model file changed while mounted (size %jd -> %jd)",
                        (intmax_t)st0->st_size, (intmax_t)st.st_size);
        return true;
    }
    if (st.st_mtim.tv_sec != st0->st_mtim.tv_sec || st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec) {
        read_result_set(res, READ_ERROR, EIO,
                        "model file changed while mounted (mtime %jd.%09ld -> %jd.%09ld)",
                        (intmax_t)st0->st_mtim.tv_sec, st0->st_mtim.tv_nsec,
                        (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        return true;
    }
    return false;
}

bool model_file_changed(struct model_file *mf, struct read_result *res)
{
    if (!describe_change(mf, res))
        return false;
    if (!atomic_exchange(&mf->change_logged, true)) {
        char path[512]; /* control bytes shown as '?': one log line */
        size_t n = 0;
        for (const char *p = mf->m->path; *p != '\0' && n < sizeof(path) - 1; p++)
            path[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        path[n] = '\0';
        log_warn("%s: %s; reads fail with EIO until it is remounted", path, res->why);
    }
    return true;
}

int model_file_read(struct model_file *mf, void *buf, size_t len, uint64_t off,
                    struct read_result *res)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(mf->m->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            read_result_set(res, READ_ERROR, EIO,
                            "read error at byte %" PRIu64 " of the model file: %s", off + done,
                            strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (!model_file_changed(mf, res))
                read_result_set(res, READ_ERROR, EIO,
                                "model file ends early: %zu of %zu bytes read at byte %" PRIu64,
                                done, len, off);
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}
