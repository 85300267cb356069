/* hf_kv.c - see hf_kv.h. */
#include "hf/hf_kv.h"

#include "format/gguf.h"

#include <stdio.h>
#include <string.h>

const struct gguf_kv *hf_kv(const struct gguf_model *m, const char *arch, const char *key)
{
    char full[256];
    if (arch != NULL) {
        int n = snprintf(full, sizeof(full), "%s.%s", arch, key);
        if (n < 0 || (size_t)n >= sizeof(full))
            return NULL;
        key = full;
    }
    size_t len = strlen(key);
    for (uint64_t i = 0; i < m->n_kv; i++)
        if (m->kv[i].key_len == len && memcmp(m->kv[i].key, key, len) == 0)
            return &m->kv[i];
    return NULL;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Bytes of a scalar integer type and whether it is signed; 0 otherwise. */
static unsigned int_size(uint32_t type, bool *sign)
{
    static const uint8_t sizes[] = {1, 1, 2, 2, 4, 4, 0, 1, 0, 0, 8, 8, 0};
    if (type >= sizeof(sizes))
        return 0;
    *sign = type == GGUF_VALUE_INT8 || type == GGUF_VALUE_INT16 || type == GGUF_VALUE_INT32 ||
            type == GGUF_VALUE_INT64;
    return sizes[type];
}

static int read_int(const uint8_t *p, uint64_t left, uint32_t type, int64_t *out, unsigned *used)
{
    bool sign;
    unsigned n = int_size(type, &sign);
    if (n == 0 || n > left)
        return -1;
    uint64_t u = le(p, n);
    if (sign && n < 8 && (u >> (8 * n - 1)) != 0)
        u |= ~0ull << (8 * n);
    *out = (int64_t)u;
    *used = n;
    return 0;
}

int hf_kv_int(const struct gguf_kv *kv, int64_t *out)
{
    unsigned used;
    return kv == NULL ? -1 : read_int(kv->value, kv->value_len, kv->type, out, &used);
}

bool hf_kv_true(const struct gguf_kv *kv)
{
    return kv != NULL && kv->type == GGUF_VALUE_BOOL && kv->value_len >= 1 && kv->value[0] != 0;
}

static int take_str(const uint8_t **p, uint64_t *left, const char **s, uint64_t *n)
{
    if (*left < 8)
        return -1;
    uint64_t len = le(*p, 8);
    if (len > *left - 8)
        return -1;
    *s = (const char *)*p + 8;
    *n = len;
    *p += 8 + len;
    *left -= 8 + len;
    return 0;
}

int hf_kv_str(const struct gguf_kv *kv, const char **s, uint64_t *n)
{
    if (kv == NULL || kv->type != GGUF_VALUE_STRING)
        return -1;
    const uint8_t *p = kv->value;
    uint64_t left = kv->value_len;
    return take_str(&p, &left, s, n);
}

int hf_arr_open(const struct gguf_kv *kv, uint32_t etype, struct hf_arr *a)
{
    if (kv == NULL || kv->type != GGUF_VALUE_ARRAY || kv->value_len < 12)
        return -1;
    a->etype = (uint32_t)le(kv->value, 4);
    a->n = le(kv->value + 4, 8);
    a->p = kv->value + 12;
    a->left = kv->value_len - 12;
    bool sign;
    if (etype == GGUF_VALUE_INT32) /* any integer type will do */
        return int_size(a->etype, &sign) != 0 && a->etype != GGUF_VALUE_BOOL ? 0 : -1;
    return a->etype == etype ? 0 : -1;
}

int hf_arr_str(struct hf_arr *a, const char **s, uint64_t *n)
{
    return take_str(&a->p, &a->left, s, n);
}

int hf_arr_f32(struct hf_arr *a, float *v)
{
    if (a->left < 4)
        return -1;
    uint32_t u = (uint32_t)le(a->p, 4);
    memcpy(v, &u, 4);
    a->p += 4;
    a->left -= 4;
    return 0;
}

int hf_arr_int(struct hf_arr *a, int64_t *v)
{
    unsigned used;
    if (read_int(a->p, a->left, a->etype, v, &used) < 0)
        return -1;
    a->p += used;
    a->left -= used;
    return 0;
}
