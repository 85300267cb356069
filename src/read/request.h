/* request.h - one read as it travels down the read path, and its result.
 *
 * The dispatcher (read.c) fills a struct read_req for a byte range of one
 * tensor's FP32 image and hands it to a server (window_cache.c on the GPU,
 * cpu_decode.c on the CPU); the server fills in the path it took and the
 * result. A result is one of three things, never a sentinel:
 *   READ_OK        served;
 *   READ_FALLBACK  not served here, but another server may (a GPU failure,
 *                  or host memory too short for a window): why says why;
 *   READ_ERROR     the read fails with errno `err` (EIO, ENOMEM): why says
 *                  why, and nothing else is tried.
 */
#ifndef GGUFFS_REQUEST_H
#define GGUFFS_REQUEST_H

#include "read/record.h"

#include <stddef.h>
#include <stdint.h>

struct gguf_tensor;
struct ggml_type_info;

enum read_status { READ_OK, READ_FALLBACK, READ_ERROR };

#define READ_WHY_MAX 256

struct read_result {
    enum read_status status;
    int err;                /* READ_ERROR: a positive errno */
    char why[READ_WHY_MAX]; /* READ_FALLBACK, READ_ERROR: one line */
};

/* Set r to `status` with errno `err` (0 unless READ_ERROR) and the reason. */
void read_result_set(struct read_result *r, enum read_status status, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A read of bytes [off, off + len) of tensor t's FP32 image into buf. When
 * `hold` is not NULL and the bytes already sit whole in memory the server
 * owns, the server may set *data to them and *hold to what keeps them
 * valid, instead of copying into buf. */
struct read_req {
    uint64_t t;
    const struct gguf_tensor *ten;
    const struct ggml_type_info *ti;
    char *buf;
    size_t len;
    uint64_t off;
    const void **data;
    void **hold;         /* NULL: always copy into buf */
    read_path_set paths; /* set by the server: what served the read */
    struct read_result res;
};

#endif
