/* view_meta.c - /.meta/: the GGUF header as files.
 *
 * model.json: {"gguf_version", "alignment", "data_offset", "metadata": {key:
 * {"type", "value"} (arrays add "element_type" and hold every element)},
 * "tensors": [{"name", "type", "shape" (numpy order), "ne" (GGUF order),
 * "elements", "offset" (absolute, in the model file), "bytes"}]}. A split
 * model adds "shards" (the shards' paths, in order) and each tensor's
 * "shard" (an index into it); its offsets are within that shard.
 * JSON strings are UTF-8: bytes that are not become U+FFFD there; the kv/
 * files have the raw bytes.
 * kv/<key>: one file per key (named as tensor files are, names.h), written
 * by kv_plain(): numbers and booleans as text, strings raw, arrays one
 * element per line, ending in a newline (an empty array is an empty file).
 * Every file is a made file (namespace.h): its text is made when it is
 * first stat'ed or opened, not at mount, because a vocabulary's arrays
 * (tens of thousands of tokens, scores, merges) take longer to format than
 * the rest of the mount. A kv file exists when its key can be a file name.
 */
#include "fs/views.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/kv_format.h"
#include "fs/names.h"
#include "fs/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put_kv(struct text *tx, const struct gguf_kv *kv)
{
    text_json_string(tx, kv->key, kv->key_len);
    text_printf(tx, ": {\"type\": \"%s\", ", kv_type_name(kv->type));
    uint32_t et;
    uint64_t n;
    if (kv->type == GGUF_VALUE_ARRAY && kv_array_info(kv->value, kv->value_len, &et, &n) == 0)
        text_printf(tx, "\"element_type\": \"%s\", ", kv_type_name(et));
    text_puts(tx, "\"value\": ");
    if (kv_json(tx, kv->type, kv->value, kv->value_len) < 0)
        text_puts(tx, "null");
    text_puts(tx, "}");
}

static void put_tensor(struct text *tx, const struct gguf_model *m, const struct gguf_tensor *t)
{
    char tb[16];
    text_puts(tx, "{\"name\": ");
    text_json_string(tx, t->name, t->name_len);
    text_printf(tx, ", \"type\": \"%s\", \"shape\": [", ggml_type_name(t->type, tb));
    for (uint32_t k = t->n_dims; k-- > 0;)
        text_printf(tx, k + 1 == t->n_dims ? "%" PRIu64 : ", %" PRIu64, t->ne[k]);
    text_puts(tx, "], \"ne\": [");
    for (uint32_t k = 0; k < t->n_dims; k++)
        text_printf(tx, k ? ", %" PRIu64 : "%" PRIu64, t->ne[k]);
    text_printf(tx, "], \"elements\": %" PRIu64 ", \"offset\": %" PRIu64 ", \"bytes\": %" PRIu64,
                t->n_elements, t->offset, t->nbytes);
    if (m->n_shards > 0)
        text_printf(tx, ", \"shard\": %" PRIu32, t->shard);
    text_puts(tx, "}");
}

static void model_json(struct text *tx, const struct gguf_model *m)
{
    text_printf(tx,
                "{\n\"gguf_version\": %" PRIu32 ",\n\"alignment\": %" PRIu32
                ",\n\"data_offset\": %" PRIu64 ",",
                m->version, m->alignment, m->data_offset);
    for (uint32_t i = 0; i < m->n_shards; i++) {
        text_puts(tx, i ? ", " : "\n\"shards\": [");
        text_json_string(tx, m->shards[i].path, strlen(m->shards[i].path));
        text_puts(tx, i + 1 == m->n_shards ? "]," : "");
    }
    text_puts(tx, "\n\"metadata\": {");
    for (uint64_t i = 0; i < m->n_kv; i++) {
        text_puts(tx, i ? ",\n  " : "\n  ");
        put_kv(tx, &m->kv[i]);
    }
    text_puts(tx, "\n},\n\"tensors\": [");
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        text_puts(tx, i ? ",\n  " : "\n  ");
        put_tensor(tx, m, &m->tensors[i]);
    }
    text_puts(tx, "\n]\n}\n");
}

#define MODEL_JSON UINT64_MAX /* the maker's key for model.json; else a kv index */

static int make_meta(const void *arg, uint64_t key, struct text *tx)
{
    const struct gguf_model *m = arg;
    if (key == MODEL_JSON) {
        model_json(tx, m);
        return 0;
    }
    const struct gguf_kv *kv = &m->kv[key];
    return kv_plain(tx, kv->type, kv->value, kv->value_len);
}

/* kv/<key> for each key that can be a file name. */
static void kv_files(struct ns *ns, uint64_t dir, const struct gguf_model *m)
{
    for (uint64_t i = 0; i < m->n_kv; i++) {
        const struct gguf_kv *kv = &m->kv[i];
        char name[NAMES_ENCODED_MAX(255)];
        int n = kv->key_len <= 255 ? names_encode(kv->key, kv->key_len, name, sizeof(name)) : -1;
        if (n < 0 || n > 255)
            continue; /* a NUL inside, or too long for a file name */
        ns_add_made(ns, dir, name, &(struct ns_maker){make_meta, m, i});
    }
}

int view_meta_build(struct ns *ns, const struct gguf_model *m, char *err, size_t errlen)
{
    (void)err, (void)errlen; /* errors are the namespace's, sticky */
    uint64_t dir = ns_add_dir(ns, NS_ROOT, ".meta");
    uint64_t kv = ns_add_dir(ns, dir, "kv");
    ns_add_made(ns, dir, "model.json", &(struct ns_maker){make_meta, m, MODEL_JSON});
    if (kv != 0)
        kv_files(ns, kv, m);
    return 0;
}
