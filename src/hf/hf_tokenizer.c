/* hf_tokenizer.c - see hf_tokenizer.h. The JSON follows the structure the
 * `tokenizers` library serializes (version 1.0). */
#include "hf/hf_tokenizer.h"

#include "format/gguf.h"
#include "hf/hf_kv.h"
#include "hf/hf_vocab.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Pre-tokenizer regexes of the tokenizers llama.cpp names (llama-vocab.cpp
 * and the models' own tokenizer.json). */
#define RE_LLAMA3                                                                                  \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "                     \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2                                                                                   \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "                          \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

struct pre {
    const char *name;
    const char *regex;  /* NULL: ByteLevel's own (GPT-2) regex */
    bool nfc;           /* an NFC normalizer first */
    bool ignore_merges; /* a whole word in the vocabulary is one token */
};

static const struct pre pres[] = {
    {"default", NULL, false, false},
    {"gpt-2", NULL, false, false},
    {"llama-bpe", RE_LLAMA3, false, true},
    {"qwen2", RE_QWEN2, true, false},
};

static const struct pre *pre_find(const char *s, uint64_t n)
{
    for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
        if (strlen(pres[i].name) == n && memcmp(pres[i].name, s, n) == 0)
            return &pres[i];
    return NULL;
}

bool hf_pre_known(const char *s, uint64_t n)
{
    return pre_find(s, n) != NULL;
}

/* tokenizer.ggml.pre, "default" when absent. */
static const struct pre *model_pre(const struct gguf_model *m)
{
    const char *s;
    uint64_t n;
    if (hf_kv_str(hf_kv(m, NULL, "tokenizer.ggml.pre"), &s, &n) < 0)
        return &pres[0];
    return pre_find(s, n);
}

static bool is_llama(const struct gguf_model *m)
{
    const char *s;
    uint64_t n;
    return hf_kv_str(hf_kv(m, NULL, "tokenizer.ggml.model"), &s, &n) == 0 && n == 5 &&
           memcmp(s, "llama", 5) == 0;
}

/* tokenizer.ggml.add_{bos,eos}_token, or llama.cpp's default. */
static bool adds(const struct gguf_model *m, const char *key, bool dflt)
{
    const struct gguf_kv *kv = hf_kv(m, NULL, key);
    return kv == NULL ? dflt : hf_kv_true(kv);
}

/* The token with id tokenizer.ggml.<which>_token_id, or NULL. */
static const struct hf_token *special(const struct gguf_model *m, const struct hf_vocab *v,
                                      const char *key)
{
    int64_t id;
    if (hf_kv_int(hf_kv(m, NULL, key), &id) < 0 || id < 0 || (uint64_t)id >= v->n)
        return NULL;
    return &v->tok[id];
}

static void put_str(struct text *tx, const struct hf_token *t)
{
    text_json_string(tx, t->s, t->n);
}

/* ------------------------------------------------------------ tokenizer.json */

static void put_added(struct text *tx, const struct hf_vocab *v)
{
    bool first = true;
    text_puts(tx, "\"added_tokens\":[");
    for (uint32_t i = 0; i < v->n; i++) {
        int32_t ty = v->tok[i].type;
        if (ty != HF_TOK_UNKNOWN && ty != HF_TOK_CONTROL && ty != HF_TOK_USER)
            continue;
        text_printf(tx, "%s\n{\"id\":%" PRIu32 ",\"content\":", first ? "" : ",", i);
        put_str(tx, &v->tok[i]);
        text_printf(tx,
                    ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                    "\"normalized\":false,\"special\":%s}",
                    ty == HF_TOK_USER ? "false" : "true");
        first = false;
    }
    text_puts(tx, "]");
}

static void put_template_piece(struct text *tx, const struct hf_token *t, bool comma)
{
    if (t == NULL)
        return;
    text_puts(tx, "{\"SpecialToken\":{\"id\":");
    put_str(tx, t);
    text_printf(tx, ",\"type_id\":0}}%s", comma ? "," : "");
}

static void put_template_special(struct text *tx, const struct hf_token *t,
                                 const struct hf_vocab *v, bool comma)
{
    put_str(tx, t);
    text_printf(tx, ":{\"id\":");
    put_str(tx, t);
    text_printf(tx, ",\"ids\":[%td],\"tokens\":[", t - v->tok);
    put_str(tx, t);
    text_printf(tx, "]}%s", comma ? "," : "");
}

/* BOS/EOS around each sequence, or null when neither is added. */
static void put_post(struct text *tx, const struct gguf_model *m, const struct hf_vocab *v)
{
    const struct hf_token *bos = adds(m, "tokenizer.ggml.add_bos_token", is_llama(m))
                                     ? special(m, v, "tokenizer.ggml.bos_token_id")
                                     : NULL;
    const struct hf_token *eos = adds(m, "tokenizer.ggml.add_eos_token", false)
                                     ? special(m, v, "tokenizer.ggml.eos_token_id")
                                     : NULL;
    text_puts(tx, "\"post_processor\":");
    if (bos == NULL && eos == NULL) {
        text_puts(tx, "null");
        return;
    }
    text_puts(tx, "{\"type\":\"TemplateProcessing\",\"single\":[");
    put_template_piece(tx, bos, true);
    text_puts(tx, "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}");
    put_template_piece(tx, eos, false);
    text_puts(tx, "],\"pair\":[");
    put_template_piece(tx, bos, true);
    text_puts(tx, "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},");
    put_template_piece(tx, eos, true);
    put_template_piece(tx, bos, true);
    text_puts(tx, "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}");
    put_template_piece(tx, eos, false);
    text_puts(tx, "],\"special_tokens\":{");
    if (bos != NULL)
        put_template_special(tx, bos, v, eos != NULL && eos != bos);
    if (eos != NULL && eos != bos)
        put_template_special(tx, eos, v, false);
    text_puts(tx, "}}");
}

static void put_vocab(struct text *tx, const struct hf_vocab *v)
{
    text_puts(tx, "\"vocab\":{");
    for (uint32_t i = 0; i < v->n; i++) {
        text_puts(tx, i ? ",\n" : "\n");
        put_str(tx, &v->tok[i]);
        text_printf(tx, ":%" PRIu32, i);
    }
    text_puts(tx, "}");
}

static void put_merge(struct text *tx, const char *l, size_t ln, const char *r, size_t rn,
                      bool first)
{
    text_puts(tx, first ? "\n[" : ",\n[");
    text_json_string(tx, l, ln);
    text_puts(tx, ",");
    text_json_string(tx, r, rn);
    text_puts(tx, "]");
}

/* tokenizer.ggml.merges ("left right" each) as pairs. */
static int put_gpt2_merges(struct text *tx, const struct gguf_model *m)
{
    struct hf_arr a;
    const char *s;
    uint64_t n;
    text_puts(tx, "\"merges\":[");
    if (hf_arr_open(hf_kv(m, NULL, "tokenizer.ggml.merges"), GGUF_VALUE_STRING, &a) == 0)
        for (uint64_t i = 0; i < a.n; i++) {
            if (hf_arr_str(&a, &s, &n) < 0)
                return -1;
            const char *sp = memchr(s, ' ', n);
            if (sp == NULL)
                return -1;
            put_merge(tx, s, (size_t)(sp - s), sp + 1, n - (size_t)(sp - s) - 1, i == 0);
        }
    text_puts(tx, "]");
    return 0;
}

static int put_llama_merges(struct text *tx, const struct hf_vocab *v)
{
    uint64_t n;
    struct hf_merge *mg = hf_vocab_merges(v, &n);
    if (mg == NULL)
        return -1;
    text_puts(tx, "\"merges\":[");
    for (uint64_t i = 0; i < n; i++) {
        const struct hf_token *l = &v->tok[mg[i].left], *r = &v->tok[mg[i].right];
        put_merge(tx, l->s, l->n, r->s, r->n, i == 0);
    }
    text_puts(tx, "]");
    free(mg);
    return 0;
}

static void put_model_head(struct text *tx, const struct hf_token *unk, bool llama,
                           bool ignore_merges)
{
    text_puts(tx, "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":");
    if (llama && unk != NULL)
        put_str(tx, unk);
    else
        text_puts(tx, "null");
    text_printf(tx,
                ",\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,"
                "\"fuse_unk\":%s,\"byte_fallback\":%s,\"ignore_merges\":%s,",
                llama ? "true" : "false", llama ? "true" : "false",
                ignore_merges ? "true" : "false");
}

/* normalizer, pre_tokenizer, decoder of a byte-level BPE. */
static void put_gpt2_pipeline(struct text *tx, const struct pre *p)
{
    text_printf(tx,
                "\"normalizer\":%s,\n\"pre_tokenizer\":", p->nfc ? "{\"type\":\"NFC\"}" : "null");
    if (p->regex == NULL) {
        text_puts(tx, "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                      "\"use_regex\":true}");
    } else {
        text_puts(tx, "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
                      "{\"Regex\":");
        text_json_string(tx, p->regex, strlen(p->regex));
        text_puts(tx, "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","
                      "\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}]}");
    }
    text_puts(tx, ",\n\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                  "\"trim_offsets\":true,\"use_regex\":true}");
}

/* normalizer, pre_tokenizer, decoder of a SentencePiece-style BPE. */
static void put_llama_pipeline(struct text *tx, bool space_prefix)
{
    text_puts(tx, "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[");
    if (space_prefix)
        text_puts(tx, "{\"type\":\"Prepend\",\"prepend\":\"\xe2\x96\x81\"},");
    text_puts(tx, "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":"
                  "\"\xe2\x96\x81\"}]},\n\"pre_tokenizer\":null,\n\"decoder\":{\"type\":"
                  "\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":"
                  "\"\xe2\x96\x81\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},"
                  "{\"type\":\"Fuse\"}");
    if (space_prefix)
        text_puts(tx, ",{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}");
    text_puts(tx, "]}");
}

static int embedded(struct text *tx, const struct gguf_model *m)
{
    const char *s;
    uint64_t n;
    if (hf_kv_str(hf_kv(m, NULL, "tokenizer.huggingface.json"), &s, &n) < 0)
        return 0;
    text_put(tx, s, n);
    return 1;
}

int hf_tokenizer_json(struct text *tx, const struct gguf_model *m)
{
    if (embedded(tx, m))
        return 0;
    struct hf_vocab v;
    const struct pre *p = model_pre(m);
    bool llama = is_llama(m);
    if ((!llama && p == NULL) || hf_vocab_load(m, &v) < 0)
        return -1;
    text_puts(tx, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\n");
    put_added(tx, &v);
    text_puts(tx, ",\n");
    if (llama)
        put_llama_pipeline(tx, adds(m, "tokenizer.ggml.add_space_prefix", true));
    else
        put_gpt2_pipeline(tx, p);
    text_puts(tx, ",\n");
    put_post(tx, m, &v);
    text_puts(tx, ",\n");
    put_model_head(tx, special(m, &v, "tokenizer.ggml.unknown_token_id"), llama,
                   !llama && p->ignore_merges);
    put_vocab(tx, &v);
    text_puts(tx, ",\n");
    int rc = llama ? put_llama_merges(tx, &v) : put_gpt2_merges(tx, m);
    text_puts(tx, "}}\n");
    hf_vocab_free(&v);
    return rc;
}

/* ------------------------------------------------------------ the two maps */

static const char *const roles[][2] = {
    {"bos_token", "tokenizer.ggml.bos_token_id"},
    {"eos_token", "tokenizer.ggml.eos_token_id"},
    {"unk_token", "tokenizer.ggml.unknown_token_id"},
    {"pad_token", "tokenizer.ggml.padding_token_id"},
};

/* "bos_token": "<s>", ... for the ids the model names. */
static void put_roles(struct text *tx, const struct gguf_model *m, const struct hf_vocab *v)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        const struct hf_token *t = v->n ? special(m, v, roles[i][1]) : NULL;
        if (t == NULL)
            continue;
        text_printf(tx, ",\n  \"%s\": ", roles[i][0]);
        put_str(tx, t);
    }
}

int hf_special_tokens_json(struct text *tx, const struct gguf_model *m)
{
    struct hf_vocab v = {0};
    if (hf_vocab_load(m, &v) < 0)
        v = (struct hf_vocab){0};
    struct text r = {0};
    put_roles(&r, m, &v);
    text_puts(tx, "{");
    if (r.len > 1) /* without the first comma */
        text_put(tx, r.buf + 1, r.len - 1);
    text_puts(tx, "\n}\n");
    tx->oom |= r.oom;
    text_free(&r);
    hf_vocab_free(&v);
    return 0;
}

int hf_tokenizer_config_json(struct text *tx, const struct gguf_model *m)
{
    struct hf_vocab v = {0};
    const char *s;
    uint64_t n;
    if (hf_vocab_load(m, &v) < 0)
        v = (struct hf_vocab){0};
    text_printf(tx,
                "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n"
                "  \"add_bos_token\": %s,\n  \"add_eos_token\": %s,\n"
                "  \"clean_up_tokenization_spaces\": false",
                adds(m, "tokenizer.ggml.add_bos_token", is_llama(m)) ? "true" : "false",
                adds(m, "tokenizer.ggml.add_eos_token", false) ? "true" : "false");
    put_roles(tx, m, &v);
    if (hf_kv_str(hf_kv(m, NULL, "tokenizer.chat_template"), &s, &n) == 0) {
        text_puts(tx, ",\n  \"chat_template\": ");
        text_json_string(tx, s, n);
    }
    text_puts(tx, "\n}\n");
    hf_vocab_free(&v);
    return 0;
}
