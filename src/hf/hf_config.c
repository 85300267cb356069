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

static void put_token_ids(struct text *tx, const struct gguf_model *m)
{
    put_int(tx, hf_kv(m, NULL, "tokenizer.ggml.bos_token_id"), "bos_token_id");
    put_int(tx, hf_kv(m, NULL, "tokenizer.ggml.eos_token_id"), "eos_token_id");
    put_int(tx, hf_kv(m, NULL, "tokenizer.ggml.padding_token_id"), "pad_token_id");
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
    if (hf_kv(m, g, "attention.key_length") != NULL)
        put_int(tx, hf_kv(m, g, "attention.key_length"), "head_dim");
    else
        text_printf(tx, ",\n  \"head_dim\": %" PRId64, hidden / heads);
    put_num(tx, hf_kv(m, g, "context_length"), "max_position_embeddings", "2048");
    put_num(tx, hf_kv(m, g, "attention.layer_norm_rms_epsilon"), "rms_norm_eps", "1e-06");
    put_num(tx, hf_kv(m, g, "rope.freq_base"), "rope_theta", "10000.0");
    put_rope_scaling(tx, m, a);
    text_printf(tx, ",\n  \"vocab_size\": %" PRIu64, hf_vocab_size(m, a));
    text_printf(tx, ",\n  \"tie_word_embeddings\": %s",
                hf_has_tensor(m, "output.weight") ? "false" : "true");
    if (!a->qkv_bias)
        text_printf(tx, ",\n  \"attention_bias\": %s",
                    hf_has_tensor(m, "blk.0.attn_q.bias") ? "true" : "false");
    text_puts(tx, ",\n  \"hidden_act\": \"silu\"");
    put_token_ids(tx, m);
    text_printf(tx, ",\n  \"torch_dtype\": \"%s\",\n  \"use_cache\": true\n}\n", torch_dtype(dt));
}

void hf_generation_json(struct text *tx, const struct gguf_model *m)
{
    text_puts(tx, "{\n  \"_from_model_config\": true");
    put_token_ids(tx, m);
    text_puts(tx, "\n}\n");
}
