/* hf_config.c - see hf_config.h. */
#include "hf/hf_config.h"

#include "format/gguf.h"
#include "fs/kv_format.h"
#include "hf/hf_kv.h"
#include "hf/hf_rope.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

bool hf_has_tensor(const struct gguf_model *m, const char *name)
{
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return true;
    return false;
}

uint64_t hf_vocab_size(const struct gguf_model *m, const struct hf_arch *a)
{
    int64_t v;
    struct hf_arr tok;
    if (hf_kv_int(hf_kv(m, a->gguf, "vocab_size"), &v) == 0 && v > 0)
        return (uint64_t)v;
    if (hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.tokens"), GGUF_VALUE_STRING, &tok) == 0)
        return tok.n;
    for (uint64_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, "token_embd.weight") == 0 && m->tensors[i].n_dims == 2)
            return m->tensors[i].ne[1];
    return 0;
}

/* ,"json": value of an integer key, when present. */
static void put_int(struct text *tx, const struct gguf_kv *kv, const char *json)
{
    int64_t v;
    if (hf_kv_int(kv, &v) == 0)
        text_printf(tx, ",\n  \"%s\": %" PRId64, json, v);
}

/* ,"json": the stored number as its shortest decimal (a whole f32 as
 * Python writes it, "10000.0"), or `dflt`. */
static void put_num(struct text *tx, const struct gguf_kv *kv, const char *json, const char *dflt)
{
    size_t at = tx->len;
    float f;
    text_printf(tx, ",\n  \"%s\": ", json);
    if (kv != NULL && kv->type == GGUF_VALUE_FLOAT32 && kv->value_len == 4) {
        memcpy(&f, kv->value, 4);
        if (f == (float)(int64_t)f && fabsf(f) < 1e15f) {
            text_printf(tx, "%.1f", (double)f);
            return;
        }
    }
    if (kv == NULL ||
        (kv->type != GGUF_VALUE_FLOAT32 && kv->type != GGUF_VALUE_FLOAT64 &&
         kv->type != GGUF_VALUE_UINT32 && kv->type != GGUF_VALUE_INT32) ||
        kv_json(tx, kv->type, kv->value, kv->value_len) < 0) {
        if (!text_failed(tx))
            tx->len = at;
        if (dflt != NULL)
            text_printf(tx, ",\n  \"%s\": %s", json, dflt);
    }
}

/* A float as Python writes one: "8.0", "0.125". */
static void put_double(struct text *tx, double v)
{
    if (v == (double)(int64_t)v && fabs(v) < 1e15)
        text_printf(tx, "%.1f", v);
    else
        text_printf(tx, "%.17g", v);
}

/* "name": [the n F32 values of tensor t] */
static void put_factors(struct text *tx, const struct gguf_model *m, const char *name,
                        const struct gguf_tensor *t, uint64_t n)
{
    float f[1024];
    if (n > 1024 || hf_rope_read(m, t, f, n) < 0) {
        tx->oom = true; /* hf_check() read them: the file failed since */
        return;
    }
    text_printf(tx, ", \"%s\": [", name);
    for (uint64_t i = 0; i < n; i++) {
        text_puts(tx, i ? ", " : "");
        put_double(tx, f[i]);
    }
    text_puts(tx, "]");
}

/* phi3's LongRoPE (hf_rope.h): the lists, exactly the stored f32 values;
 * transformers takes the attention factor from the two context lengths. */
static void put_longrope(struct text *tx, const struct gguf_model *m, const struct hf_arch *a)
{
    struct hf_longrope r;
    if (hf_rope_longrope(m, a, &r) < 0 || r.long_f == NULL)
        return;
    text_puts(tx, ",\n  \"rope_scaling\": {\"rope_type\": \"longrope\", \"type\": \"longrope\"");
    put_factors(tx, m, "long_factor", r.long_f, r.n);
    put_factors(tx, m, "short_factor", r.short_f, r.n);
    text_puts(tx, "}");
}

/* rope_scaling: linear and yarn, the two types llama.cpp writes, and
 * Llama 3's, recognized from rope_freqs.weight. */
static void put_rope_scaling(struct text *tx, const struct gguf_model *m, const struct hf_arch *a)
{
    const char *s, *arch = a->gguf;
    uint64_t n;
    struct hf_llama3_rope r;
    if (a->permute_qk && hf_rope_llama3(m, a, &r) == 0) {
        text_puts(tx, ",\n  \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": ");
        put_double(tx, r.factor);
        text_puts(tx, ", \"low_freq_factor\": ");
        put_double(tx, r.low_freq_factor);
        text_puts(tx, ", \"high_freq_factor\": ");
        put_double(tx, r.high_freq_factor);
        text_printf(tx, ", \"original_max_position_embeddings\": %" PRId64 "}", r.original_context);
        return;
    }
    if (hf_kv_str(hf_kv(m, arch, "rope.scaling.type"), &s, &n) < 0 ||
        (n == 4 && memcmp(s, "none", 4) == 0))
        return;
    text_printf(tx, ",\n  \"rope_scaling\": {\"rope_type\": \"%.*s\", \"type\": \"%.*s\"", (int)n,
                s, (int)n, s);
    put_num(tx, hf_kv(m, arch, "rope.scaling.factor"), "factor", "1.0");
    put_int(tx, hf_kv(m, arch, "rope.scaling.original_context_length"),
            "original_max_position_embeddings");
    text_puts(tx, "}");
}

/* The special token ids; with `nulls`, null for an absent one (Phi3's
 * config defaults pad_token_id to 32000, an embedding row a smaller
 * vocabulary does not have). */
static void put_token_ids(struct text *tx, const struct gguf_model *m, bool nulls)
{
    static const char *const ids[][2] = {{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                                         {"tokenizer.ggml.eos_token_id", "eos_token_id"},
                                         {"tokenizer.ggml.padding_token_id", "pad_token_id"}};
    int64_t v;
    for (size_t i = 0; i < 3; i++)
        if (hf_kv_int(hf_kv(m, NULL, ids[i][0]), &v) == 0)
            text_printf(tx, ",\n  \"%s\": %" PRId64, ids[i][1], v);
        else if (nulls)
            text_printf(tx, ",\n  \"%s\": null", ids[i][1]);
}

/* Phi3's own fields: the pretraining context, the rotated fraction of a
 * head, the sliding window (0 in the GGUF: none). */
static void put_phi3(struct text *tx, const struct gguf_model *m, const struct hf_arch *a,
                     int64_t head_dim)
{
    const char *g = a->gguf;
    int64_t rot, win;
    put_int(tx, hf_kv(m, g, "rope.scaling.original_context_length"),
            "original_max_position_embeddings");
    if (hf_kv_int(hf_kv(m, g, "rope.dimension_count"), &rot) == 0 && rot != head_dim) {
        text_puts(tx, ",\n  \"partial_rotary_factor\": ");
        put_double(tx, (double)rot / (double)head_dim);
    }
    if (hf_kv_int(hf_kv(m, g, "attention.sliding_window"), &win) == 0 && win > 0)
        text_printf(tx, ",\n  \"sliding_window\": %" PRId64, win);
    else
        text_puts(tx, ",\n  \"sliding_window\": null");
}

static const char *torch_dtype(enum dtype dt)
{
    return dt == DTYPE_F16 ? "float16" : dt == DTYPE_BF16 ? "bfloat16" : "float32";
}

void hf_config_json(struct text *tx, const struct gguf_model *m, const struct hf_arch *a,
                    enum dtype dt)
{
    const char *g = a->gguf;
    int64_t hidden = 0, heads = 0, kv_heads = 0;
    hf_kv_int(hf_kv(m, g, "embedding_length"), &hidden);
    hf_heads(m, a, &heads, &kv_heads);
    text_printf(tx, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\"", a->class_name,
                a->model_type);
    put_int(tx, hf_kv(m, g, "embedding_length"), "hidden_size");
    put_int(tx, hf_kv(m, g, "feed_forward_length"), "intermediate_size");
    put_int(tx, hf_kv(m, g, "block_count"), "num_hidden_layers");
    text_printf(tx, ",\n  \"num_attention_heads\": %" PRId64, heads);
    text_printf(tx, ",\n  \"num_key_value_heads\": %" PRId64, kv_heads);
    if (a->fused)
        ; /* Phi3 has no head_dim: it is hidden / heads (hf_check) */
    else if (hf_kv(m, g, "attention.key_length") != NULL)
        put_int(tx, hf_kv(m, g, "attention.key_length"), "head_dim");
    else
        text_printf(tx, ",\n  \"head_dim\": %" PRId64, hidden / heads);
    put_num(tx, hf_kv(m, g, "context_length"), "max_position_embeddings", "2048");
    put_num(tx, hf_kv(m, g, "attention.layer_norm_rms_epsilon"), "rms_norm_eps", "1e-06");
    put_num(tx, hf_kv(m, g, "rope.freq_base"), "rope_theta", "10000.0");
    if (a->fused) {
        put_phi3(tx, m, a, hidden / heads);
        put_longrope(tx, m, a);
    } else {
        put_rope_scaling(tx, m, a);
    }
    text_printf(tx, ",\n  \"vocab_size\": %" PRIu64, hf_vocab_size(m, a));
    text_printf(tx, ",\n  \"tie_word_embeddings\": %s",
                hf_has_tensor(m, "output.weight") ? "false" : "true");
    if (!a->qkv_bias && !a->fused)
        text_printf(tx, ",\n  \"attention_bias\": %s",
                    hf_has_tensor(m, "blk.0.attn_q.bias") ? "true" : "false");
    text_puts(tx, ",\n  \"hidden_act\": \"silu\"");
    put_token_ids(tx, m, a->fused);
    text_printf(tx, ",\n  \"torch_dtype\": \"%s\",\n  \"use_cache\": true\n}\n", torch_dtype(dt));
}

void hf_generation_json(struct text *tx, const struct gguf_model *m)
{
    text_puts(tx, "{\n  \"_from_model_config\": true");
    put_token_ids(tx, m, false);
    text_puts(tx, "\n}\n");
}
