/* test_serve.c - the CPU read path (serve.c) and the control records
 * (control.c), without FUSE: a model file written here, read at every
 * offset and length, then truncated under the reader. */
#include "read/control.h"
#include "format/gguf.h"
#include "read/serve.h"

#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 64 /* elements per tensor */

static char path[] = "/tmp/test_serve.XXXXXX";
static float want_f32[N], want_q8[N];

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

static void tensor_info(FILE *f, const char *name, uint32_t type, uint64_t offset)
{
    put_u64(f, strlen(name));
    put(f, name, strlen(name));
    put_u32(f, 1);
    put_u64(f, N);
    put_u32(f, type);
    put_u64(f, offset);
}

/* GGUF v3, no metadata: "w" F32, "q" Q8_0 (2 blocks, d = 1.0), "x" type 77. */
static void write_model(void)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    put(f, "GGUF", 4);
    put_u32(f, 3);
    put_u64(f, 3);
    put_u64(f, 0);
    tensor_info(f, "w", 0, 0);
    tensor_info(f, "q", 8, 256);
    tensor_info(f, "x", 77, 352);
    long pos = ftell(f);
    for (; pos % 32; pos++)
        fputc(0, f);
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
    ck_assert_int_eq(fclose(f), 0);
}

struct fixture {
    struct gguf_model *m;
    struct control *c;
    struct serve *s;
};

static struct fixture open_fixture(unsigned threads)
{
    struct fixture fx;
    char err[256];
    write_model();
    ck_assert_msg(gguf_open(path, &fx.m, err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(fx.c = control_new(fx.m));
    struct serve_options opt = {.cache_bytes = 1 << 20, .threads = threads};
    ck_assert_ptr_nonnull(fx.s = serve_new(fx.m, NULL, fx.c, &opt));
    return fx;
}

static void close_fixture(struct fixture *fx)
{
    serve_free(fx->s);
    control_free(fx->c);
    gguf_close(fx->m);
    unlink(path);
    strcpy(path, "/tmp/test_serve.XXXXXX");
}

static char *render(struct fixture *fx)
{
    size_t len;
    char *t = control_render(fx->c, "# test\n", &len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), len);
    return t;
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
                ssize_t n = serve_read(fx.s, t, buf + 1, len, off); /* unaligned buffer */
                ck_assert_int_eq(n, (ssize_t)expect);
                ck_assert_mem_eq(buf + 1, (const char *)want[t] + off, expect);
            }
        }
    }
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text, "# test\ntensor\ttype\telements\tshape\tpath\treason\treads"
                                       "\tbytes\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nw\tf32\t64\t64\tpassthrough\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nq\tq8_0\t64\t64\tcpu\t-\t"));
    ck_assert_ptr_nonnull(strstr(text, "\nx\ttype77\t64\t64\tunread\t-\t0\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

/* Without GPU windows, serve_read_ref() fills the caller's buffer and holds
 * nothing, on success and on failure alike. */
START_TEST(read_ref_without_windows_copies)
{
    struct fixture fx = open_fixture(1);
    char buf[N * 4];
    const void *data = NULL;
    struct serve_hold *hold = (struct serve_hold *)&fx; /* must be cleared */

    ck_assert_int_eq(serve_read_ref(fx.s, 1, buf, 40, 8, &data, &hold), 40);
    ck_assert_ptr_eq(data, buf);
    ck_assert_ptr_null(hold);
    ck_assert_mem_eq(buf, (const char *)want_q8 + 8, 40);
    hold = (struct serve_hold *)&fx;
    ck_assert_int_eq(serve_read_ref(fx.s, 2, buf, 16, 0, &data, &hold), -EIO);
    ck_assert_ptr_null(hold);
    serve_release(fx.s, NULL);
    close_fixture(&fx);
}
END_TEST

START_TEST(unknown_type_fails_with_reason)
{
    struct fixture fx = open_fixture(1);
    char buf[16];
    ck_assert_int_eq(serve_read(fx.s, 2, buf, sizeof(buf), 0), -EIO);
    ck_assert_int_eq(serve_read(fx.s, 3, buf, sizeof(buf), 0), -EINVAL);
    char *text = render(&fx);
    ck_assert_ptr_nonnull(strstr(text, "\nx\ttype77\t64\t64\terror\tunknown type id 77\t1\t0\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

START_TEST(model_changed_is_eio)
{
    struct fixture fx = open_fixture(1);
    char buf[16];
    ck_assert_int_eq(serve_read(fx.s, 1, buf, sizeof(buf), 0), 16);
    ck_assert_int_eq(truncate(path, 300), 0);
    ck_assert_int_eq(serve_read(fx.s, 1, buf, sizeof(buf), 0), -EIO);
    ck_assert_int_eq(serve_read(fx.s, 0, buf, sizeof(buf), 0), -EIO); /* data still there */
    char *text = render(&fx);
    ck_assert_ptr_nonnull(
        strstr(text, "\tq8_0\t64\t64\tcpu,error\tmodel file changed while mounted (size 544 -> "
                     "300)\t2\t16\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nw\tf32\t64\t64\terror\tmodel file changed"));
    free(text);
    close_fixture(&fx);
}
END_TEST

START_TEST(describe_names_the_read_path)
{
    struct fixture fx = open_fixture(3);
    char *d = serve_describe(fx.s);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(
        strstr(d, "# cache: 1 MiB limit, 1 MiB of it for windows, 256 KiB windows"));
    ck_assert_ptr_nonnull(strstr(d, "# decode threads: 3\n"));
    ck_assert_ptr_nonnull(strstr(d, "# simd: q8_0 "));
    free(d);
    close_fixture(&fx);
}
END_TEST

START_TEST(reasons_are_one_line_fields)
{
    struct fixture fx = open_fixture(1);
    control_record(fx.c, 0, PATH_CPU_FALLBACK | PATH_GPU_CUDA, 8, "bad\tthing\nhappened");
    control_record(fx.c, 0, PATH_PASSTHROUGH, 4, NULL);
    control_record(fx.c, 99, PATH_CPU, 4, "ignored: no such tensor");
    char *text = render(&fx);
    ck_assert_ptr_nonnull(
        strstr(text, "\nw\tf32\t64\t64\tpassthrough,cpu-fallback,gpu-cuda\tbad thing happened\t2"
                     "\t12\n"));
    free(text);
    close_fixture(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tcase_create("serve");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_offset_and_length);
    tcase_add_test(tc, read_ref_without_windows_copies);
    tcase_add_test(tc, unknown_type_fails_with_reason);
    tcase_add_test(tc, model_changed_is_eio);
    tcase_add_test(tc, describe_names_the_read_path);
    tcase_add_test(tc, reasons_are_one_line_fields);
    suite_add_tcase(s, tc);
    return check_run(s);
}
