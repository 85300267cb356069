/* hf_vocab.c - see hf_vocab.h. */
#include "hf/hf_vocab.h"

#include "format/gguf.h"
#include "hf/hf_kv.h"

#include <stdlib.h>
#include <string.h>

int hf_vocab_load(const struct gguf_model *m, struct hf_vocab *v)
{
    struct hf_arr tok, sc, ty;
    *v = (struct hf_vocab){0};
    if (hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.tokens"), GGUF_VALUE_STRING, &tok) < 0 ||
        tok.n == 0 || tok.n > UINT32_MAX / 2)
        return -1;
    bool has_sc =
        hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.scores"), GGUF_VALUE_FLOAT32, &sc) == 0 &&
        sc.n == tok.n;
    bool has_ty =
        hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.token_type"), GGUF_VALUE_INT32, &ty) == 0 &&
        ty.n == tok.n;
    v->tok = calloc(tok.n, sizeof(*v->tok));
    if (v->tok == NULL)
        return -1;
    v->n = (uint32_t)tok.n;
    for (uint32_t i = 0; i < v->n; i++) {
        uint64_t len;
        int64_t type = HF_TOK_NORMAL;
        struct hf_token *t = &v->tok[i];
        if (hf_arr_str(&tok, &t->s, &len) < 0 || len > UINT32_MAX ||
            (has_sc && hf_arr_f32(&sc, &t->score) < 0) || (has_ty && hf_arr_int(&ty, &type) < 0)) {
            hf_vocab_free(v);
            return -1;
        }
        t->n = (uint32_t)len;
        t->type = (int32_t)type;
    }
    return 0;
}

void hf_vocab_free(struct hf_vocab *v)
{
    free(v->tok);
    *v = (struct hf_vocab){0};
}

/* ------------------------------------------------------------ token -> id */

/* Open addressing, twice the tokens; a later duplicate replaces an earlier
 * one, as a Python dict built from the list does. */
struct index {
    uint32_t *slot; /* id + 1; 0 empty */
    uint64_t mask;
};

static uint64_t hash(const char *s, uint32_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int64_t index_get(const struct index *x, const struct hf_vocab *v, const char *s, uint32_t n)
{
    for (uint64_t k = hash(s, n) & x->mask;; k = (k + 1) & x->mask) {
        uint32_t id = x->slot[k];
        if (id == 0)
            return -1;
        if (v->tok[id - 1].n == n && memcmp(v->tok[id - 1].s, s, n) == 0)
            return id - 1;
    }
}

static int index_build(struct index *x, const struct hf_vocab *v)
{
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)v->n)
        cap *= 2;
    x->slot = calloc(cap, sizeof(*x->slot));
    x->mask = cap - 1;
    if (x->slot == NULL)
        return -1;
    for (uint32_t i = 0; i < v->n; i++) {
        uint64_t k = hash(v->tok[i].s, v->tok[i].n) & x->mask;
        for (; x->slot[k] != 0; k = (k + 1) & x->mask) {
            const struct hf_token *o = &v->tok[x->slot[k] - 1];
            if (o->n == v->tok[i].n && memcmp(o->s, v->tok[i].s, o->n) == 0)
                break;
        }
        x->slot[k] = i + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ merges */

struct cand {
    uint32_t tok, left, right, split;
    float score, sl, sr;
};

static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->tok != b->tok)
        return a->tok < b->tok ? -1 : 1;
    if (a->sl != b->sl)
        return a->sl > b->sl ? -1 : 1;
    if (a->sr != b->sr)
        return a->sr > b->sr ? -1 : 1;
    return a->split < b->split ? -1 : a->split > b->split;
}

static int cand_push(struct cand **c, uint64_t *n, uint64_t *cap, struct cand x)
{
    if (*n == *cap) {
        uint64_t nc = *cap ? 2 * *cap : 1024;
        struct cand *p = realloc(*c, nc * sizeof(**c));
        if (p == NULL)
            return -1;
        *c = p;
        *cap = nc;
    }
    (*c)[(*n)++] = x;
    return 0;
}

/* Every split of token i at a character boundary into two tokens. */
static int token_splits(const struct hf_vocab *v, const struct index *x, uint32_t i,
                        struct cand **c, uint64_t *n, uint64_t *cap)
{
    const struct hf_token *t = &v->tok[i];
    for (uint32_t k = 1; k < t->n; k++) {
        if (((unsigned char)t->s[k] & 0xC0) == 0x80)
            continue;
        int64_t l = index_get(x, v, t->s, k), r = index_get(x, v, t->s + k, t->n - k);
        if (l < 0 || r < 0)
            continue;
        struct cand e = {i,        (uint32_t)l,     (uint32_t)r,    k,
                         t->score, v->tok[l].score, v->tok[r].score};
        if (cand_push(c, n, cap, e) < 0)
            return -1;
    }
    return 0;
}

struct hf_merge *hf_vocab_merges(const struct hf_vocab *v, uint64_t *n)
{
    struct index x;
    struct cand *c = NULL;
    uint64_t cap = 0;
    *n = 0;
    if (index_build(&x, v) < 0)
        return NULL;
    for (uint32_t i = 0; i < v->n; i++)
        if (index_get(&x, v, v->tok[i].s, v->tok[i].n) == i &&
            token_splits(v, &x, i, &c, n, &cap) < 0) {
            free(c);
            free(x.slot);
            return NULL;
        }
    free(x.slot);
    qsort(c, *n, sizeof(*c), cand_cmp);
    struct hf_merge *out = malloc((*n ? *n : 1) * sizeof(*out));
    for (uint64_t i = 0; out != NULL && i < *n; i++)
        out[i] = (struct hf_merge){c[i].left, c[i].right};
    free(c);
    return out;
}
