/* test_read.c - the CPU read path (read/), the records and the control
 * file's text (fs/control.c), without FUSE: a model file written here, read
 * in every output dtype at every offset and length, then truncated under
 * the reader. */
#include "common/facts.h"
#include "decode/convert.h"
#include "format/gguf.h"
#include "fs/control.h"
#include "read/read.h"
#include "read/record.h"
#include "decode/dequant.h"
#include "gpu/gpu.h"
#include "random_blocks.h"

#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 64 /* elements per tensor */

static char path[] = "/tmp/test_read.XXXXXX";
static float want_f32[N], want_q8[N];
static uint16_t want_h[N], want_bh[N]; /* the f16 and bf16 tensors' bits */
static uint8_t q4[2 * 18];             /* the q4_0 tensor's blocks */

static void put(FILE *f, const void *p, size_t n)
{
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
}

static void put_u32(FILE *f, uint32_t v)
{
    put(f, &v, 4);
}

static void put_u64(FILE *f, uint64_t v)
{
    put(f, &v, 8);
}

/* `path` made and opened for a GGUF v3 file of n tensors, no metadata. */
static FILE *gguf_begin(uint64_t n)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    put(f, "GGUF", 4);
    put_u32(f, 3);
    put_u64(f, n);
    put_u64(f, 0);
    return f;
}

/* The info of a 1-D tensor of `elems` elements. */
static void tensor_info_n(FILE *f, const char *name, uint32_t type, uint64_t elems, uint64_t offset)
{
    put_u64(f, strlen(name));
    put(f, name, strlen(name));
    put_u32(f, 1);
    put_u64(f, elems);
    put_u32(f, type);
    put_u64(f, offset);
}

static void tensor_info(FILE *f, const char *name, uint32_t type, uint64_t offset)
{
    tensor_info_n(f, name, type, N, offset);
}

/* Pad to the data section's alignment (32). */
static void data_align(FILE *f)
{
    for (long pos = ftell(f); pos % 32; pos++)
        fputc(0, f);
}

/* GGUF v3, no metadata: "w" F32, "q" Q8_0 (2 blocks, d = 1.0), "x" type 77,
 * "h" F16, "b" BF16, "i" I32 (values 0..63), "g" Q4_0 (random blocks). */
static void write_model(void)
{
    FILE *f = gguf_begin(7);
    tensor_info(f, "w", 0, 0);
    tensor_info(f, "q", 8, 256);
    tensor_info(f, "x", 77, 352);
    tensor_info(f, "h", 1, 416);
    tensor_info(f, "b", 30, 544);
    tensor_info(f, "i", 26, 672);
    tensor_info(f, "g", 2, 928);
    data_align(f);
    for (int i = 0; i < N; i++)
        want_f32[i] = (float)i * 0.5f - 7.25f;
    put(f, want_f32, sizeof(want_f32));
    for (int b = 0; b < 2; b++) {
        uint16_t d = 0x3C00; /* 1.0 in fp16 */
        put(f, &d, 2);
        for (int j = 0; j < 32; j++) {
            int8_t q = (int8_t)(b * 32 + j - 40);
            want_q8[b * 32 + j] = (float)q;
            put(f, &q, 1);
        }
    }
    for (int i = 0; i < 28; i++) /* pad to 352 */
        fputc(0, f);
    for (int i = 0; i < N; i++)
        fputc(i, f);
    /* f16 and bf16 values with the hard cases: signed zeros, subnormals,
     * infinities, NaNs with payloads, and ordinary values. */
    static const uint16_t h[] = {0x0000, 0x8000, 0x0001, 0x83FF, 0x7C00, 0xFC00,
                                 0x7E01, 0xFD55, 0x3C00, 0xC000, 0x7BFF, 0x3555};
    static const uint16_t bh[] = {0x0000, 0x8000, 0x0001, 0x807F, 0x7F80, 0xFF80,
                                  0x7FC1, 0xFF81, 0x3F80, 0xC000, 0x7F7F, 0x3EAB};
    for (int i = 0; i < N; i++) {
        want_h[i] = h[i % 12] ^ (uint16_t)(i / 12); /* vary the low bits */
        want_bh[i] = bh[i % 12] ^ (uint16_t)(i / 12);
    }
    put(f, want_h, sizeof(want_h));
    put(f, want_bh, sizeof(want_bh));
    for (int32_t i = 0; i < N; i++)
        put(f, &i, 4);
    struct rb_rng rng = {77};
    ck_assert_int_eq(rb_fill(2, 2, &rng, q4), 0);
    put(f, q4, sizeof(q4));
    ck_assert_int_eq(fclose(f), 0);
}

struct fixture {
    struct gguf_model *m;
    struct reader *r;
};

/* gpu_early: start the GPU at read_new() (the mount's default); the tests
 * of what a read records start it at the first read, so that no read
 * races the start. */
static struct fixture open_fixture_start(unsigned threads, struct gpu *g, bool gpu_early)
{
    struct fixture fx;
    char err[256];
    write_model();
    ck_assert_msg(gguf_open(path, &fx.m, err, sizeof(err)) == 0, "%s", err);
    struct read_options opt;
    read_options_init(&opt);
    opt.cache_bytes = 1 << 20;
    opt.threads = threads;
    opt.gpu_early = gpu_early;
    ck_assert_ptr_nonnull(fx.r = read_new(fx.m, g, &opt));
    return fx;
}

static struct fixture open_fixture_gpu(unsigned threads, struct gpu *g)
{
    return open_fixture_start(threads, g, false);
}

static struct fixture open_fixture(unsigned threads)
{
    return open_fixture_gpu(threads, NULL);
}

static void close_fixture(struct fixture *fx)
{
    read_free(fx->r);
    gguf_close(fx->m);
    unlink(path);
    strcpy(path, "/tmp/test_read.XXXXXX");
}

/* The control file with one fact, "# test: x". */
static char *render(struct fixture *fx)
{
    size_t len;
    struct facts *f = facts_new();
    ck_assert_ptr_nonnull(f);
    facts_add(f, "test", "x");
    char *t = control_render(fx->m, f, read_records(fx->r), &len);
    facts_free(f);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), len);
    return t;
}

static ssize_t rd(struct fixture *fx, uint64_t t, enum dtype dt, void *buf, size_t len,
                  uint64_t off)
{
    const void *data;
    ssize_t n = read_tensor(fx->r, t, dt, buf, len, off, &data, NULL);
    ck_assert_ptr_eq(data, buf);
    return n;
}

START_TEST(every_offset_and_length)
{
    struct fixture fx = open_fixture(2);
    const float *want[2] = {want_f32, want_q8};
    unsigned char buf[N * 4 + 8];

    for (uint64_t t = 0; t < 2; t++) {
        for (size_t off = 0; off <= N * 4 + 2; off++) {
            for (size_t len = 0; len <= N * 4 + 4 - off; len++) {
                size_t expect = off >= N * 4 ? 0 : (off + len > N * 4 ? N * 4 - off : len);
                ssize_t n = rd(&fx, t, DTYPE_F32, buf + 1, len, off); /* unaligned buffer */
                ck_assert_int_eq(n, (ssize_t)expect);
                ck_assert_mem_eq(buf + 1, (const char *)want[t] + off, expect);
            }
        }
    }
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text,
                                 "# test: x\ntensor\ttype\telements\tshape\tpath\treason\treads"
                                 "\tbytes\tpushed\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nw\tf32\t64\t64\tpassthrough\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nq\tq8_0\t64\t64\tcpu\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nx\ttype77\t64\t64\tunread\t-\t0\t0\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* A decoded read inside one window is answered by reference from the
 * window cache (the same on the CPU as on the GPU), held until released; a
 * passthrough read and a failed one fill the caller's buffer and hold
 * nothing. */
START_TEST(read_ref_from_windows)
{
    struct fixture fx = open_fixture(1);
    char buf[N * 4];
    const void *data = NULL;
    struct read_hold *hold = (struct read_hold *)&fx; /* must be cleared */

    ck_assert_int_eq(read_tensor(fx.r, 1, DTYPE_F32, buf, 40, 8, &data, &hold), 40);
    ck_assert_ptr_ne(data, buf);
    ck_assert_ptr_nonnull(hold);
    ck_assert_mem_eq(data, (const char *)want_q8 + 8, 40);
    read_release(fx.r, hold);
    hold = (struct read_hold *)&fx;
    ck_assert_int_eq(read_tensor(fx.r, 0, DTYPE_F32, buf, 16, 4, &data, &hold), 16);
    ck_assert_ptr_eq(data, buf);
    ck_assert_ptr_null(hold);
    hold = (struct read_hold *)&fx;
    ck_assert_int_eq(read_tensor(fx.r, 2, DTYPE_F32, buf, 16, 0, &data, &hold), -EIO);
    ck_assert_ptr_eq(data, buf);
    ck_assert_ptr_null(hold);
    read_release(fx.r, NULL);
    close_fixture(&fx);
}
END_TEST

/* The window cache's allocation and its regrets, from its fact:
 * "... N MiB allocated, H hits, M misses (R of windows evicted lately) ...". */
static void cache_use(struct reader *r, unsigned *mib, unsigned *regrets)
{
    struct facts *f = facts_new();
    ck_assert_ptr_nonnull(f);
    read_describe(r, f);
    const char *v = NULL;
    for (size_t i = 0; i < facts_count(f); i++)
        if (strcmp(facts_key(f, i), "cache") == 0)
            v = facts_value(f, i);
    ck_assert_ptr_nonnull(v);
    const char *a = strstr(v, " MiB allocated");
    const char *g = strstr(v, " of windows evicted lately");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(g);
    while (a > v && a[-1] >= '0' && a[-1] <= '9')
        a--;
    while (g > v && g[-1] >= '0' && g[-1] <= '9')
        g--;
    *mib = (unsigned)strtoul(a, NULL, 10);
    *regrets = (unsigned)strtoul(g, NULL, 10);
    facts_free(f);
}

/* One Q4_0 tensor "big" of `elems` elements (random blocks). */
static void write_big_model(uint64_t elems)
{
    FILE *f = gguf_begin(1);
    tensor_info_n(f, "big", 2, elems, 0);
    data_align(f);
    uint64_t nb = elems / 32;
    uint8_t *blocks = malloc(nb * 18);
    ck_assert_ptr_nonnull(blocks);
    struct rb_rng rng = {5};
    ck_assert_int_eq(rb_fill(2, nb, &rng, blocks), 0);
    put(f, blocks, nb * 18);
    free(blocks);
    ck_assert_int_eq(fclose(f), 0);
}

static void read_all(struct reader *r, uint64_t bytes)
{
    static char buf[128 * 1024];
    for (uint64_t off = 0; off < bytes; off += sizeof(buf)) {
        const void *data;
        struct read_hold *hold;
        ck_assert_int_eq(read_tensor(r, 0, DTYPE_F32, buf, sizeof(buf), off, &data, &hold),
                         (ssize_t)sizeof(buf));
        read_release(r, hold);
    }
}

/* One pass over a tensor twice the cache's free allowance holds a few
 * windows, not the budget; a second pass comes back for the evicted ones,
 * and the cache grows for them. */
START_TEST(cache_grows_only_on_reuse)
{
    const uint64_t elems = 16u << 18; /* 16 MiB as FP32: 16 windows of 1 MiB */
    struct gguf_model *m;
    char err[256];
    write_big_model(elems);
    ck_assert_msg(gguf_open(path, &m, err, sizeof(err)) == 0, "%s", err);
    struct read_options opt;
    read_options_init(&opt);
    opt.cache_bytes = 32u << 20;
    opt.window_bytes = 1u << 20;
    opt.threads = 1;
    struct reader *r = read_new(m, NULL, &opt);
    ck_assert_ptr_nonnull(r);
    unsigned mib, regrets;

    read_all(r, elems * 4);
    cache_use(r, &mib, &regrets);
    ck_assert_uint_eq(regrets, 0);
    ck_assert_uint_le(mib, 10); /* 8 windows, and any all busy at once */
    unsigned first = mib;

    read_all(r, elems * 4);
    cache_use(r, &mib, &regrets);
    ck_assert_uint_ge(regrets, 4);
    ck_assert_uint_ge(mib, first + 4);
    ck_assert_uint_le(mib, 32);

    read_free(r);
    gguf_close(m);
    unlink(path);
    strcpy(path, "/tmp/test_read.XXXXXX");
}
END_TEST

START_TEST(unknown_type_fails_with_reason)
{
    struct fixture fx = open_fixture(1);
    char buf[16];
    ck_assert_int_eq(rd(&fx, 2, DTYPE_F32, buf, sizeof(buf), 0), -EIO);
    ck_assert_int_eq(rd(&fx, 7, DTYPE_F32, buf, sizeof(buf), 0), -EINVAL);
    char *text = render(&fx);
    ck_assert_ptr_nonnull(
        strstr(text, "\nx\ttype77\t64\t64\terror\tunknown type id 77\t1\t0\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

START_TEST(model_changed_is_eio)
{
    struct fixture fx = open_fixture(1);
    char buf[16];
    ck_assert_int_eq(rd(&fx, 1, DTYPE_F32, buf, sizeof(buf), 0), 16);
    ck_assert_int_eq(truncate(path, 300), 0);
    ck_assert_int_eq(rd(&fx, 1, DTYPE_F32, buf, sizeof(buf), 0), -EIO);
    ck_assert_int_eq(rd(&fx, 0, DTYPE_F32, buf, sizeof(buf), 0), -EIO); /* data still there */
    char *text = render(&fx);
    ck_assert_ptr_nonnull(
        strstr(text, "\tq8_0\t64\t64\tcpu,error\tmodel file changed while mounted (size 1220 -> "
                     "300)\t2\t16\t0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nw\tf32\t64\t64\terror\tmodel file changed"));
    free(text);
    close_fixture(&fx);
}
END_TEST

START_TEST(describe_names_the_read_path)
{
    struct fixture fx = open_fixture(3);
    struct facts *f = facts_new();
    size_t len;
    ck_assert_ptr_nonnull(f);
    control_model_facts(fx.m, f);
    read_describe(fx.r, f);
    char *d = control_render(fx.m, f, read_records(fx.r), &len);
    facts_free(f);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(strstr(d, "# gguffs "));
    ck_assert_ptr_nonnull(strstr(d, "\n# tensors: 7\n"));
    ck_assert_ptr_nonnull(
        strstr(d, "\n# cache: 1 MiB limit, 1 MiB of it for windows, 256 KiB windows"));
    ck_assert_ptr_nonnull(strstr(d, "\n# decode threads: 3\n"));
    ck_assert_ptr_nonnull(strstr(d, "\n# simd: q8_0 "));
    free(d);
    close_fixture(&fx);
}
END_TEST

START_TEST(reasons_are_one_line_fields)
{
    struct fixture fx = open_fixture(1);
    struct records *rs = read_records(fx.r);
    records_add(rs, 0, READ_PATH_BIT(READ_PATH_CPU_FALLBACK) | READ_PATH_BIT(READ_PATH_GPU_CUDA), 8,
                "bad\tthing\nhappened");
    records_add(rs, 0, READ_PATH_BIT(READ_PATH_PASSTHROUGH), 4, NULL);
    records_add(rs, 99, READ_PATH_BIT(READ_PATH_CPU), 4, "ignored: no such tensor");
    char *text = render(&fx);
    ck_assert_ptr_nonnull(
        strstr(text, "\nw\tf32\t64\t64\tpassthrough,cpu-fallback,gpu-cuda\tbad thing happened\t2"
                     "\t12\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* The f16 or bf16 image of tensor t: its own bits when stored so, else its
 * FP32 image (as read_tensor serves it) converted one value at a time. */
static void want_16(struct fixture *fx, uint64_t t, enum dtype dt, uint16_t *out)
{
    float f32[N];
    if (t == 3 && dt == DTYPE_F16) {
        memcpy(out, want_h, sizeof(want_h));
        return;
    }
    if (t == 4 && dt == DTYPE_BF16) {
        memcpy(out, want_bh, sizeof(want_bh));
        return;
    }
    ck_assert_int_eq(rd(fx, t, DTYPE_F32, f32, sizeof(f32), 0), (ssize_t)sizeof(f32));
    for (int i = 0; i < N; i++)
        out[i] = dt == DTYPE_F16 ? convert_one_f16(f32[i]) : convert_one_bf16(f32[i]);
}

START_TEST(sixteen_bit_images_at_every_offset)
{
    struct fixture fx = open_fixture(2);
    static const uint64_t tensors[] = {0, 1, 3, 4}; /* f32, q8_0, f16, bf16 */
    static const enum dtype dts[] = {DTYPE_F16, DTYPE_BF16};
    uint16_t want[N];
    unsigned char buf[N * 2 + 8];

    for (size_t d = 0; d < 2; d++) {
        for (size_t i = 0; i < 4; i++) {
            uint64_t t = tensors[i];
            want_16(&fx, t, dts[d], want);
            for (size_t off = 0; off <= N * 2 + 2; off++) {
                for (size_t len = 0; len <= N * 2 + 4 - off; len++) {
                    size_t expect = off >= N * 2 ? 0 : (off + len > N * 2 ? N * 2 - off : len);
                    ck_assert_int_eq(rd(&fx, t, dts[d], buf + 1, len, off), (ssize_t)expect);
                    ck_assert_mem_eq(buf + 1, (const char *)want + off, expect);
                }
            }
        }
    }
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text, "\nw\tf32\t64\t64\tpassthrough,cpu\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nh\tf16\t64\t64\tpassthrough,cpu\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nb\tbf16\t64\t64\tpassthrough,cpu\t-\t"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* Independent of the read path: bf16's FP32 is its bits shifted up, and a
 * bf16 tensor read as bf16 is its stored bits. */
START_TEST(bf16_tensor_as_f32_and_as_itself)
{
    struct fixture fx = open_fixture(1);
    uint32_t got[N];
    uint16_t got16[N];

    ck_assert_int_eq(rd(&fx, 4, DTYPE_F32, got, sizeof(got), 0), (ssize_t)sizeof(got));
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(got[i], (uint32_t)want_bh[i] << 16);
    ck_assert_int_eq(rd(&fx, 4, DTYPE_BF16, got16, sizeof(got16), 0), (ssize_t)sizeof(got16));
    ck_assert_mem_eq(got16, want_bh, sizeof(want_bh));
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text, "\nb\tbf16\t64\t64\tpassthrough,cpu\t-\t2\t384\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* DTYPE_STORED: a plain tensor's own bytes at any offset; a block type
 * cannot be served so. */
START_TEST(stored_bytes_of_plain_tensors)
{
    struct fixture fx = open_fixture(1);
    int32_t want_i[N];
    unsigned char buf[N * 4 + 8];

    for (int32_t i = 0; i < N; i++)
        want_i[i] = i;
    for (size_t off = 0; off <= N * 4 + 1; off += 3) {
        for (size_t len = 0; len <= N * 4 + 2 - off; len += 5) {
            size_t expect = off >= N * 4 ? 0 : (off + len > N * 4 ? N * 4 - off : len);
            ck_assert_int_eq(rd(&fx, 5, DTYPE_STORED, buf + 1, len, off), (ssize_t)expect);
            ck_assert_mem_eq(buf + 1, (const char *)want_i + off, expect);
            ck_assert_int_eq(rd(&fx, 0, DTYPE_STORED, buf + 1, len, off), (ssize_t)expect);
            ck_assert_mem_eq(buf + 1, (const char *)want_f32 + off, expect);
        }
    }
    ck_assert_int_eq(rd(&fx, 3, DTYPE_STORED, buf, 4, 2), 4);
    ck_assert_mem_eq(buf, (const char *)want_h + 2, 4);
    ck_assert_int_eq(rd(&fx, 1, DTYPE_STORED, buf, 4, 0), -EIO);
    /* i32 as f16: decoded to FP32 (exact here), then converted: 0, 1. */
    const uint16_t want_h01[2] = {0x0000, 0x3c00};
    ck_assert_int_eq(rd(&fx, 5, DTYPE_F16, buf, 4, 0), 4);
    ck_assert_mem_eq(buf, want_h01, 4);
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text, "\nq\tq8_0\t64\t64\terror\ttype q8_0 cannot be served "
                                       "as stored\t1\t0\t0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\ni\ti32\t64\t64\tpassthrough,cpu\t"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* A fact's value is escaped as a file name is: a line break in a model path
 * cannot start a line of its own. */
START_TEST(fact_values_are_escaped)
{
    struct fixture fx = open_fixture(1);
    struct facts *f = facts_new();
    size_t len;
    ck_assert_ptr_nonnull(f);
    facts_add(f, "model", "/m/a\nb%%c.gguf");
    char *text = control_render(fx.m, f, read_records(fx.r), &len);
    facts_free(f);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "\n# model: /m/a%0Ab%25c.gguf\ntensor\t"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* With the GPU started early, reads racing the start are served (by the
 * CPU until the start is done, then by the GPU or its fallback) with the
 * same bytes throughout. */
START_TEST(gpu_early_start_reads_right)
{
    struct gpu_options go = {.backend = GPU_BACKEND_AUTO};
    struct gpu *g = gpu_new(&go);
    ck_assert_ptr_nonnull(g);
    struct fixture fx = open_fixture_start(1, g, true);
    float ref[N];
    unsigned char buf[N * 4 + 8];

    ck_assert_int_eq(dequant_blocks_scalar(2, q4, 2, ref), 0);
    for (int rep = 0; rep < 50; rep++) {
        ck_assert_int_eq(rd(&fx, 6, DTYPE_F32, buf + 1, N * 4 - 5, 5), N * 4 - 5);
        ck_assert_mem_eq(buf + 1, (const char *)ref + 5, N * 4 - 5);
    }
    close_fixture(&fx);
    gpu_free(g);
}
END_TEST

/* A GPU type with a GPU wanted: where there is no GPU (CI), every read
 * falls back to the CPU with the GPU's reason and the same bytes, in every
 * dtype; on a GPU machine it is served there, bit-identical. */
START_TEST(gpu_type_served_or_fallen_back_bit_exact)
{
    struct gpu_options go = {.backend = GPU_BACKEND_AUTO};
    struct gpu *g = gpu_new(&go);
    ck_assert_ptr_nonnull(g);
    struct fixture fx = open_fixture_gpu(1, g);
    float ref[N];
    uint16_t ref16[N];
    unsigned char buf[N * 4 + 8];

    ck_assert_int_eq(dequant_blocks_scalar(2, q4, 2, ref), 0);
    for (size_t off = 0; off <= N * 4; off += 7) {
        size_t len = N * 4 - off < 77 ? N * 4 - off : 77;
        ck_assert_int_eq(rd(&fx, 6, DTYPE_F32, buf + 1, len, off), (ssize_t)len);
        ck_assert_mem_eq(buf + 1, (const char *)ref + off, len);
    }
    for (int i = 0; i < N; i++)
        ref16[i] = convert_one_bf16(ref[i]);
    ck_assert_int_eq(rd(&fx, 6, DTYPE_BF16, buf + 1, 61, 3), 61);
    ck_assert_mem_eq(buf + 1, (const char *)ref16 + 3, 61);
    char *text = render(&fx);
    char why[256]; /* as long as a recorded reason */
    if (gpu_unusable(g, why, sizeof(why))) {
        char row[512];
        snprintf(row, sizeof(row), "\ng\tq4_0\t64\t64\tcpu-fallback\t%s\t", why);
        ck_assert_msg(strstr(text, row) != NULL, "no row %s in\n%s", row, text);
    } else {
        ck_assert_ptr_nonnull(strstr(text, "\ng\tq4_0\t64\t64\tgpu-"));
    }
    free(text);
    close_fixture(&fx);
    gpu_free(g);
}
END_TEST

/* Count the lines of `text` that contain `what`. */
static int count_lines(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* A tensor's first failed read is logged, once; the model changing under
 * the mount is logged once. Log lines go to stderr here (fuse_log's
 * default), captured in a file. */
START_TEST(failures_are_logged_once)
{
    struct fixture fx = open_fixture(1);
    char buf[16], log[4096] = "", name[] = "/tmp/test_read_log.XXXXXX";
    int fd = mkstemp(name), saved = dup(STDERR_FILENO);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(saved, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    for (int i = 0; i < 3; i++)
        rd(&fx, 2, DTYPE_F32, buf, sizeof(buf), 0);
    ck_assert_int_eq(truncate(path, 300), 0);
    for (int i = 0; i < 3; i++)
        rd(&fx, 1, DTYPE_F32, buf, sizeof(buf), 0);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ck_assert_int_ge(pread(fd, log, sizeof(log) - 1, 0), 0);
    close(fd);
    unlink(name);
    ck_assert_int_eq(count_lines(log, "gguffs: x: read failed: unknown type id 77\n"), 1);
    ck_assert_int_eq(count_lines(log, "gguffs: q: read failed: model file changed"), 1);
    ck_assert_int_eq(count_lines(log, "(size 1220 -> 300); reads fail with EIO until it is "
                                      "remounted\n"),
                     1);
    close_fixture(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("read");
    TCase *tc = tcase_create("read");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_offset_and_length);
    tcase_add_test(tc, read_ref_from_windows);
    tcase_add_test(tc, cache_grows_only_on_reuse);
    tcase_add_test(tc, unknown_type_fails_with_reason);
    tcase_add_test(tc, model_changed_is_eio);
    tcase_add_test(tc, describe_names_the_read_path);
    tcase_add_test(tc, reasons_are_one_line_fields);
    tcase_add_test(tc, sixteen_bit_images_at_every_offset);
    tcase_add_test(tc, bf16_tensor_as_f32_and_as_itself);
    tcase_add_test(tc, stored_bytes_of_plain_tensors);
    tcase_add_test(tc, fact_values_are_escaped);
    tcase_add_test(tc, gpu_type_served_or_fallen_back_bit_exact);
    tcase_add_test(tc, gpu_early_start_reads_right);
    tcase_add_test(tc, failures_are_logged_once);
    suite_add_tcase(s, tc);
    return check_run(s);
}
