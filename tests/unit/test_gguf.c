/* test_gguf.c - the GGUF parser on good images and on one hostile image per
 * validation rule (docs/format.md). Images are built in memory by a small
 * builder; each refusal is checked for the rule's message and its location.
 */
#include "format/ggml_types.h"
#include "format/gguf.h"

#include <check.h>
#include "check_run.h"
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------------------------ builder */

struct img {
    uint8_t *b;
    size_t len, cap;
};

static void put(struct img *im, const void *p, size_t n)
{
    if (im->len + n > im->cap) {
        im->cap = (im->len + n) * 2 + 64;
        im->b = realloc(im->b, im->cap);
        ck_assert_ptr_nonnull(im->b);
    }
    if (n)
        memcpy(im->b + im->len, p, n);
    im->len += n;
}

static void put_u8(struct img *im, uint8_t v)
{
    put(im, &v, 1);
}

static void put_u32(struct img *im, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};
    put(im, b, 4);
}

static void put_u64(struct img *im, uint64_t v)
{
    put_u32(im, (uint32_t)v);
    put_u32(im, (uint32_t)(v >> 32));
}

static void put_strn(struct img *im, const char *s, size_t n)
{
    put_u64(im, n);
    put(im, s, n);
}

static void put_str(struct img *im, const char *s)
{
    put_strn(im, s, strlen(s));
}

static void put_zeros(struct img *im, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(im, 0);
}

static void pad_to(struct img *im, size_t align)
{
    put_zeros(im, (align - im->len % align) % align);
}

static void header(struct img *im, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    put(im, "GGUF", 4);
    put_u32(im, version);
    put_u64(im, n_tensors);
    put_u64(im, n_kv);
}

static void kv_u32(struct img *im, const char *key, uint32_t v)
{
    put_str(im, key);
    put_u32(im, 4);
    put_u32(im, v);
}

static void kv_str(struct img *im, const char *key, const char *v)
{
    put_str(im, key);
    put_u32(im, 8);
    put_str(im, v);
}

static void tensor(struct img *im, const char *name, uint32_t n_dims, const uint64_t *ne,
                   uint32_t type, uint64_t offset)
{
    put_str(im, name);
    put_u32(im, n_dims);
    for (uint32_t i = 0; i < n_dims; i++)
        put_u64(im, ne[i]);
    put_u32(im, type);
    put_u64(im, offset);
}

static char err[1024];

static int parse(struct img *im, struct gguf_model **m)
{
    err[0] = '\0';
    return gguf_parse(im->b, im->len, m, err, sizeof(err));
}

/* The image must be refused with a message holding both substrings. */
static void expect_refused(struct img *im, const char *rule, const char *where)
{
    struct gguf_model *m = (void *)1;

    ck_assert_int_eq(parse(im, &m), -1);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, rule), "message '%s' lacks '%s'", err, rule);
    if (where)
        ck_assert_msg(strstr(err, where), "message '%s' lacks '%s'", err, where);
    free(im->b);
}

/* The shape of the small f32 tensor most images carry (32 bytes of data). */
static const uint64_t ne8[1] = {8};

/* ------------------------------------------------------------------ good files */

START_TEST(good_v3_two_tensors)
{
    struct img im = {0};
    struct gguf_model *m;
    const uint64_t ne_q[2] = {64, 2};

    header(&im, 3, 2, 2);
    kv_str(&im, "general.architecture", "llama");
    kv_str(&im, "general.name", "tiny");
    tensor(&im, "a.weight", 1, ne8, GT_F32, 0);
    tensor(&im, "blk.0.q", 2, ne_q, GT_Q4_0, 32);
    pad_to(&im, 32);
    size_t data = im.len;
    put_zeros(&im, 32 + 4 * 18);
    ck_assert_int_eq(parse(&im, &m), 0);
    ck_assert_uint_eq(m->version, 3);
    ck_assert_uint_eq(m->n_kv, 2);
    ck_assert_uint_eq(m->alignment, 32);
    ck_assert_uint_eq(m->data_offset, data);
    ck_assert_int_eq(m->fd, -1);
    ck_assert_int_eq(m->st.st_size, (off_t)im.len);
    ck_assert_str_eq(m->architecture, "llama");
    ck_assert_str_eq(m->model_name, "tiny");
    ck_assert_uint_eq(m->n_tensors, 2);
    ck_assert_str_eq(m->tensors[0].name, "a.weight");
    ck_assert_uint_eq(m->tensors[0].name_len, 8);
    ck_assert_uint_eq(m->tensors[0].offset, data);
    ck_assert_uint_eq(m->tensors[0].nbytes, 32);
    ck_assert_uint_eq(m->tensors[0].n_elements, 8);
    ck_assert_uint_eq(m->tensors[0].ne[1], 1);
    ck_assert_uint_eq(m->tensors[0].ne[3], 1);
    ck_assert_uint_eq(m->tensors[1].type, GT_Q4_0);
    ck_assert_uint_eq(m->tensors[1].n_dims, 2);
    ck_assert_uint_eq(m->tensors[1].offset, data + 32);
    ck_assert_uint_eq(m->tensors[1].nbytes, 72);
    ck_assert_uint_eq(m->tensors[1].n_elements, 128);
    gguf_close(m);
    free(im.b);
}
END_TEST

START_TEST(good_v2_no_metadata)
{
    struct img im = {0};
    struct gguf_model *m;

    header(&im, 2, 1, 0);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    ck_assert_int_eq(parse(&im, &m), 0);
    ck_assert_uint_eq(m->version, 2);
    ck_assert_ptr_null(m->architecture);
    ck_assert_ptr_null(m->model_name);
    gguf_close(m);
    free(im.b);
}
END_TEST

static const uint32_t alignments[] = {1, 2, 8, 32, 64, 4096};

START_TEST(good_alignments)
{
    uint32_t a = alignments[_i];
    struct img im = {0};
    struct gguf_model *m;
    const uint64_t ne_k[1] = {256};
    uint64_t second = (32 + a - 1) / a * a; /* f32 [8] is 32 bytes */

    header(&im, 3, 2, 1);
    kv_u32(&im, "general.alignment", a);
    tensor(&im, "x", 1, ne8, GT_F32, 0);
    tensor(&im, "y", 1, ne_k, GT_Q6_K, second);
    pad_to(&im, a);
    size_t data = im.len;
    put_zeros(&im, second + 210);
    ck_assert_int_eq(parse(&im, &m), 0);
    ck_assert_uint_eq(m->alignment, a);
    ck_assert_uint_eq(m->data_offset, data);
    ck_assert_uint_eq(m->data_offset % a, 0);
    ck_assert_uint_eq(m->tensors[1].offset, data + second);
    ck_assert_uint_eq(m->tensors[1].nbytes, 210);
    gguf_close(m);
    free(im.b);
}
END_TEST

/* One key of every value type, arrays of every element type, an empty
 * array, an array of strings and arrays of arrays. */
static void every_type_kvs(struct img *im)
{
    static const uint8_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    char key[32];

    for (uint32_t t = 0; t <= 12; t++) {
        if (!sizes[t])
            continue;
        snprintf(key, sizeof(key), "s.%u", t);
        put_str(im, key);
        put_u32(im, t);
        put_zeros(im, sizes[t]);
        snprintf(key, sizeof(key), "a.%u", t);
        put_str(im, key);
        put_u32(im, 9);
        put_u32(im, t);
        put_u64(im, 3);
        put_zeros(im, 3 * sizes[t]);
    }
    kv_str(im, "s.str", "hello");
    put_str(im, "a.str"); /* array of 2 strings */
    put_u32(im, 9);
    put_u32(im, 8);
    put_u64(im, 2);
    put_str(im, "x");
    put_str(im, "");
    put_str(im, "a.empty");
    put_u32(im, 9);
    put_u32(im, 4);
    put_u64(im, 0);
    put_str(im, "a.nested"); /* [[u8 1, 2], [str "q"], [[f64 0]]] */
    put_u32(im, 9);
    put_u32(im, 9);
    put_u64(im, 3);
    put_u32(im, 0);
    put_u64(im, 2);
    put_u8(im, 1);
    put_u8(im, 2);
    put_u32(im, 8);
    put_u64(im, 1);
    put_str(im, "q");
    put_u32(im, 9);
    put_u64(im, 1);
    put_u32(im, 12);
    put_u64(im, 1);
    put_zeros(im, 8);
}

START_TEST(good_every_metadata_type)
{
    struct img im = {0};
    struct gguf_model *m;

    header(&im, 3, 1, 11 * 2 + 4);
    every_type_kvs(&im);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    ck_assert_msg(parse(&im, &m) == 0, "%s", err);
    ck_assert_uint_eq(m->n_kv, 26);
    ck_assert_uint_eq(m->n_tensors, 1);
    gguf_close(m);
    free(im.b);
}
END_TEST

START_TEST(good_unknown_type_kept)
{
    struct img im = {0};
    struct gguf_model *m;
    const uint64_t ne[2] = {7, 3};
    char buf[16];

    header(&im, 3, 3, 0);
    tensor(&im, "gone", 2, ne, 31, 0);
    tensor(&im, "future", 1, ne8, 1000, 0);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    ck_assert_msg(parse(&im, &m) == 0, "%s", err);
    ck_assert_uint_eq(m->tensors[0].nbytes, 0);
    ck_assert_uint_eq(m->tensors[0].n_elements, 21);
    ck_assert_uint_eq(m->tensors[1].type, 1000);
    ck_assert_uint_eq(m->tensors[1].nbytes, 0);
    ck_assert_str_eq(ggml_type_name(1000, buf), "type1000");
    ck_assert_ptr_null(ggml_type_find(31));
    gguf_close(m);
    free(im.b);
}
END_TEST

START_TEST(good_no_tensors_and_long_names)
{
    struct img im = {0};
    struct gguf_model *m;
    char name[64];

    memset(name, 'n', 63);
    name[63] = '\0';
    header(&im, 3, 0, 1);
    kv_str(&im, "k", "v");
    ck_assert_int_eq(parse(&im, &m), 0);
    ck_assert_uint_eq(m->n_tensors, 0);
    gguf_close(m);
    free(im.b);

    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, name, 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    ck_assert_int_eq(parse(&im, &m), 0);
    ck_assert_uint_eq(m->tensors[0].name_len, 63);
    gguf_close(m);
    free(im.b);
}
END_TEST

START_TEST(good_type_table)
{
    const struct ggml_type_info *t = ggml_type_find(GT_Q4_0);

    ck_assert_str_eq(t->name, "q4_0");
    ck_assert_uint_eq(t->block_elems, 32);
    ck_assert_uint_eq(t->block_bytes, 18);
    ck_assert_uint_eq(ggml_type_find(GT_Q8_K)->block_bytes, 292);
    ck_assert_uint_eq(ggml_type_find(GT_IQ4_XS)->block_bytes, 136);
    ck_assert_uint_eq(ggml_type_find(GT_MXFP4)->block_bytes, 17);
    ck_assert_uint_eq(ggml_type_find(GT_F64)->block_bytes, 8);
    ck_assert_str_eq(ggml_type_find(GT_BF16)->name, "bf16");
    ck_assert_ptr_null(ggml_type_find(4));
    ck_assert_ptr_null(ggml_type_find(GT_COUNT)); /* 40-42 exist since ggml 0.23 */
}
END_TEST

/* ------------------------------------------------------------------ header rules */

START_TEST(bad_magic)
{
    struct img im = {0};

    put(&im, "GGU", 3);
    expect_refused(&im, "not a GGUF file: 3 bytes, too short for the magic", "(at byte 0)");
    memset(&im, 0, sizeof(im));
    put(&im, "GGUX", 4);
    put_zeros(&im, 20);
    expect_refused(&im, "header: not a GGUF file: magic is 'GGUX'", "(at byte 0)");
    memset(&im, 0, sizeof(im));
    put(&im, "GGUF", 4);
    put_u32(&im, 3);
    expect_refused(&im, "header: truncated: the file has 8 bytes", NULL);
}
END_TEST

START_TEST(bad_version)
{
    struct img im = {0};

    header(&im, 1, 0, 0);
    expect_refused(&im, "GGUF version 1 is not supported", "(at byte 4)");
    memset(&im, 0, sizeof(im));
    header(&im, 4, 0, 0);
    expect_refused(&im, "unsupported GGUF version 4", "(at byte 4)");
    memset(&im, 0, sizeof(im));
    header(&im, 0x03000000, 0, 0);
    expect_refused(&im, "big-endian GGUF is not supported", "(at byte 4)");
}
END_TEST

START_TEST(bad_counts)
{
    struct img im = {0};

    header(&im, 3, (uint64_t)1 << 40, 0);
    expect_refused(&im, "tensor count 1099511627776 cannot fit in the file", "(at byte 8)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, UINT64_MAX);
    put_zeros(&im, 100);
    expect_refused(&im, "key/value count 18446744073709551615 cannot fit", "(at byte 16)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 3); /* room for the tensor, not for 3 more keys */
    put_zeros(&im, 40);
    expect_refused(&im, "key/value count 3 cannot fit", NULL);
}
END_TEST

/* ------------------------------------------------------------------ metadata rules */

START_TEST(bad_key)
{
    struct img im = {0};

    header(&im, 3, 0, 1);
    put_u64(&im, (uint64_t)1 << 60);
    put_zeros(&im, 20);
    expect_refused(&im, "key/value 0: key length 1152921504606846976 exceeds the limit",
                   "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_u64(&im, 100);
    put_zeros(&im, 20);
    expect_refused(&im, "key/value 0: key length 100 exceeds the 20 bytes left", "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_str(&im, "");
    put_u32(&im, 0);
    put_u8(&im, 0);
    put_u8(&im, 0);
    expect_refused(&im, "key/value 0: empty key", "(at byte 24)");
}
END_TEST

START_TEST(bad_value_type)
{
    struct img im = {0};

    header(&im, 3, 0, 1);
    put_str(&im, "k");
    put_u32(&im, 13);
    put_zeros(&im, 8);
    expect_refused(&im, "key/value 0 'k': value type 13 is not a GGUF value type", "(at byte 33)");
}
END_TEST

START_TEST(bad_array)
{
    struct img im = {0};

    header(&im, 3, 0, 1);
    put_str(&im, "k");
    put_u32(&im, 9);
    put_u32(&im, 99);
    put_u64(&im, 1);
    expect_refused(&im, "key/value 0 'k': array element type 99 is not a GGUF value type",
                   "(at byte 37)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_str(&im, "k");
    put_u32(&im, 9);
    put_u32(&im, 4);
    put_u64(&im, 1000000);
    put_zeros(&im, 40);
    expect_refused(&im, "array of 1000000 u32 elements cannot fit in the 40 bytes left", NULL);
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_str(&im, "k");
    put_u32(&im, 9);
    for (int i = 0; i < 20; i++) {
        put_u32(&im, 9);
        put_u64(&im, 1);
    }
    expect_refused(&im, "arrays nested deeper than 8 levels", NULL);
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_str(&im, "k");
    put_u32(&im, 9);
    put_u32(&im, 8);
    put_u64(&im, 2);
    put_str(&im, "ok");
    put_u64(&im, (uint64_t)1 << 60);
    expect_refused(&im, "'k': string value length 1152921504606846976 exceeds the limit", NULL);
}
END_TEST

START_TEST(bad_value_truncated)
{
    struct img im = {0};

    header(&im, 3, 0, 2);
    kv_u32(&im, "a", 1);
    put_str(&im, "b");
    put_u32(&im, 8);
    put_u64(&im, 50);
    put_zeros(&im, 5);
    expect_refused(&im, "key/value 1 'b': string value length 50 exceeds the 5 bytes left",
                   "(at byte 54)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    put_str(&im, "abc");
    put_u32(&im, 12);
    put_zeros(&im, 3);
    expect_refused(&im, "key/value 0 'abc': truncated: value needs 8 bytes but only 3 remain",
                   "(at byte 39)");
}
END_TEST

START_TEST(bad_duplicate_key)
{
    struct img im = {0};

    header(&im, 3, 0, 3);
    kv_u32(&im, "a", 1);
    kv_u32(&im, "b", 1);
    kv_str(&im, "a", "again");
    expect_refused(&im, "key/value 2 'a': duplicate key (first defined by key/value 0)",
                   "(at byte 58)");
}
END_TEST

/* ggml reads keys as C strings: "general.alignment\0X" is its alignment,
 * and no duplicate of a real "general.alignment" (it compares whole
 * strings). Any key holding a NUL is refused, whatever follows it. */
START_TEST(bad_key_nul)
{
    struct img im = {0};
    static const char alignment_x[] = "general.alignment\0X";

    header(&im, 3, 0, 1);
    put_strn(&im, alignment_x, sizeof(alignment_x) - 1);
    put_u32(&im, 4);
    put_u32(&im, 64);
    expect_refused(&im,
                   "key/value 0 'general.alignment\\x00X': key contains a NUL byte at offset 17 "
                   "of 19",
                   "(at byte 24)");
    /* before a real general.alignment: the NUL is the reason, not a clash */
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 2);
    kv_u32(&im, "general.name.len", 1);
    put_strn(&im, alignment_x, sizeof(alignment_x) - 1);
    put_u32(&im, 4);
    put_u32(&im, 64);
    kv_u32(&im, "general.alignment", 128);
    expect_refused(&im, "key/value 1 'general.alignment\\x00X': key contains a NUL byte", NULL);
    /* the other keys gguffs reads, and a key that is only a NUL */
    static const char *const keys[] = {"general.architecture\0", "general.name\0x", "\0"};
    static const size_t lens[] = {21, 15, 1};
    for (size_t i = 0; i < 3; i++) {
        memset(&im, 0, sizeof(im));
        header(&im, 3, 0, 1);
        put_strn(&im, keys[i], lens[i]);
        put_u32(&im, 8);
        put_str(&im, "llama");
        expect_refused(&im, "key contains a NUL byte", "key/value 0");
    }
}
END_TEST

START_TEST(bad_alignment)
{
    struct img im = {0};

    header(&im, 3, 0, 1);
    put_str(&im, "general.alignment");
    put_u32(&im, 10);
    put_u64(&im, 32);
    expect_refused(&im, "key/value 0 'general.alignment': must be of type u32, not u64",
                   "(at byte 49)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    kv_u32(&im, "general.alignment", 48);
    expect_refused(&im, "'general.alignment': alignment 48 is not a non-zero power of two", NULL);
    memset(&im, 0, sizeof(im));
    header(&im, 3, 0, 1);
    kv_u32(&im, "general.alignment", 0);
    expect_refused(&im, "'general.alignment': alignment 0 is not a non-zero power of two", NULL);
}
END_TEST

/* ------------------------------------------------------------------ tensor info rules */

START_TEST(bad_tensor_name)
{
    struct img im = {0};
    char name[65];

    memset(name, 'x', 64);
    name[64] = '\0';
    header(&im, 3, 1, 0);
    tensor(&im, name, 1, ne8, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "name is 64 bytes long, it must be shorter than 64", "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "", 1, ne8, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0: empty tensor name", "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    put_strn(&im, "a\0b", 3);
    put_u32(&im, 1);
    put_u64(&im, 8);
    put_u32(&im, 0);
    put_u64(&im, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0 'a\\x00b': name contains a NUL byte", "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    put_u64(&im, 1000);
    put_zeros(&im, 40);
    expect_refused(&im, "tensor 0: tensor name length 1000 exceeds the 40 bytes left", NULL);
}
END_TEST

START_TEST(bad_duplicate_tensor)
{
    struct img im = {0};

    header(&im, 3, 3, 0);
    tensor(&im, "w", 1, ne8, GT_F32, 0);
    tensor(&im, "v", 1, ne8, GT_F32, 32);
    tensor(&im, "w", 1, ne8, GT_F32, 64);
    pad_to(&im, 32);
    put_zeros(&im, 96);
    expect_refused(&im, "tensor 2 'w': duplicate tensor name (first used by tensor 0)",
                   "(at byte 90)");
}
END_TEST

START_TEST(bad_n_dims)
{
    struct img im = {0};
    const uint64_t ne[5] = {8, 1, 1, 1, 1};

    header(&im, 3, 1, 0);
    tensor(&im, "t", 5, ne, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0 't': n_dims 5 is not in 1..4", "(at byte 33)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 0, ne, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0 't': n_dims 0 is not in 1..4", NULL);
}
END_TEST

START_TEST(bad_dimensions)
{
    struct img im = {0};
    const uint64_t zero[2] = {8, 0};
    const uint64_t neg[1] = {(uint64_t)1 << 63};
    const uint64_t big[3] = {(uint64_t)1 << 32, (uint64_t)1 << 20, (uint64_t)1 << 12};
    const uint64_t fp32[1] = {(uint64_t)1 << 62};

    header(&im, 3, 1, 0);
    tensor(&im, "t", 2, zero, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0 't': ne[1] = 0 is out of range (1..INT64_MAX)", "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, neg, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "ne[0] = 9223372036854775808 is out of range", NULL);
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 3, big, GT_F32, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "element count of shape [4294967296, 1048576, 4096] overflows int64", NULL);
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, fp32, GT_I8, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "the FP32 image of shape [4611686018427387904]", NULL);
}
END_TEST

START_TEST(bad_block_multiple)
{
    struct img im = {0};
    const uint64_t ne[2] = {33, 2};
    const uint64_t huge[1] = {(uint64_t)1 << 60};

    header(&im, 3, 1, 0);
    tensor(&im, "q", 2, ne, GT_Q4_0, 0);
    put_zeros(&im, 64);
    expect_refused(&im,
                   "tensor 0 'q': ne[0] = 33 is not a multiple of the block size 32 of "
                   "type q4_0",
                   "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "d", 1, huge, GT_F64, 0);
    put_zeros(&im, 64);
    expect_refused(&im, "data size of 1152921504606846976 f64 elements overflows int64", NULL);
}
END_TEST

START_TEST(bad_offset_alignment)
{
    struct img im = {0};

    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, ne8, GT_F32, 4);
    pad_to(&im, 32);
    put_zeros(&im, 64);
    expect_refused(&im, "tensor 0 't': data offset 4 is not a multiple of the alignment 32",
                   "(at byte 49)");
}
END_TEST

START_TEST(bad_tensor_truncated)
{
    struct img im = {0};
    const uint64_t ne[3] = {8, 1, 1};

    header(&im, 3, 1, 0);
    tensor(&im, "a_long_tensor_name", 3, ne, GT_F32, 0);
    im.len -= 4;
    expect_refused(&im,
                   "tensor 0 'a_long_tensor_name': truncated: tensor data offset needs 8 "
                   "bytes but only 4 remain",
                   NULL);
}
END_TEST

/* ------------------------------------------------------------------ data layout rules */

START_TEST(bad_data_section)
{
    struct img im = {0};

    header(&im, 3, 1, 1);
    kv_u32(&im, "general.alignment", 4096);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    put_zeros(&im, 100);
    expect_refused(&im, "data section: starts at byte 4096", "past the end of the file");
}
END_TEST

START_TEST(bad_tensor_past_end)
{
    struct img im = {0};
    const uint64_t ne[1] = {64};

    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, ne, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 255);
    expect_refused(&im,
                   "tensor 0 't': data at offset 0 + 256 bytes (data section at byte 64) "
                   "extends past the end of the file (319 bytes)",
                   "(at byte 24)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, ne, GT_F32, UINT64_MAX - 31);
    pad_to(&im, 32);
    put_zeros(&im, 256);
    expect_refused(&im, "data at offset 18446744073709551584 + 256 bytes", "extends past the end");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 2, 0);
    tensor(&im, "z", 1, ne, GT_F32, 4096); /* both out: the first in file order is named */
    tensor(&im, "a", 1, ne, GT_F32, 8192);
    pad_to(&im, 32);
    expect_refused(&im, "tensor 0 'z': data at offset 4096", "extends past the end");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 1, 0);
    tensor(&im, "u", 1, ne, 77, 4096); /* unknown type: no bytes, offset still checked */
    pad_to(&im, 32);
    expect_refused(&im, "tensor 0 'u': data at offset 4096 + 0 bytes", "extends past the end");
}
END_TEST

START_TEST(bad_overlap)
{
    struct img im = {0};
    const uint64_t ne[1] = {16};

    header(&im, 3, 3, 0);
    tensor(&im, "a", 1, ne, GT_F32, 64);
    tensor(&im, "b", 1, ne8, GT_F32, 0);
    tensor(&im, "c", 1, ne8, GT_F32, 96); /* a is [64, 128): c starts inside it */
    pad_to(&im, 32);
    put_zeros(&im, 128);
    expect_refused(&im, "tensor 2 'c': data [224, 256) overlaps tensor 0 'a' [192, 256)",
                   "(at byte 90)");
    memset(&im, 0, sizeof(im));
    header(&im, 3, 2, 0);
    tensor(&im, "a", 1, ne8, GT_F32, 0);
    tensor(&im, "b", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    expect_refused(&im, "tensor 1 'b': data [96, 128) overlaps tensor 0 'a' [96, 128)",
                   "(at byte 57)");
}
END_TEST

/* ------------------------------------------------------------------ gguf_open */

static char tmpdir[] = "/tmp/gguffs-test-gguf-XXXXXX";

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void expect_open_refused(const char *path, const char *rule)
{
    struct gguf_model *m = (void *)1;

    ck_assert_int_eq(gguf_open(path, &m, err, sizeof(err)), -1);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, rule), "message '%s' lacks '%s'", err, rule);
}

START_TEST(open_files)
{
    struct img im = {0};
    struct gguf_model *m;
    char path[256];

    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    expect_open_refused(tmpdir, "is a directory, not a GGUF file");
    expect_open_refused("/dev/null", "is a character device, not a GGUF file");
    snprintf(path, sizeof(path), "%s/missing.gguf", tmpdir);
    expect_open_refused(path, "cannot open: No such file or directory");
    snprintf(path, sizeof(path), "%s/empty.gguf", tmpdir);
    write_file(path, "", 0);
    expect_open_refused(path, "empty file (0 bytes), not a GGUF model");
    snprintf(path, sizeof(path), "%s/small.gguf", tmpdir);
    write_file(path, "GGUF\3\0\0\0", 8);
    expect_open_refused(path, "header: truncated: the file has 8 bytes, a GGUF header needs 24");
    snprintf(path, sizeof(path), "%s/text.gguf", tmpdir);
    write_file(path, "this is not a model, just some text\n", 36);
    expect_open_refused(path, "not a GGUF file: magic is 'this'");

    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    snprintf(path, sizeof(path), "%s/good.gguf", tmpdir);
    write_file(path, im.b, im.len);
    ck_assert_int_eq(gguf_open(path, &m, err, sizeof(err)), 0);
    ck_assert_int_ge(m->fd, 0);
    ck_assert_str_eq(m->path, path);
    ck_assert_int_eq(m->st.st_size, (off_t)im.len);
    ck_assert_uint_eq(m->tensors[0].offset, 64);
    ck_assert_int_eq(fcntl(m->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    gguf_close(m);
    free(im.b);
    unlink(path);
    const char *names[] = {"empty.gguf", "small.gguf", "text.gguf"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}
END_TEST

/* A FIFO with no writer: a plain open() would block forever. The test's
 * timeout (Check's default, 4 s) catches a hang. A socket, likewise. */
START_TEST(open_not_regular)
{
    char path[256], dir[] = "/tmp/gguffs-test-gguf-XXXXXX";

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fifo.gguf", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_open_refused(path, "is a FIFO, not a GGUF file");
    unlink(path);
    snprintf(path, sizeof(path), "%s/sock.gguf", dir);
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ck_assert_int_ge(sfd, 0);
    ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    expect_open_refused(path, "cannot open: No such device or address");
    close(sfd);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* A model's fd is blocking: O_NONBLOCK was only for the open. */
START_TEST(open_fd_blocking)
{
    struct img im = {0};
    struct gguf_model *m;
    char path[256], dir[] = "/tmp/gguffs-test-gguf-XXXXXX";

    ck_assert_ptr_nonnull(mkdtemp(dir));
    header(&im, 3, 1, 0);
    tensor(&im, "t", 1, ne8, GT_F32, 0);
    pad_to(&im, 32);
    put_zeros(&im, 32);
    snprintf(path, sizeof(path), "%s/good.gguf", dir);
    write_file(path, im.b, im.len);
    ck_assert_int_eq(gguf_open(path, &m, err, sizeof(err)), 0);
    ck_assert_int_eq(fcntl(m->fd, F_GETFL) & O_NONBLOCK, 0);
    gguf_close(m);
    free(im.b);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* Files from tests/tools/gguf_writer.py (sample, random of every type,
 * several alignments, v2 and v3, nested arrays) must all parse. */
START_TEST(writer_files)
{
    const char *py = getenv("PYTHON"), *src = getenv("SRCDIR");
    static const char *const args[] = {
        "sample %s",
        "random %s --seed 1",
        "random %s --seed 2 --alignment 1 --version 2",
        "random %s --seed 3 --alignment 4096 --nested",
        "random %s --seed 4 --alignment 64 --max-elements 300",
    };
    char path[] = "/tmp/gguffs-test-writer-XXXXXX", cmd[1024], a[256];
    int fd;

    if (!py || !src)
        return; /* run outside meson: nothing to call */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        struct gguf_model *m;
        snprintf(a, sizeof(a), args[i], path);
        snprintf(cmd, sizeof(cmd), "%s %s/tests/tools/gguf_writer.py %s", py, src, a);
        ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
        ck_assert_msg(gguf_open(path, &m, err, sizeof(err)) == 0, "%s: %s", a, err);
        ck_assert_uint_gt(m->n_tensors, 0);
        ck_assert_str_eq(m->architecture, "llama");
        gguf_close(m);
    }
    unlink(path);
}
END_TEST

static Suite *gguf_suite(void)
{
    Suite *s = suite_create("gguf");
    TCase *good = tcase_create("good"), *bad = tcase_create("hostile");
    TCase *files = tcase_create("files");

    tcase_add_test(good, good_v3_two_tensors);
    tcase_add_test(good, good_v2_no_metadata);
    tcase_add_loop_test(good, good_alignments, 0, sizeof(alignments) / sizeof(alignments[0]));
    tcase_add_test(good, good_every_metadata_type);
    tcase_add_test(good, good_unknown_type_kept);
    tcase_add_test(good, good_no_tensors_and_long_names);
    tcase_add_test(good, good_type_table);
    tcase_add_test(bad, bad_magic);
    tcase_add_test(bad, bad_version);
    tcase_add_test(bad, bad_counts);
    tcase_add_test(bad, bad_key);
    tcase_add_test(bad, bad_value_type);
    tcase_add_test(bad, bad_array);
    tcase_add_test(bad, bad_value_truncated);
    tcase_add_test(bad, bad_duplicate_key);
    tcase_add_test(bad, bad_key_nul);
    tcase_add_test(bad, bad_alignment);
    tcase_add_test(bad, bad_tensor_name);
    tcase_add_test(bad, bad_duplicate_tensor);
    tcase_add_test(bad, bad_n_dims);
    tcase_add_test(bad, bad_dimensions);
    tcase_add_test(bad, bad_block_multiple);
    tcase_add_test(bad, bad_offset_alignment);
    tcase_add_test(bad, bad_tensor_truncated);
    tcase_add_test(bad, bad_data_section);
    tcase_add_test(bad, bad_tensor_past_end);
    tcase_add_test(bad, bad_overlap);
    tcase_add_test(files, open_files);
    tcase_add_test(files, open_not_regular);
    tcase_add_test(files, open_fd_blocking);
    tcase_add_test(files, writer_files);
    tcase_set_timeout(files, 60);
    suite_add_tcase(s, good);
    suite_add_tcase(s, bad);
    suite_add_tcase(s, files);
    return s;
}

int main(void)
{
    return check_run(gguf_suite());
}
