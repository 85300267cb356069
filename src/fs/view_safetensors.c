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
#include <stdlib.h>
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
static void st_header(struct text *tx, const struct gguf_model *m, const struct st_entry *e,
                      size_t n)
{
    uint64_t at = 0;
    text_puts(tx, "{");
    put_metadata(tx, m);
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = view_image_bytes(&m->tensors[e[i].tensor], e[i].dt);
        text_puts(tx, ",");
        text_json_string(tx, e[i].name, e[i].name_len);
        text_printf(tx, ":{\"dtype\":\"%s\",\"shape\":[",
                    st_dtype(&m->tensors[e[i].tensor], e[i].dt));
        for (uint32_t k = 0; k < e[i].n_dims; k++)
            text_printf(tx, k == 0 ? "%" PRIu64 : ",%" PRIu64, e[i].shape[k]);
        text_printf(tx, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", at, at + bytes);
        at += bytes;
    }
    text_puts(tx, "}");
    while (tx->len % 8 != 0 && !tx->oom)
        text_puts(tx, " ");
}

/* The data of one entry: the whole image, or one segment per row when the
 * rows of each head are to be de-interleaved (see st_entry). */
static void st_data(struct ns *ns, const struct gguf_model *m, const struct st_entry *e)
{
    uint64_t bytes = view_image_bytes(&m->tensors[e->tensor], e->dt);
    uint64_t rows = e->shape[0];
    if (e->heads == 0 || rows == 0 || rows % (2 * (uint64_t)e->heads) != 0) {
        ns_file_tensor(ns, e->tensor, e->dt, 0, bytes);
        return;
    }
    uint64_t row = bytes / rows, per_head = rows / e->heads, half = per_head / 2;
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t h = r / per_head, w = r % per_head;
        uint64_t src = h * per_head + 2 * (w % half) + w / half;
        ns_file_tensor(ns, e->tensor, e->dt, src * row, row);
    }
}

bool view_safetensors_dtype(const struct gguf_tensor *t, enum dtype mount, enum dtype *dt)
{
    return view_tensor_dtype(t, mount, dt) && st_dtype(t, *dt) != NULL &&
           text_valid_utf8(t->name, t->name_len);
}

int view_safetensors_file(struct ns *ns, uint64_t dir, const char *fname,
                          const struct gguf_model *m, const struct st_entry *e, size_t n, char *err,
                          size_t errlen)
{
    struct text h = {0};
    st_header(&h, m, e, n);
    if (text_failed(&h)) {
        snprintf(err, errlen, "out of memory for the safetensors header");
        return -1;
    }
    if (dir == 0 || h.len > ST_MAX_HEADER) { /* too many tensors: no file */
        text_free(&h);
        return 0;
    }
    unsigned char len[8];
    for (int k = 0; k < 8; k++)
        len[k] = (unsigned char)((uint64_t)h.len >> (8 * k));
    ns_file_begin(ns, dir, fname, -1);
    ns_file_literal(ns, len, 8);
    ns_file_literal_own(ns, h.buf, h.len);
    for (size_t i = 0; i < n; i++)
        st_data(ns, m, &e[i]);
    ns_file_end(ns);
    return 0;
}

int view_safetensors_build(struct ns *ns, const struct gguf_model *m, enum dtype mount, char *err,
                           size_t errlen)
{
    struct st_entry *e = calloc(m->n_tensors ? m->n_tensors : 1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errlen, "out of memory for the safetensors header");
        return -1;
    }
    size_t n = 0;
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        if (!view_safetensors_dtype(t, mount, &e[n].dt))
            continue;
        e[n].name = t->name;
        e[n].name_len = t->name_len;
        e[n].tensor = i;
        e[n].n_dims = t->n_dims;
        for (uint32_t k = 0; k < t->n_dims; k++)
            e[n].shape[k] = t->ne[t->n_dims - 1 - k];
        n++;
    }
    uint64_t dir = ns_add_dir(ns, NS_ROOT, ".safetensors");
    int rc = view_safetensors_file(ns, dir, "model.safetensors", m, e, n, err, errlen);
    free(e);
    return rc;
}
