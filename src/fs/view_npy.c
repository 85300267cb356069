/* view_npy.c - /.npy/<tensor>.npy: one NPY file per tensor.
 *
 * Each file is two segments: the NPY header (literal) and the tensor's image.
 * The header follows numpy's format document: magic "\x93NUMPY", version 1.0
 * (2.0 only for a header past 65535 bytes, which no shape here needs), the
 * header length, then a Python dict literal padded with spaces and a final
 * newline so the data starts at a multiple of 64 bytes. The shape is GGUF's
 * ne reversed (numpy's C order). The descr follows the dtype served:
 *   f32 '<f4', f16 '<f2', stored integers '|i1' '<i2' '<i4' '<i8', f64 '<f8';
 *   bf16 '<u2': numpy has no bfloat16, so the array holds the bf16 bit
 *   patterns as uint16 (torch.from_numpy(a).view(torch.bfloat16) gives the
 *   values); numpy.load reads it unmodified, both plainly and by mmap.
 * Tensors that cannot be decoded are left out.
 */
#include "fs/views.h"

#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"
#include "fs/text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NPY_ALIGN 64

static const char *npy_descr(const struct gguf_tensor *t, enum dtype dt)
{
    switch (dt) {
    case DTYPE_F32:
        return "<f4";
    case DTYPE_F16:
        return "<f2";
    case DTYPE_BF16:
        return "<u2";
    case DTYPE_STORED:
        break;
    }
    switch (t->type) {
    case GT_I8:
        return "|i1";
    case GT_I16:
        return "<i2";
    case GT_I32:
        return "<i4";
    case GT_I64:
        return "<i8";
    case GT_F64:
        return "<f8";
    default:
        return NULL;
    }
}

/* The header of t's NPY file into tx: magic, version, length, dict. */
static void npy_header(struct text *tx, const struct gguf_tensor *t, const char *descr)
{
    struct text d = {0};
    text_printf(&d, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (uint32_t k = t->n_dims; k-- > 0;)
        text_printf(&d, k + 1 == t->n_dims ? "%" PRIu64 : ", %" PRIu64, t->ne[k]);
    text_puts(&d, t->n_dims == 1 ? ",), }" : "), }");
    if (text_failed(&d)) {
        tx->oom = true;
        return;
    }
    size_t pre = d.len + 1 < 65536 - NPY_ALIGN ? 10 : 12; /* version 1.0 or 2.0 */
    size_t total = (pre + d.len + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t hlen = total - pre;
    text_put(tx, "\x93NUMPY", 6);
    if (pre == 10) {
        unsigned char v[4] = {1, 0, (unsigned char)hlen, (unsigned char)(hlen >> 8)};
        text_put(tx, v, 4);
    } else {
        unsigned char v[6] = {2,
                              0,
                              (unsigned char)hlen,
                              (unsigned char)(hlen >> 8),
                              (unsigned char)(hlen >> 16),
                              (unsigned char)(hlen >> 24)};
        text_put(tx, v, 6);
    }
    text_put(tx, d.buf, d.len);
    while (tx->len < total - 1 && !tx->oom)
        text_puts(tx, " ");
    text_puts(tx, "\n");
    text_free(&d);
}

int view_npy_build(struct ns *ns, const struct gguf_model *m, enum dtype mount, char *err,
                   size_t errlen)
{
    uint64_t dir = ns_add_dir(ns, NS_ROOT, ".npy");
    for (uint64_t i = 0; i < m->n_tensors && dir != 0; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        char name[NAMES_ENCODED_MAX(GGUF_MAX_NAME) + 4];
        enum dtype dt;
        const char *descr;
        if (!view_tensor_dtype(t, mount, &dt) || (descr = npy_descr(t, dt)) == NULL ||
            view_file_name(t, name, sizeof(name) - 4) < 0)
            continue;
        strcat(name, ".npy");
        struct text h = {0};
        npy_header(&h, t, descr);
        if (text_failed(&h)) {
            snprintf(err, errlen, "out of memory for the NPY headers");
            return -1;
        }
        ns_file_begin(ns, dir, name, (int64_t)i);
        ns_file_literal(ns, h.buf, h.len);
        ns_file_tensor(ns, i, dt, 0, view_image_bytes(t, dt));
        ns_file_end(ns);
        text_free(&h);
    }
    return 0;
}
