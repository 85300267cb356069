/* test_names.c - the tensor name <-> file name mapping (names.c). */
#include "fs/names.h"

#include <check.h>
#include "check_run.h"
#include <stdlib.h>
#include <string.h>

static void roundtrip(const char *name, size_t len, const char *want)
{
    char enc[NAMES_ENCODED_MAX(64)], dec[128];
    int n = names_encode(name, len, enc, sizeof(enc));
    ck_assert_int_ge(n, 1);
    ck_assert_str_eq(enc, want);
    ck_assert_uint_eq((size_t)n, strlen(want));
    int m = names_decode(enc, dec, sizeof(dec));
    ck_assert_int_eq(m, (int)len);
    ck_assert_mem_eq(dec, name, len);
}

START_TEST(plain_names_are_unchanged)
{
    roundtrip("blk.0.attn_q.weight", 19, "blk.0.attn_q.weight");
    roundtrip("token_embd.weight", 17, "token_embd.weight");
    roundtrip("a.b.", 4, "a.b.");
    roundtrip("caf\xc3\xa9", 5, "caf\xc3\xa9"); /* UTF-8 stays readable */
}
END_TEST

START_TEST(special_bytes_are_escaped)
{
    roundtrip("a/b", 3, "a%2Fb");
    roundtrip("100%", 4, "100%25");
    roundtrip(".control", 8, "%2Econtrol");
    roundtrip(".", 1, "%2E");
    roundtrip("..", 2, "%2E.");
    roundtrip("..x/..", 6, "%2E.x%2F..");
    roundtrip("tab\there", 8, "tab%09here");
    roundtrip("nl\n", 3, "nl%0A");
    roundtrip("del\x7f", 4, "del%7F");
    roundtrip("\x01", 1, "%01");
    roundtrip("", 0, "%00");
    roundtrip("%2F", 3, "%252F"); /* an escape-looking name is not decoded */
}
END_TEST

START_TEST(no_file_name_is_special)
{
    /* Every byte string of length 1 and 2 maps to a name that is not ".",
     * "..", hidden, or holding '/', and comes back unchanged. */
    char name[2], enc[16], dec[8];
    for (int a = 1; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            size_t len = b == 0 ? 1 : 2;
            name[0] = (char)a;
            name[1] = (char)b;
            int n = names_encode(name, len, enc, sizeof(enc));
            ck_assert_int_gt(n, 0);
            ck_assert(enc[0] != '.');
            ck_assert_ptr_null(strchr(enc, '/'));
            for (int i = 0; i < n; i++)
                ck_assert((unsigned char)enc[i] >= 0x20 && enc[i] != 0x7f);
            ck_assert_int_eq(names_decode(enc, dec, sizeof(dec)), (int)len);
            ck_assert_mem_eq(dec, name, len);
        }
    }
}
END_TEST

START_TEST(decode_refuses_non_canonical)
{
    char out[64];
    ck_assert_int_eq(names_decode("", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode(".control", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("a/b", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("%41", out, sizeof(out)), -1); /* 'A' needs no escape */
    ck_assert_int_eq(names_decode("%2f", out, sizeof(out)), -1); /* lower-case hex */
    ck_assert_int_eq(names_decode("a%2", out, sizeof(out)), -1); /* truncated */
    ck_assert_int_eq(names_decode("a%", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("a%G0", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("a%00", out, sizeof(out)), -1); /* NUL inside */
    ck_assert_int_eq(names_decode("a%2E", out, sizeof(out)), -1); /* '.' only first */
    ck_assert_int_eq(names_decode("a\tb", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("%", out, sizeof(out)), -1);
}
END_TEST

START_TEST(buffers_too_small_fail)
{
    char out[4];
    ck_assert_int_eq(names_encode("abcd", 4, out, sizeof(out)), -1);
    ck_assert_int_eq(names_encode("abc", 3, out, sizeof(out)), 3);
    ck_assert_int_eq(names_encode("a/", 2, out, sizeof(out)), -1);
    ck_assert_int_eq(names_encode("a\0b", 3, out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("abcd", out, sizeof(out)), -1);
    ck_assert_int_eq(names_decode("abc", out, sizeof(out)), 3);

    /* The documented bound holds for the worst case. */
    char worst[63], enc[NAMES_ENCODED_MAX(63)];
    memset(worst, '/', sizeof(worst));
    ck_assert_int_eq(names_encode(worst, sizeof(worst), enc, sizeof(enc)), 189);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, plain_names_are_unchanged);
    tcase_add_test(tc, special_bytes_are_escaped);
    tcase_add_test(tc, no_file_name_is_special);
    tcase_add_test(tc, decode_refuses_non_canonical);
    tcase_add_test(tc, buffers_too_small_fail);
    suite_add_tcase(s, tc);
    return check_run(s);
}
