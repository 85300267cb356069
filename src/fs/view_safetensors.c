/* view_safetensors.c - /.safetensors/model.safetensors: every decodable
 * tensor of the model in one safetensors file.
 *
 * Layout (the published format): u64 little-endian N, N bytes of UTF-8 JSON
 * padded with spaces so the data starts at a multiple of 8, then the data.
 * The JSON holds "__metadata__" ({"format": "pt"} and every general.* key,
 * each value as a string) and one entry per tensor under its GGUF name:
 * dtype (F32, F16 or BF16 as the mount serves; integer and f64 tensors keep
 * their own: I8, I16, I32, I64, F64), shape in numpy order (ne reversed) and
 * data_offsets [begin, end) relative to the data. Tensors are laid out in
 * GGUF order, back to back, so the ranges tile the data exactly. The file is
 * one literal segment (length + JSON) and one tensor segment per tensor.
 * Left out: tensors that cannot be decoded, and tensors whose name is not
 * valid UTF-8 (a JSON key cannot hold it).
 */
#include "fs/views.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/kv_format.h"
#include "fs/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ST_MAX_HEADER (100u * 1000 * 1000) /* readers refuse more */

static const char *st_dtype(const struct gguf_tensor *t, enum dtype dt)
{
    static const char *const plain[] = {"F32", "F16", "BF16"};
    if (dt != DTYPE_STORED)
        return plain[dt];
    switch (t->type) {
    case GT_I8:
        return "I8";
    case GT_I16:
        return "I16";
    case GT_I32:
        return "I32";
    case GT_I64:
        return "I64";
    case GT_F64:
        return "F64";
    default:
        return NULL;
    }
}

static bool included(const struct gguf_tensor *t, enum dtype mount, enum dtype *dt)
{
    return view_tensor_dtype(t, mount, dt) && st_dtype(t, *dt) != NULL &&
           text_valid_utf8(t->name, t->name_len);
}

static void put_metadata(struct text *tx, const struct gguf_model *m)
{
    text_puts(tx, "\"__metadata__\":{\"format\":\"pt\"");
    for (uint64_t i = 0; i < m->n_kv; i++) {
        const struct gguf_kv *kv = &m->kv[i];
        if (strncmp(kv->key, "general.", 8) != 0 || strlen(kv->key) != kv->key_len ||
            !text_valid_utf8(kv->key, kv->key_len))
            continue;
        struct text v = {0};
        if (kv_string(&v, kv->type, kv->value, kv->value_len) < 0 || text_failed(&v)) {
            tx->oom |= text_failed(&v);
            text_free(&v);
            continue;
        }
        text_puts(tx, ",");
        text_json_string(tx, kv->key, kv->key_len);
        text_puts(tx, ":");
        text_json_string(tx, v.buf != NULL ? v.buf : "", v.len);
        text_free(&v);
    }
    text_puts(tx, "}");
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static void st_header(struct text *tx, const struct gguf_model *m, enum dtype mount)
{
    uint64_t at = 0;
    text_puts(tx, "{");
    put_metadata(tx, m);
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        enum dtype dt;
        if (!included(t, mount, &dt))
            continue;
        uint64_t n = view_image_bytes(t, dt);
        text_puts(tx, ",");
        text_json_string(tx, t->name, t->name_len);
        text_printf(tx, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype(t, dt));
        for (uint32_t k = t->n_dims; k-- > 0;)
            text_printf(tx, k + 1 == t->n_dims ? "%" PRIu64 : ",%" PRIu64, t->ne[k]);
        text_printf(tx, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", at, at + n);
        at += n;
    }
    text_puts(tx, "}");
    while (tx->len % 8 != 0 && !tx->oom)
        text_puts(tx, " ");
}

int view_safetensors_build(struct ns *ns, const struct gguf_model *m, enum dtype mount, char *err,
                           size_t errlen)
{
    struct text h = {0};
    st_header(&h, m, mount);
    if (text_failed(&h)) {
        snprintf(err, errlen, "out of memory for the safetensors header");
        return -1;
    }
    uint64_t dir = ns_add_dir(ns, NS_ROOT, ".safetensors");
    if (dir == 0 || h.len > ST_MAX_HEADER) { /* too many tensors: no file */
        text_free(&h);
        return 0;
    }
    unsigned char len[8];
    for (int k = 0; k < 8; k++)
        len[k] = (unsigned char)((uint64_t)h.len >> (8 * k));
    ns_file_begin(ns, dir, "model.safetensors", -1);
    ns_file_literal(ns, len, 8);
    ns_file_literal_own(ns, h.buf, h.len);
    h.buf = NULL;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        enum dtype dt;
        if (included(&m->tensors[i], mount, &dt))
            ns_file_tensor(ns, i, dt, 0, view_image_bytes(&m->tensors[i], dt));
    }
    ns_file_end(ns);
    text_free(&h);
    return 0;
}
