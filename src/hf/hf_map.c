/* hf_map.c - see hf_map.h. */
#include "hf/hf_map.h"

#include "format/gguf.h"
#include "fs/views.h"
#include "hf/hf_kv.h"
#include "hf/hf_rope.h"
#include "hf/hf_tokenizer.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hf_arch arches[] = {
    {"llama", "LlamaForCausalLM", "llama", true, false, false},
    {"qwen2", "Qwen2ForCausalLM", "qwen2", false, true, false},
    {"qwen3", "Qwen3ForCausalLM", "qwen3", false, false, false},
    {"phi3", "Phi3ForCausalLM", "phi3", false, false, true},
};

const struct hf_arch *hf_arch_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(arches) / sizeof(arches[0]); i++)
        if (strcmp(arches[i].gguf, name) == 0)
            return &arches[i];
    return NULL;
}

struct name_rule {
    const char *gguf, *hf;
    enum hf_rows rows;
};

static const struct name_rule globals[] = {
    {"token_embd.weight", "model.embed_tokens.weight", HF_ROWS_STORED},
    {"output_norm.weight", "model.norm.weight", HF_ROWS_STORED},
    {"output.weight", "lm_head.weight", HF_ROWS_STORED},
};

static const struct name_rule blocks[] = {
    {"attn_norm.weight", "input_layernorm.weight", HF_ROWS_STORED},
    {"attn_q.weight", "self_attn.q_proj.weight", HF_ROWS_Q},
    {"attn_k.weight", "self_attn.k_proj.weight", HF_ROWS_K},
    {"attn_v.weight", "self_attn.v_proj.weight", HF_ROWS_STORED},
    {"attn_q.bias", "self_attn.q_proj.bias", HF_ROWS_Q},
    {"attn_k.bias", "self_attn.k_proj.bias", HF_ROWS_K},
    {"attn_v.bias", "self_attn.v_proj.bias", HF_ROWS_STORED},
    {"attn_output.weight", "self_attn.o_proj.weight", HF_ROWS_STORED},
    {"attn_q_norm.weight", "self_attn.q_norm.weight", HF_ROWS_STORED},
    {"attn_k_norm.weight", "self_attn.k_norm.weight", HF_ROWS_STORED},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HF_ROWS_STORED},
    {"ffn_gate.weight", "mlp.gate_proj.weight", HF_ROWS_STORED},
    {"ffn_up.weight", "mlp.up_proj.weight", HF_ROWS_STORED},
    {"ffn_down.weight", "mlp.down_proj.weight", HF_ROWS_STORED},
};

static const struct name_rule fused_blocks[] = {
    {"attn_norm.weight", "input_layernorm.weight", HF_ROWS_STORED},
    {"attn_qkv.weight", "self_attn.qkv_proj.weight", HF_ROWS_STORED},
    {"attn_output.weight", "self_attn.o_proj.weight", HF_ROWS_STORED},
    {"ffn_norm.weight", "post_attention_layernorm.weight", HF_ROWS_STORED},
    {"ffn_up.weight", "mlp.gate_up_proj.weight", HF_ROWS_STORED},
    {"ffn_down.weight", "mlp.down_proj.weight", HF_ROWS_STORED},
};

/* The tensors config.json's rope_scaling says (hf_rope.h). */
static bool rope_tensor(const struct hf_arch *a, const char *name)
{
    if (a->permute_qk)
        return strcmp(name, "rope_freqs.weight") == 0;
    return a->fused && (strcmp(name, "rope_factors_long.weight") == 0 ||
                        strcmp(name, "rope_factors_short.weight") == 0);
}

int hf_tensor_name(const struct hf_arch *a, const char *name, char *out, size_t outlen,
                   enum hf_rows *rows)
{
    if (rope_tensor(a, name))
        return 1;
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
        if (strcmp(name, globals[i].gguf) == 0) {
            *rows = HF_ROWS_STORED;
            return snprintf(out, outlen, "%s", globals[i].hf) < (int)outlen ? 0 : -1;
        }
    char *end;
    /* Block numbers as llama.cpp writes them: "blk.01" would be a second
     * name for layer 1. */
    if (strncmp(name, "blk.", 4) != 0 || name[4] < '0' || name[4] > '9' ||
        (name[4] == '0' && name[5] != '.'))
        return -1;
    unsigned long n = strtoul(name + 4, &end, 10);
    if (*end != '.')
        return -1;
    const struct name_rule *rule = a->fused ? fused_blocks : blocks;
    size_t nrules = a->fused ? sizeof(fused_blocks) / sizeof(fused_blocks[0])
                             : sizeof(blocks) / sizeof(blocks[0]);
    for (size_t i = 0; i < nrules; i++)
        if (strcmp(end + 1, rule[i].gguf) == 0) {
            *rows = a->permute_qk ? rule[i].rows : HF_ROWS_STORED;
            int k = snprintf(out, outlen, "model.layers.%lu.%s", n, rule[i].hf);
            return k > 0 && k < (int)outlen ? 0 : -1;
        }
    return -1;
}

int hf_heads(const struct gguf_model *m, const struct hf_arch *a, int64_t *q, int64_t *kv)
{
    if (hf_kv_int(hf_kv(m, a->gguf, "attention.head_count"), q) < 0 || *q <= 0)
        return -1;
    const struct gguf_kv *k = hf_kv(m, a->gguf, "attention.head_count_kv");
    if (k == NULL)
        *kv = *q;
    else if (hf_kv_int(k, kv) < 0 || *kv <= 0)
        return -1;
    return 0;
}

/* Phi3's config has no head_dim (it is hidden / heads) and only longrope
 * scaling; the rotated part of a head must come back from
 * partial_rotary_factor as transformers computes it, int(head_dim * f). */
static int check_fused_keys(const struct gguf_model *m, const struct hf_arch *a, char *why,
                            size_t whylen)
{
    int64_t hidden, q, kv, key, rot;
    hf_kv_int(hf_kv(m, a->gguf, "embedding_length"), &hidden);
    hf_heads(m, a, &q, &kv);
    if (hidden % q != 0 ||
        (hf_kv(m, a->gguf, "attention.key_length") != NULL &&
         (hf_kv_int(hf_kv(m, a->gguf, "attention.key_length"), &key) < 0 || key != hidden / q))) {
        snprintf(why, whylen, "key '%s.attention.key_length': not hidden size / heads", a->gguf);
        return -1;
    }
    int64_t hd = hidden / q;
    if (hf_kv(m, a->gguf, "rope.dimension_count") != NULL &&
        (hf_kv_int(hf_kv(m, a->gguf, "rope.dimension_count"), &rot) < 0 || rot <= 0 ||
         rot % 2 != 0 || rot > hd || (int64_t)((double)hd * ((double)rot / (double)hd)) != rot)) {
        snprintf(why, whylen, "key '%s.rope.dimension_count' not mapped", a->gguf);
        return -1;
    }
    if (hf_kv(m, a->gguf, "rope.scaling.type") != NULL) {
        snprintf(why, whylen, "rope scaling type not mapped");
        return -1;
    }
    return 0;
}

/* The scalar keys config.json cannot do without. */
static int check_keys(const struct gguf_model *m, const struct hf_arch *a, char *why, size_t whylen)
{
    static const char *const need[] = {"embedding_length", "block_count", "feed_forward_length",
                                       "attention.head_count"};
    int64_t v;
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (hf_kv_int(hf_kv(m, a->gguf, need[i]), &v) < 0 || v <= 0) {
            snprintf(why, whylen, "key '%s.%s' missing or not a positive integer", a->gguf,
                     need[i]);
            return -1;
        }
    int64_t q, kv;
    if (hf_heads(m, a, &q, &kv) < 0) {
        snprintf(why, whylen, "key '%s.attention.head_count_kv' is not a positive integer",
                 a->gguf);
        return -1;
    }
    const struct gguf_kv *st = hf_kv(m, a->gguf, "rope.scaling.type");
    const char *s;
    uint64_t n;
    if (st != NULL && (hf_kv_str(st, &s, &n) < 0 || !((n == 4 && memcmp(s, "none", 4) == 0) ||
                                                      (n == 6 && memcmp(s, "linear", 6) == 0) ||
                                                      (n == 4 && memcmp(s, "yarn", 4) == 0)))) {
        snprintf(why, whylen, "rope scaling type not mapped");
        return -1;
    }
    return a->fused ? check_fused_keys(m, a, why, whylen) : 0;
}

/* HF's fused tensors: q, k and v rows of hidden / heads each, and
 * gate then up rows of feed_forward_length each, all of hidden columns. */
static bool fused_shape_ok(const struct gguf_model *m, const struct hf_arch *a,
                           const struct gguf_tensor *t)
{
    size_t n = strlen(t->name);
    int64_t hidden, q, kv, ff, rows;
    hf_kv_int(hf_kv(m, a->gguf, "embedding_length"), &hidden);
    hf_kv_int(hf_kv(m, a->gguf, "feed_forward_length"), &ff);
    hf_heads(m, a, &q, &kv);
    if (n > 16 && strcmp(t->name + n - 16, ".attn_qkv.weight") == 0)
        rows = (q + 2 * kv) * (hidden / q);
    else if (n > 14 && strcmp(t->name + n - 14, ".ffn_up.weight") == 0)
        rows = 2 * ff;
    else
        return true;
    return t->n_dims == 2 && t->ne[0] == (uint64_t)hidden && t->ne[1] == (uint64_t)rows;
}

/* The rope tensors say what hf_rope.h recognizes. */
static bool rope_known(const struct gguf_model *m, const struct hf_arch *a)
{
    struct hf_llama3_rope r3;
    struct hf_longrope lr;
    return a->fused ? hf_rope_longrope(m, a, &lr) == 0 : hf_rope_llama3(m, a, &r3) == 0;
}

/* Every tensor has an HF name, can be served in dt, and Q/K rows split
 * into whole head pairs. */
static int check_tensors(const struct gguf_model *m, const struct hf_arch *a, enum dtype dt,
                         char *why, size_t whylen)
{
    int64_t heads[3] = {0, 0, 0};
    if (hf_heads(m, a, &heads[HF_ROWS_Q], &heads[HF_ROWS_K]) < 0)
        return -1;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        char name[128];
        enum hf_rows rows;
        enum dtype sdt;
        int k = hf_tensor_name(a, t->name, name, sizeof(name), &rows);
        if (k < 0 || (k == 1 && !rope_known(m, a))) {
            snprintf(why, whylen, "tensor '%s'%s", t->name,
                     k < 0      ? ""
                     : a->fused ? ": not LongRoPE factors"
                                : ": not Llama 3's rope factors");
            return -1;
        }
        if (k == 1)
            continue;
        if (a->fused && !fused_shape_ok(m, a, t)) {
            snprintf(why, whylen, "tensor '%s': not the size of its fused HF tensor", t->name);
            return -1;
        }
        if (!view_safetensors_dtype(t, dt, &sdt) || sdt == DTYPE_STORED) {
            snprintf(why, whylen, "tensor '%s' cannot be decoded", t->name);
            return -1;
        }
        uint64_t nrows = t->ne[t->n_dims - 1];
        if (rows != HF_ROWS_STORED && (t->n_dims > 2 || nrows % (2 * (uint64_t)heads[rows]) != 0)) {
            snprintf(why, whylen,
                     "tensor '%s': %" PRIu64 " rows do not split into %" PRId64 " heads", t->name,
                     nrows, heads[rows]);
            return -1;
        }
    }
    return 0;
}

/* Each merge is "left right". */
static int check_merges(const struct gguf_model *m)
{
    struct hf_arr a;
    const char *s;
    uint64_t n;
    const struct gguf_kv *kv = hf_kv(m, NULL, "tokenizer.ggml.merges");
    if (kv == NULL)
        return 0;
    if (hf_arr_open(kv, GGUF_VALUE_STRING, &a) < 0)
        return -1;
    for (uint64_t i = 0; i < a.n; i++)
        if (hf_arr_str(&a, &s, &n) < 0 || memchr(s, ' ', n) == NULL)
            return -1;
    return 0;
}

static int check_tokenizer(const struct gguf_model *m, char *why, size_t whylen)
{
    const char *s;
    uint64_t n;
    if (hf_kv(m, NULL, "tokenizer.huggingface.json") != NULL)
        return 0;
    if (hf_kv_str(hf_kv(m, NULL, "tokenizer.ggml.model"), &s, &n) < 0) {
        snprintf(why, whylen, "no tokenizer (tokenizer.ggml.model)");
        return -1;
    }
    if (!((n == 4 && memcmp(s, "gpt2", 4) == 0) || (n == 5 && memcmp(s, "llama", 5) == 0))) {
        snprintf(why, whylen, "tokenizer '%.*s'", (int)(n > 32 ? 32 : n), s);
        return -1;
    }
    const char *pre = "default";
    uint64_t pn = 7;
    if (n == 4 && hf_kv(m, NULL, "tokenizer.ggml.pre") != NULL &&
        (hf_kv_str(hf_kv(m, NULL, "tokenizer.ggml.pre"), &pre, &pn) < 0 ||
         !hf_pre_known(pre, pn))) {
        snprintf(why, whylen, "tokenizer pre-tokenizer '%.*s'", (int)(pn > 32 ? 32 : pn), pre);
        return -1;
    }
    struct hf_arr tok;
    if (hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.tokens"), GGUF_VALUE_STRING, &tok) < 0 ||
        tok.n == 0 || tok.n > UINT32_MAX / 2) {
        snprintf(why, whylen, "no token list (tokenizer.ggml.tokens)");
        return -1;
    }
    if (n == 4 && check_merges(m) < 0) {
        snprintf(why, whylen, "tokenizer.ggml.merges is not a list of \"left right\" strings");
        return -1;
    }
    return 0;
}

const struct hf_arch *hf_check(const struct gguf_model *m, enum dtype dt, char *why, size_t whylen)
{
    const struct hf_arch *a = hf_arch_find(m->architecture);
    if (a == NULL) {
        snprintf(why, whylen, "architecture '%s'",
                 m->architecture != NULL ? m->architecture : "(none)");
        return NULL;
    }
    if (check_keys(m, a, why, whylen) < 0 || check_tensors(m, a, dt, why, whylen) < 0 ||
        check_tokenizer(m, why, whylen) < 0)
        return NULL;
    return a;
}
