/* model_split.c - see model_split.h.
 *
 * The shard named on the command line is opened first; its split.* keys
 * and its name give every other shard's name. Each shard is checked before
 * the next is opened, so the first problem is the one reported. The join
 * keeps the first shard's model and moves the other shards' tensors (and
 * their fds) into it; their metadata, which gguf-split leaves empty but for
 * split.*, is dropped.
 */
#include "format/model_split.h"

#include "format/gguf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPLIT_SUFFIX_LEN 20 /* "-NNNNN-of-MMMMM.gguf" */

/* A shard's split.* keys. */
struct split_keys {
    bool present; /* split.count is there */
    uint32_t no, count;
    int64_t total;
};

/* ------------------------------------------------------------------ keys */

static const struct gguf_kv *find_key(const struct gguf_model *m, const char *key)
{
    for (uint64_t i = 0; i < m->n_kv; i++)
        if (m->kv[i].key_len == strlen(key) && memcmp(m->kv[i].key, key, m->kv[i].key_len) == 0)
            return &m->kv[i];
    return NULL;
}

/* The key's value, which must be of type `type` (u16 or i32, as gguf-split
 * writes them). 0, or -1 with err. */
static int int_key(const struct gguf_model *m, const char *key, uint32_t type, int64_t *v,
                   char *err, size_t errlen)
{
    const struct gguf_kv *kv = find_key(m, key);
    if (kv == NULL) {
        snprintf(err, errlen, "%s: split.count is set but %s is missing", m->path, key);
        return -1;
    }
    if (kv->type != type) {
        snprintf(err, errlen, "%s: %s has value type %" PRIu32 ", not %s", m->path, key, kv->type,
                 type == GGUF_VALUE_UINT16 ? "u16" : "i32");
        return -1;
    }
    const uint8_t *p = kv->value;
    if (type == GGUF_VALUE_UINT16)
        *v = (int64_t)(p[0] | p[1] << 8);
    else
        *v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24);
    return 0;
}

static int read_keys(const struct gguf_model *m, struct split_keys *k, char *err, size_t errlen)
{
    int64_t no, count;

    *k = (struct split_keys){0};
    if (find_key(m, "split.count") == NULL)
        return 0;
    if (int_key(m, "split.count", GGUF_VALUE_UINT16, &count, err, errlen) != 0 ||
        int_key(m, "split.no", GGUF_VALUE_UINT16, &no, err, errlen) != 0 ||
        int_key(m, "split.tensors.count", GGUF_VALUE_INT32, &k->total, err, errlen) != 0)
        return -1;
    if (count == 0 || no >= count) {
        snprintf(err, errlen, "%s: split.no %" PRId64 " is not below split.count %" PRId64, m->path,
                 no, count);
        return -1;
    }
    k->present = true;
    k->no = (uint32_t)no;
    k->count = (uint32_t)count;
    return 0;
}

/* ------------------------------------------------------------------ names */

/* Parse "-NNNNN-of-MMMMM.gguf" at the end of path: the prefix's length and
 * the two numbers, or false when the name does not follow it. */
static bool parse_name(const char *path, size_t *prefix, unsigned *no, unsigned *count)
{
    size_t n = strlen(path);
    if (n < SPLIT_SUFFIX_LEN)
        return false;
    const char *s = path + n - SPLIT_SUFFIX_LEN;
    for (int i = 0; i < SPLIT_SUFFIX_LEN; i++) {
        bool digit = (i >= 1 && i <= 5) || (i >= 10 && i <= 14);
        if (digit != (s[i] >= '0' && s[i] <= '9'))
            return false;
    }
    if (s[0] != '-' || memcmp(s + 6, "-of-", 4) != 0 || strcmp(s + 15, ".gguf") != 0)
        return false;
    *prefix = n - SPLIT_SUFFIX_LEN;
    *no = (unsigned)strtoul(s + 1, NULL, 10);
    *count = (unsigned)strtoul(s + 10, NULL, 10);
    return true;
}

/* Shard i's name (0-based i; split.count fits in u16, so five digits). */
static char *shard_path(const char *path, size_t prefix, uint32_t i, uint32_t count)
{
    char *p = malloc(prefix + SPLIT_SUFFIX_LEN + 1);
    if (p != NULL) {
        memcpy(p, path, prefix);
        snprintf(p + prefix, SPLIT_SUFFIX_LEN + 1, "-%05u-of-%05u.gguf", (uint16_t)(i + 1),
                 (uint16_t)count);
    }
    return p;
}

/* ------------------------------------------------------------------ shards */

/* Open shard i (unless it is the one already open) and check its keys
 * against the first one read. */
static int open_shard(const char *path, uint32_t i, const struct split_keys *want,
                      struct gguf_model **out, char *err, size_t errlen)
{
    char why[512];
    struct split_keys k;

    if (gguf_open(path, out, why, sizeof(why)) != 0) {
        bool missing = access(path, F_OK) != 0 && errno == ENOENT;
        snprintf(err, errlen, "%s: shard %" PRIu32 " of %" PRIu32 " %s: %s", path, i + 1,
                 want->count, missing ? "is missing" : "cannot be read", why);
        return -1;
    }
    if (read_keys(*out, &k, err, errlen) != 0)
        return -1;
    if (!k.present) {
        snprintf(err, errlen, "%s: shard %" PRIu32 " of %" PRIu32 " has no split.count", path,
                 i + 1, want->count);
        return -1;
    }
    if (k.count != want->count || k.no != i || k.total != want->total) {
        snprintf(err, errlen,
                 "%s: split keys disagree: split.no %" PRIu32 ", split.count %" PRIu32
                 ", split.tensors.count %" PRId64 "; expected %" PRIu32 ", %" PRIu32 ", %" PRId64,
                 path, k.no, k.count, k.total, i, want->count, want->total);
        return -1;
    }
    return 0;
}

static int cmp_tensor_name(const void *a, const void *b)
{
    const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
    const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x > y) - (x < y); /* the earlier shard first */
}

/* A tensor name in two shards: sorted pointers, neighbours compared. */
static int check_duplicates(const struct gguf_model *m, char *err, size_t errlen)
{
    const struct gguf_tensor **v = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof(*v));
    int rc = 0;

    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint64_t i = 0; i < m->n_tensors; i++)
        v[i] = &m->tensors[i];
    qsort(v, m->n_tensors, sizeof(*v), cmp_tensor_name);
    for (uint64_t i = 1; i < m->n_tensors && rc == 0; i++) {
        if (strcmp(v[i - 1]->name, v[i]->name) != 0)
            continue;
        snprintf(err, errlen, "%s: tensor '%.64s' is also in %s", m->shards[v[i]->shard].path,
                 v[i]->name, m->shards[v[i - 1]->shard].path);
        rc = -1;
    }
    free(v);
    return rc;
}

/* Move shard i's fd, path and tensors into the joined model j. */
static int take_shard(struct gguf_model *j, struct gguf_model *s, uint32_t i, char *err,
                      size_t errlen)
{
    char *path = strdup(s->path);
    if (path == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->shards[i] = (struct gguf_shard){.path = path, .fd = s->fd, .st = s->st};
    s->fd = -1;
    if (s == j)
        return 0;
    struct gguf_tensor *t = realloc(j->tensors, (j->n_tensors + s->n_tensors) * sizeof(*t));
    if (t == NULL && j->n_tensors + s->n_tensors > 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->tensors = t;
    for (uint64_t n = 0; n < s->n_tensors; n++) {
        j->tensors[j->n_tensors + n] = s->tensors[n];
        j->tensors[j->n_tensors + n].shard = i;
    }
    j->n_tensors += s->n_tensors;
    s->n_tensors = 0; /* the names now belong to j */
    return 0;
}

/* Every shard, opened and checked in order; v[k->no] is `first`. */
static int open_all(const char *path, size_t prefix, struct gguf_model *first,
                    const struct split_keys *k, struct gguf_model **v, char *err, size_t errlen)
{
    v[k->no] = first;
    for (uint32_t i = 0; i < k->count; i++) {
        if (i == k->no)
            continue;
        char *p = shard_path(path, prefix, i, k->count);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        int rc = open_shard(p, i, k, &v[i], err, errlen);
        free(p);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Join the shards v[0..count) into v[0], which takes everything. */
static int join(struct gguf_model **v, const struct split_keys *k, char *err, size_t errlen)
{
    struct gguf_model *j = v[0];

    j->shards = calloc(k->count, sizeof(*j->shards));
    if (j->shards == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < k->count; i++)
        j->shards[i].fd = -1;
    j->n_shards = k->count;
    for (uint32_t i = 0; i < k->count; i++)
        if (take_shard(j, v[i], i, err, errlen) != 0)
            return -1;
    if ((int64_t)j->n_tensors != k->total) {
        snprintf(err, errlen,
                 "%s: the %" PRIu32 " shards hold %" PRIu64
                 " tensors, split.tensors.count says %" PRId64,
                 j->path, k->count, j->n_tensors, k->total);
        return -1;
    }
    return check_duplicates(j, err, errlen);
}

/* Open the other shards of `first` (found at path) and join them all. */
static int open_split(const char *path, size_t prefix, struct gguf_model *first,
                      const struct split_keys *k, struct gguf_model **out, char *err, size_t errlen)
{
    struct gguf_model **v = calloc(k->count, sizeof(*v));
    int rc = -1;

    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        gguf_close(first);
        return -1;
    }
    if (open_all(path, prefix, first, k, v, err, errlen) == 0 && join(v, k, err, errlen) == 0) {
        *out = v[0];
        v[0] = NULL;
        rc = 0;
    }
    for (uint32_t i = 0; i < k->count; i++)
        gguf_close(v[i]);
    free(v);
    return rc;
}

int model_split_open(const char *path, struct gguf_model **out, char *err, size_t errlen)
{
    struct gguf_model *m;
    struct split_keys k;
    size_t prefix;
    unsigned no, count;

    *out = NULL;
    if (gguf_open(path, &m, err, errlen) != 0)
        return -1;
    if (read_keys(m, &k, err, errlen) != 0) {
        gguf_close(m);
        return -1;
    }
    if (!k.present) {
        *out = m;
        return 0;
    }
    if (!parse_name(path, &prefix, &no, &count)) {
        if (k.count == 1 && k.total == (int64_t)m->n_tensors) {
            *out = m; /* a split of one: nothing else to find */
            return 0;
        }
        snprintf(err, errlen,
                 "%s: split.count is %" PRIu32 ", but the name does not end in "
                 "-%05" PRIu32 "-of-%05" PRIu32 ".gguf, so the other shards cannot be found",
                 path, k.count, k.no + 1, k.count);
        gguf_close(m);
        return -1;
    }
    if (no != k.no + 1 || count != k.count) {
        snprintf(err, errlen,
                 "%s: the name says shard %u of %u, split.no and split.count say %" PRIu32
                 " of %" PRIu32,
                 path, no, count, k.no + 1, k.count);
        gguf_close(m);
        return -1;
    }
    return open_split(path, prefix, m, &k, out, err, errlen);
}
