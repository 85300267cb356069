/* gguf.c - parse and validate a GGUF file (see gguf.h).
 *
 * The input is hostile until proven otherwise. Every count read from the file
 * is first compared with the bytes that are left, using the smallest encoding
 * one item can have, so a file that declares 2^40 tensors or a 2^60-byte
 * string fails at once without allocating anything. All offset arithmetic is
 * done in uint64_t with explicit overflow checks.
 *
 * The rules are ggml's own (ggml/src/gguf.cpp), a little stricter where the
 * mount needs it: names must be non-empty and free of NUL (they become file
 * names), keys must be free of NUL (ggml finds keys as C strings, see
 * parse_kv()), every dimension must be at least 1, and the FP32 image of a tensor
 * (n_elements * 4 bytes) must fit in an off_t. ggml also insists on tensors
 * being packed in file order; gguffs only needs them aligned, inside the file
 * and non-overlapping, so that is what it checks. Unknown type ids are kept
 * (with nbytes 0): the mount lists such a tensor and explains why it cannot
 * be read.
 *
 * The rules, one line each, are listed in docs/format.md. This file reads
 * the header and drives the parse; the parts it calls are listed in
 * gguf_internal.h.
 */
#include "format/gguf.h"
#include "format/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------ header */

static int parse_magic(struct reader *r)
{
    char q[64];

    if (r->size < 4)
        return gguf_fail_at(r, 0, "not a GGUF file: %llu bytes, too short for the magic",
                            (unsigned long long)r->size);
    if (memcmp(r->buf, "GGUF", 4) != 0) {
        gguf_quote_name(q, sizeof(q), r->buf, 4);
        return gguf_fail_at(r, 0, "not a GGUF file: magic is '%s', expected 'GGUF'", q);
    }
    if (r->size < GGUF_HEADER_SIZE)
        return gguf_fail_at(r, 0, "truncated: the file has %llu bytes, a GGUF header needs %d",
                            (unsigned long long)r->size, GGUF_HEADER_SIZE);
    r->pos = 4;
    return 0;
}

static int parse_version(struct reader *r, uint32_t *version)
{
    uint64_t at = r->pos;

    if (gguf_rd_u32(r, "version", version) < 0)
        return -1;
    if (*version == 2 || *version == 3)
        return 0;
    /* A byte-swapped small version has its low 16 bits zero: 3 reads as
     * 0x03000000. ggml uses the same test. */
    if (*version != 0 && (*version & 0xffff) == 0)
        return gguf_fail_at(r, at, "big-endian GGUF is not supported (version field reads 0x%08x)",
                            *version);
    if (*version == 1)
        return gguf_fail_at(r, at, "GGUF version 1 is not supported (only versions 2 and 3)");
    return gguf_fail_at(r, at, "unsupported GGUF version %u (only versions 2 and 3)", *version);
}

/* Counts are bounded by the smallest bytes each item can take, so nothing is
 * allocated from a count the file cannot back. */
static int parse_counts(struct reader *r, struct gguf_model *m)
{
    uint64_t at = r->pos;

    if (gguf_rd_u64(r, "tensor count", &m->n_tensors) < 0 ||
        gguf_rd_u64(r, "key/value count", &m->n_kv))
        return -1;
    if (m->n_tensors > left(r) / MIN_TENSOR_BYTES)
        return gguf_fail_at(r, at,
                            "tensor count %llu cannot fit in the file: each tensor info takes at "
                            "least %d bytes and %llu remain",
                            (unsigned long long)m->n_tensors, MIN_TENSOR_BYTES,
                            (unsigned long long)left(r));
    if (m->n_kv > (left(r) - m->n_tensors * MIN_TENSOR_BYTES) / MIN_KV_BYTES)
        return gguf_fail_at(r, at + 8,
                            "key/value count %llu cannot fit in the file: each key/value takes at "
                            "least %d bytes and %llu remain after the tensor infos",
                            (unsigned long long)m->n_kv, MIN_KV_BYTES,
                            (unsigned long long)(left(r) - m->n_tensors * MIN_TENSOR_BYTES));
    return 0;
}

/* ------------------------------------------------------------------ entry points */

int gguf_parse(const void *buf, size_t size, struct gguf_model **out, char *err, size_t errlen)
{
    struct reader r = {.buf = buf, .size = size, .err = err, .errlen = errlen};
    struct gguf_model *m = calloc(1, sizeof(*m));

    *out = NULL;
    snprintf(r.where, sizeof(r.where), "header");
    if (!m)
        return gguf_fail_at(&r, 0, "out of memory");
    m->fd = -1;
    m->st.st_size = (off_t)size;
    if (parse_magic(&r) < 0 || parse_version(&r, &m->version) < 0 || parse_counts(&r, m) < 0 ||
        gguf_parse_metadata(&r, m) < 0 || gguf_parse_tensors(&r, m) < 0) {
        gguf_close(m);
        return -1;
    }
    *out = m;
    return 0;
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file";
}

/* Open read-only, refuse what cannot be a model. O_NONBLOCK, because a
 * blocking open() of a FIFO waits for a writer forever; a regular file
 * ignores the flag, which is cleared once the type is known. */
static int open_checked(const char *path, struct stat *st, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
    } else if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "is %s, not a GGUF file", file_kind(st->st_mode));
    } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot clear O_NONBLOCK: %s", strerror(errno));
    } else if (st->st_size == 0) {
        /* Nothing to map; other short files get the parser's own message. */
        snprintf(err, errlen, "empty file (0 bytes), not a GGUF model");
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

int gguf_open(const char *path, struct gguf_model **out, char *err, size_t errlen)
{
    struct stat st;
    struct gguf_model *m;
    void *map;
    int fd, rc;

    *out = NULL;
    fd = open_checked(path, &st, err, errlen);
    if (fd < 0)
        return -1;
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map: %s", strerror(errno));
        close(fd);
        return -1;
    }
    rc = gguf_parse(map, (size_t)st.st_size, &m, err, errlen);
    munmap(map, (size_t)st.st_size);
    if (rc == 0 && !(m->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        gguf_close(m);
        rc = -1;
    }
    if (rc < 0) {
        close(fd);
        return -1;
    }
    m->fd = fd;
    m->st = st;
    *out = m;
    return 0;
}

void gguf_close(struct gguf_model *m)
{
    if (!m)
        return;
    for (uint64_t i = 0; m->tensors && i < m->n_tensors; i++)
        free(m->tensors[i].name);
    free(m->tensors);
    for (uint64_t i = 0; m->kv && i < m->n_kv; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m->kv);
    free(m->architecture);
    free(m->model_name);
    free(m->path);
    if (m->fd >= 0)
        close(m->fd);
    for (uint32_t i = 0; m->shards && i < m->n_shards; i++) {
        free(m->shards[i].path);
        if (m->shards[i].fd >= 0)
            close(m->shards[i].fd);
    }
    free(m->shards);
    free(m);
}
