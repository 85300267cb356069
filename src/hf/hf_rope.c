/* hf_rope.c - see hf_rope.h. */
#include "hf/hf_rope.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "hf/hf_kv.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#define MAX_FACTORS 1024

static const struct gguf_tensor *find(const struct gguf_model *m, const char *name)
{
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

int hf_rope_read(const struct gguf_model *m, const struct gguf_tensor *t, float *f, uint64_t n)
{
    if (t->type != GT_F32 || t->n_dims != 1 || t->ne[0] != n || n == 0 || n > MAX_FACTORS ||
        m->fd < 0 || pread(m->fd, f, n * 4, (off_t)t->offset) != (ssize_t)(n * 4))
        return -1;
    return 0;
}

/* The converter's factor for frequency `freq` (convert_hf_to_gguf.py). */
static double llama3_factor(const struct hf_llama3_rope *r, double freq)
{
    double low_wavelen = (double)r->original_context / r->low_freq_factor;
    double high_wavelen = (double)r->original_context / r->high_freq_factor;
    double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen)
        return 1;
    if (wavelen > low_wavelen)
        return r->factor;
    double smooth = ((double)r->original_context / wavelen - r->low_freq_factor) /
                    (r->high_freq_factor - r->low_freq_factor);
    return 1 / ((1 - smooth) / r->factor + smooth);
}

int hf_rope_llama3(const struct gguf_model *m, const struct hf_arch *a, struct hf_llama3_rope *out)
{
    const struct gguf_tensor *t = find(m, "rope_freqs.weight");
    float f[MAX_FACTORS];
    int64_t dim, heads, kv;
    double base = 10000;
    float fb;
    const struct gguf_kv *b = hf_kv(m, a->gguf, "rope.freq_base");
    if (t == NULL || t->type != GT_F32 || t->n_dims != 1 || hf_rope_read(m, t, f, t->ne[0]) < 0)
        return -1;
    if (hf_kv_int(hf_kv(m, a->gguf, "rope.dimension_count"), &dim) < 0) {
        if (hf_kv_int(hf_kv(m, a->gguf, "embedding_length"), &dim) < 0 ||
            hf_heads(m, a, &heads, &kv) < 0)
            return -1;
        dim /= heads;
    }
    if (b != NULL && b->type == GGUF_VALUE_FLOAT32 && b->value_len == 4) {
        memcpy(&fb, b->value, 4);
        base = fb;
    }
    if ((uint64_t)dim != 2 * t->ne[0])
        return -1;
    *out = (struct hf_llama3_rope){0, 1, 4, 8192};
    for (uint64_t i = 0; i < t->ne[0]; i++)
        out->factor = fmax(out->factor, f[i]);
    for (uint64_t i = 0; i < t->ne[0]; i++) {
        double freq = 1 / pow(base, (double)(2 * i) / (double)dim);
        if (fabs(llama3_factor(out, freq) - f[i]) > 1e-5 * fabs((double)f[i]))
            return -1;
    }
    return 0;
}

/* rope.scaling.attn_factor is one of the converter's two formulas (or
 * absent). */
static bool attn_factor_known(const struct gguf_model *m, const struct hf_arch *a, int64_t orig)
{
    const struct gguf_kv *k = hf_kv(m, a->gguf, "rope.scaling.attn_factor");
    int64_t ctx;
    float stored;
    if (k == NULL)
        return true;
    if (k->type != GGUF_VALUE_FLOAT32 || k->value_len != 4 ||
        hf_kv_int(hf_kv(m, a->gguf, "context_length"), &ctx) < 0 || ctx <= 0)
        return false;
    memcpy(&stored, k->value, 4);
    double s = (double)ctx / (double)orig;
    double longrope = s > 1 ? sqrt(1 + log(s) / log((double)orig)) : 1;
    double yarn = s > 1 ? 0.1 * log(s) + 1 : 1;
    return fabs(stored - longrope) <= 1e-6 * longrope || fabs(stored - yarn) <= 1e-6 * yarn;
}

int hf_rope_longrope(const struct gguf_model *m, const struct hf_arch *a, struct hf_longrope *out)
{
    int64_t dim, hidden, heads, kv, orig;
    float f[MAX_FACTORS];
    *out = (struct hf_longrope){find(m, "rope_factors_long.weight"),
                                find(m, "rope_factors_short.weight"), 0};
    if (out->long_f == NULL && out->short_f == NULL)
        return 0;
    if (out->long_f == NULL || out->short_f == NULL ||
        hf_kv_int(hf_kv(m, a->gguf, "embedding_length"), &hidden) < 0 ||
        hf_heads(m, a, &heads, &kv) < 0 ||
        hf_kv_int(hf_kv(m, a->gguf, "rope.scaling.original_context_length"), &orig) < 0 ||
        orig <= 1)
        return -1;
    if (hf_kv_int(hf_kv(m, a->gguf, "rope.dimension_count"), &dim) < 0)
        dim = hidden / heads;
    out->n = (uint64_t)dim / 2;
    if (dim <= 0 || dim % 2 != 0 || hf_rope_read(m, out->long_f, f, out->n) < 0 ||
        hf_rope_read(m, out->short_f, f, out->n) < 0 || !attn_factor_known(m, a, orig))
        return -1;
    return 0;
}
