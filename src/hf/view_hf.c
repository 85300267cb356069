/* view_hf.c - see view_hf.h. Every file is literal text but the
 * safetensors file: the configs made at mount, the tokenizer files when
 * first needed. view_safetensors_file() writes the weights from a list of
 * entries: the HF name, the shape in torch order (ne reversed) and, for
 * the Q/K projections of a `llama` model, the rows de-interleaved per head.
 */
#include "hf/view_hf.h"

#include "common/facts.h"
#include "format/gguf.h"
#include "fs/views.h"
#include "hf/hf_config.h"
#include "hf/hf_map.h"
#include "hf/hf_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HF_NAME_MAX 96

/* The safetensors entries, names in `names` (HF_NAME_MAX each); their
 * count, or -1. */
static int hf_entries(const struct gguf_model *m, const struct hf_arch *a, enum dtype mount,
                      struct st_entry *e, char *names)
{
    int64_t heads[3] = {0, 0, 0};
    if (hf_heads(m, a, &heads[HF_ROWS_Q], &heads[HF_ROWS_K]) < 0)
        return -1;
    size_t n = 0;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        enum hf_rows rows;
        char *name = names + n * HF_NAME_MAX;
        int k = hf_tensor_name(a, t->name, name, HF_NAME_MAX, &rows);
        if (k == 1)
            continue;
        if (k < 0 || !view_safetensors_dtype(t, mount, &e[n].dt))
            return -1;
        e[n] = (struct st_entry){.name = name,
                                 .name_len = strlen(name),
                                 .tensor = i,
                                 .dt = e[n].dt,
                                 .n_dims = t->n_dims,
                                 .heads = (uint32_t)heads[rows]};
        for (uint32_t d = 0; d < t->n_dims; d++)
            e[n].shape[d] = t->ne[t->n_dims - 1 - d];
        n++;
    }
    return (int)n;
}

static int hf_weights(struct ns *ns, uint64_t dir, const struct gguf_model *m,
                      const struct hf_arch *a, enum dtype dt, char *err, size_t errlen)
{
    size_t n = m->n_tensors ? m->n_tensors : 1;
    struct st_entry *e = calloc(n, sizeof(*e));
    char *names = calloc(n, HF_NAME_MAX);
    int rc = -1, k;
    if (e == NULL || names == NULL)
        snprintf(err, errlen, "out of memory for .hf/model.safetensors");
    else if ((k = hf_entries(m, a, dt, e, names)) < 0)
        snprintf(err, errlen, ".hf: the tensors changed their mapping");
    else
        rc = view_safetensors_file(ns, dir, "model.safetensors", m, e, (size_t)k, err, errlen);
    free(e);
    free(names);
    return rc;
}

/* A file of the text tx (taken over); a failed text is out of memory. */
static int text_file(struct ns *ns, uint64_t dir, const char *name, struct text *tx)
{
    if (text_failed(tx)) {
        text_free(tx);
        return -1;
    }
    ns_file_begin(ns, dir, name, -1);
    ns_file_literal_own(ns, tx->buf, tx->len);
    ns_file_end(ns);
    *tx = (struct text){0};
    return 0;
}

/* The tokenizer files: made when first needed (namespace.h), since a
 * vocabulary's tokens and merges take longer to write out than the rest of
 * the mount. */
enum hf_made { HF_TOKENIZER, HF_TOKENIZER_CONFIG, HF_SPECIAL_TOKENS };

static int make_hf(const void *arg, uint64_t key, struct text *tx)
{
    const struct gguf_model *m = arg;
    switch ((enum hf_made)key) {
    case HF_TOKENIZER:
        return hf_tokenizer_json(tx, m);
    case HF_TOKENIZER_CONFIG:
        return hf_tokenizer_config_json(tx, m);
    case HF_SPECIAL_TOKENS:
        return hf_special_tokens_json(tx, m);
    }
    return -1;
}

int view_hf_build(struct ns *ns, const struct gguf_model *m, enum dtype dt, char *err,
                  size_t errlen)
{
    char why[160];
    const struct hf_arch *a = hf_check(m, dt, why, sizeof(why));
    if (a == NULL)
        return 0;
    uint64_t dir = ns_add_dir(ns, NS_ROOT, ".hf");
    struct text tx = {0};
    hf_config_json(&tx, m, a, dt);
    int bad = text_file(ns, dir, "config.json", &tx);
    hf_generation_json(&tx, m);
    bad |= text_file(ns, dir, "generation_config.json", &tx);
    ns_add_made(ns, dir, "tokenizer.json", &(struct ns_maker){make_hf, m, HF_TOKENIZER});
    ns_add_made(ns, dir, "tokenizer_config.json",
                &(struct ns_maker){make_hf, m, HF_TOKENIZER_CONFIG});
    ns_add_made(ns, dir, "special_tokens_map.json",
                &(struct ns_maker){make_hf, m, HF_SPECIAL_TOKENS});
    if (bad) {
        snprintf(err, errlen, "out of memory for the .hf view");
        return -1;
    }
    return hf_weights(ns, dir, m, a, dt, err, errlen);
}

void hf_describe(const struct gguf_model *m, enum dtype dt, struct facts *f)
{
    char why[160];
    const struct hf_arch *a = hf_check(m, dt, why, sizeof(why));
    if (a != NULL)
        facts_add(f, "hf", ".hf/ (%s)", a->class_name);
    else
        facts_add(f, "hf", "not mapped: %s", why);
}
