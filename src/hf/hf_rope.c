/* hf_rope.c - see hf_rope.h. */
#include "hf/hf_rope.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "hf/hf_kv.h"

#include <math.h>
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
    if (t == NULL || t->type != GT_F32 || t->n_dims != 1 || t->ne[0] == 0 ||
        t->ne[0] > MAX_FACTORS || m->fd < 0 ||
        pread(m->fd, f, t->ne[0] * 4, (off_t)t->offset) != (ssize_t)(t->ne[0] * 4))
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
