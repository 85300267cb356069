/* test_namespace.c - the tree (namespace.c), the control file's snapshots
 * (snapshot.c) and the metadata formatting (kv_format.c). */
#include "format/gguf.h"
#include "fs/kv_format.h"
#include "fs/namespace.h"
#include "fs/snapshot.h"

#include <check.h>
#include "../unit/check_run.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(lookup_is_per_directory)
{
    struct ns *ns = ns_new();
    uint64_t d = ns_add_dir(ns, NS_ROOT, ".npy");
    struct ns_seg s = {.kind = SEG_LITERAL, .bytes = "abc", .len = 3};
    uint64_t a = ns_add_file(ns, NS_ROOT, "x", 7, &s, 1);
    uint64_t b = ns_add_file(ns, d, "x", -1, &s, 1);
    ck_assert(d != 0 && a != 0 && b != 0 && a != b);
    ck_assert_uint_eq(ns_lookup(ns, NS_ROOT, "x"), a);
    ck_assert_uint_eq(ns_lookup(ns, d, "x"), b);
    ck_assert_uint_eq(ns_lookup(ns, d, "y"), 0);
    ck_assert_uint_eq(ns_lookup(ns, a, "x"), 0);
    ck_assert_int_eq(ns_tag(ns, a), 7);
    ck_assert_uint_eq(ns_parent(ns, b), d);
    ck_assert_uint_eq(ns_nchildren(ns, NS_ROOT), 2);
    ck_assert_uint_eq(ns_child(ns, NS_ROOT, 0), d);
    ck_assert_uint_eq(ns_child(ns, NS_ROOT, 1), a);
    ck_assert_uint_eq(ns_child(ns, NS_ROOT, 2), 0);
    ck_assert_ptr_null(ns_error(ns));
    ns_free(ns);
}
END_TEST

START_TEST(errors_are_sticky)
{
    struct ns *ns = ns_new();
    ck_assert_uint_ne(ns_add_dir(ns, NS_ROOT, "a"), 0);
    ck_assert_uint_eq(ns_add_dir(ns, NS_ROOT, "a"), 0); /* taken */
    ck_assert_ptr_nonnull(ns_error(ns));
    ck_assert_uint_eq(ns_add_dir(ns, NS_ROOT, "b"), 0); /* and nothing after */
    ck_assert_uint_eq(ns_lookup(ns, NS_ROOT, "b"), 0);
    ns_free(ns);

    ns = ns_new();
    struct ns_seg s = {.kind = SEG_LITERAL, .bytes = "z", .len = 1};
    uint64_t f = ns_add_file(ns, NS_ROOT, "f", -1, &s, 1);
    ck_assert_uint_eq(ns_add_dir(ns, f, "under-a-file"), 0);
    ck_assert_ptr_nonnull(strstr(ns_error(ns), "not a directory"));
    ns_free(ns);
}
END_TEST

/* Many files of many segments: sizes add up, the segment of each offset is
 * found, literals are copies, and the tables survive growth. */
START_TEST(segments_by_offset)
{
    struct ns *ns = ns_new();
    char lit[32];
    const uint64_t files = 5000;
    for (uint64_t i = 0; i < files; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%llu", (unsigned long long)i);
        snprintf(lit, sizeof(lit), "head%llu", (unsigned long long)i % 7);
        ns_file_begin(ns, NS_ROOT, name, (int64_t)i);
        ns_file_literal(ns, lit, strlen(lit));
        ns_file_tensor(ns, i, DTYPE_F32, 8, 100 + i);
        ns_file_literal(ns, "", 0); /* empty: no segment */
        ns_file_tensor(ns, i + 1, DTYPE_F16, 0, 3);
        ck_assert_uint_ne(ns_file_end(ns), 0);
    }
    memset(lit, 'X', sizeof(lit)); /* the tree kept its own copy */
    ck_assert_ptr_null(ns_error(ns));
    for (uint64_t i = 0; i < files; i += 97) {
        char name[32];
        snprintf(name, sizeof(name), "f%llu", (unsigned long long)i);
        uint64_t ino = ns_lookup(ns, NS_ROOT, name);
        ck_assert_uint_ne(ino, 0);
        const struct ns_seg *sg;
        size_t n = ns_segments(ns, ino, &sg);
        size_t hl = 5;
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(ns_size(ns, ino), hl + 100 + i + 3);
        ck_assert_mem_eq(sg[0].bytes, "head", 4);
        ck_assert_int_eq(sg[0].bytes[4], '0' + (int)(i % 7));
        ck_assert_uint_eq(ns_seg_find(sg, n, 0), 0);
        ck_assert_uint_eq(ns_seg_find(sg, n, hl - 1), 0);
        ck_assert_uint_eq(ns_seg_find(sg, n, hl), 1);
        ck_assert_uint_eq(ns_seg_find(sg, n, hl + 100 + i - 1), 1);
        ck_assert_uint_eq(ns_seg_find(sg, n, hl + 100 + i), 2);
        ck_assert_uint_eq(ns_seg_find(sg, n, hl + 100 + i + 3), 3); /* the end */
        ck_assert_uint_eq(sg[1].tensor, i);
        ck_assert_uint_eq(sg[1].off, 8);
        ck_assert_int_eq(sg[2].dt, DTYPE_F16);
    }
    ns_free(ns);
}
END_TEST

START_TEST(sizes_saturate)
{
    struct ns *ns = ns_new();
    ns_file_begin(ns, NS_ROOT, "huge", -1);
    ns_file_tensor(ns, 0, DTYPE_F32, 0, (uint64_t)INT64_MAX - 3);
    ns_file_tensor(ns, 1, DTYPE_F32, 0, (uint64_t)INT64_MAX - 3);
    uint64_t ino = ns_file_end(ns);
    ck_assert_uint_eq(ns_size(ns, ino), INT64_MAX);
    ns_file_begin(ns, NS_ROOT, "huge2", -1);
    ns_file_tensor(ns, 0, DTYPE_F32, 0, (uint64_t)INT64_MAX);
    ns_file_end(ns);
    ns_file_begin(ns, NS_ROOT, "huge3", -1);
    ns_file_tensor(ns, 0, DTYPE_F32, 0, (uint64_t)INT64_MAX);
    ns_file_end(ns);
    ck_assert_uint_eq(ns_total_bytes(ns), UINT64_MAX);
    ns_free(ns);
}
END_TEST

/* ------------------------------------------------------------------ snapshots */

struct fake {
    uint64_t stamp;
    int renders;
};

static char *fake_render(void *arg, size_t *len)
{
    struct fake *f = arg;
    char *s = malloc(32);
    ck_assert_ptr_nonnull(s);
    *len =
        (size_t)snprintf(s, 32, "render %d at %llu\n", ++f->renders, (unsigned long long)f->stamp);
    return s;
}

static uint64_t fake_stamp(void *arg)
{
    return ((struct fake *)arg)->stamp;
}

/* Made files: nothing is made while building; the first stat or segment
 * query makes the text, once, from any of 8 threads at once; a maker that
 * fails leaves an empty file that says ENOMEM when readied. */
static _Atomic int makes;

static int make_text(const void *arg, uint64_t key, struct text *tx)
{
    makes++;
    if (key == 0)
        return -1;
    text_printf(tx, "%s %llu\n", (const char *)arg, (unsigned long long)key);
    return 0;
}

static void *stat_made(void *arg)
{
    struct ns *ns = arg;
    uint64_t ino = ns_lookup(ns, NS_ROOT, "made");
    return (void *)(uintptr_t)ns_size(ns, ino);
}

START_TEST(made_files_are_made_once_when_needed)
{
    struct ns *ns = ns_new();
    makes = 0;
    uint64_t a = ns_add_made(ns, NS_ROOT, "made", &(struct ns_maker){make_text, "text", 42});
    uint64_t b = ns_add_made(ns, NS_ROOT, "fails", &(struct ns_maker){make_text, "text", 0});
    ck_assert(a != 0 && b != 0);
    ck_assert_ptr_null(ns_error(ns));
    ck_assert_int_eq(makes, 0);
    ck_assert_int_eq(ns_kind(ns, a), NS_FILE);

    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, stat_made, ns), 0);
    for (int i = 0; i < 8; i++) {
        void *size;
        pthread_join(th[i], &size);
        ck_assert_uint_eq((uintptr_t)size, 8);
    }
    ck_assert_int_eq(makes, 1);
    const struct ns_seg *sg;
    ck_assert_uint_eq(ns_segments(ns, a, &sg), 1);
    ck_assert_uint_eq(sg->kind, SEG_LITERAL);
    ck_assert_uint_eq(sg->end, 8);
    ck_assert_mem_eq(sg->bytes, "text 42\n", 8);
    ck_assert_int_eq(ns_ready(ns, a), 0);
    ck_assert_int_eq(makes, 1);

    ck_assert_int_eq(ns_ready(ns, b), -ENOMEM);
    ck_assert_uint_eq(ns_size(ns, b), 0);
    ck_assert_uint_eq(ns_segments(ns, b, &sg), 0);
    ck_assert_int_eq(makes, 2);
    ck_assert_int_eq(ns_ready(ns, NS_ROOT), 0);
    ns_free(ns);
}
END_TEST

START_TEST(snapshots_are_shared_while_current)
{
    struct fake f = {0};
    struct snapshots *s = snapshots_new(fake_render, fake_stamp, &f, 4);
    struct ns_source src = snapshots_source(s);
    uint64_t size = src.size(src.arg);
    const struct ns_blob *a = src.get(src.arg), *b = src.get(src.arg);
    ck_assert_int_eq(f.renders, 1); /* stat and two opens: one rendering */
    ck_assert_ptr_eq(a, b);
    ck_assert_uint_eq(size, a->len);
    f.stamp++;
    const struct ns_blob *c = src.get(src.arg);
    ck_assert_ptr_ne(c, a);
    ck_assert_int_eq(f.renders, 2);
    ck_assert_mem_eq(a->bytes, "render 1", 8); /* the old one stays whole */
    src.put(src.arg, a);
    src.put(src.arg, b);
    src.put(src.arg, c);
    ck_assert_uint_eq(snapshots_held(s), 1); /* the newest, kept for the next */
    snapshots_free(s);
}
END_TEST

START_TEST(snapshots_are_capped)
{
    struct fake f = {0};
    struct snapshots *s = snapshots_new(fake_render, fake_stamp, &f, 3);
    struct ns_source src = snapshots_source(s);
    const struct ns_blob *held[10];
    for (int i = 0; i < 10; i++) {
        f.stamp++;
        held[i] = src.get(src.arg);
        ck_assert_ptr_nonnull(held[i]);
        ck_assert_uint_le(snapshots_held(s), 3);
    }
    ck_assert_int_eq(f.renders, 3);
    ck_assert_ptr_eq(held[9], held[2]); /* past the cap: the newest */
    for (int i = 0; i < 10; i++)
        src.put(src.arg, held[i]);
    f.stamp++;
    const struct ns_blob *n = src.get(src.arg); /* room again: fresh */
    ck_assert_int_eq(f.renders, 4);
    src.put(src.arg, n);
    ck_assert_uint_eq(snapshots_held(s), 1);
    snapshots_free(s);
}
END_TEST

/* ------------------------------------------------------------------ kv_format */

static void expect_plain(uint32_t type, const void *v, size_t len, const char *want)
{
    struct text tx = {0};
    ck_assert_int_eq(kv_plain(&tx, type, v, len), 0);
    ck_assert_str_eq(tx.buf ? tx.buf : "", want);
    text_free(&tx);
}

START_TEST(values_as_text)
{
    float eps = 1e-6f;
    double tenth = 0.1;
    int16_t neg = -2;
    uint8_t yes = 1;
    expect_plain(GGUF_VALUE_FLOAT32, &eps, 4, "1e-06\n");
    expect_plain(GGUF_VALUE_FLOAT64, &tenth, 8, "0.1\n");
    expect_plain(GGUF_VALUE_INT16, &neg, 2, "-2\n");
    expect_plain(GGUF_VALUE_BOOL, &yes, 1, "true\n");
    const uint8_t arr[] = {8, 0, 0, 0, 2,   0, 0, 0, 0, 0, 0, 0, 1, 0,   0,  0,
                           0, 0, 0, 0, 'a', 2, 0, 0, 0, 0, 0, 0, 0, 'b', '"'};
    expect_plain(GGUF_VALUE_ARRAY, arr, sizeof(arr), "a\nb\"\n");
    struct text tx = {0};
    ck_assert_int_eq(kv_json(&tx, GGUF_VALUE_ARRAY, arr, sizeof(arr)), 0);
    ck_assert_str_eq(tx.buf, "[\"a\", \"b\\\"\"]");
    text_free(&tx);
    /* A value that ends early is refused, not overrun. */
    ck_assert_int_eq(kv_plain(&tx, GGUF_VALUE_ARRAY, arr, sizeof(arr) - 1), -1);
    ck_assert_int_eq(kv_plain(&tx, GGUF_VALUE_UINT64, arr, 7), -1);
    text_free(&tx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("namespace");
    TCase *tc = tcase_create("namespace");
    tcase_add_test(tc, lookup_is_per_directory);
    tcase_add_test(tc, errors_are_sticky);
    tcase_add_test(tc, segments_by_offset);
    tcase_add_test(tc, sizes_saturate);
    tcase_add_test(tc, made_files_are_made_once_when_needed);
    tcase_add_test(tc, snapshots_are_shared_while_current);
    tcase_add_test(tc, snapshots_are_capped);
    tcase_add_test(tc, values_as_text);
    suite_add_tcase(s, tc);
    return check_run(s);
}
