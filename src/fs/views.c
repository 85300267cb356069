/* views.c - the root of the tree (tensor files, .control) and the helpers
 * the views share. See views.h. */
#include "fs/views.h"

#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"
#include "hf/view_hf.h"

#include <inttypes.h>
#include <stdio.h>

bool view_tensor_dtype(const struct gguf_tensor *t, enum dtype mount, enum dtype *out)
{
    switch (t->type) {
    case GT_I8:
    case GT_I16:
    case GT_I32:
    case GT_I64:
    case GT_F64:
        *out = DTYPE_STORED;
        return true;
    case GT_F32:
    case GT_F16:
    case GT_BF16:
        *out = mount;
        return true;
    default:
        *out = mount;
        return dequant_supported(t->type);
    }
}

uint64_t view_image_bytes(const struct gguf_tensor *t, enum dtype dt)
{
    uint64_t n;
    if (__builtin_mul_overflow(t->n_elements, (uint64_t)dtype_elem_bytes(dt, t->type), &n) ||
        n > INT64_MAX)
        return INT64_MAX;
    return n;
}

int view_file_name(const struct gguf_tensor *t, char *out, size_t outlen)
{
    if (t->name_len >= GGUF_MAX_NAME)
        return -1;
    return names_encode(t->name, t->name_len, out, outlen) < 0 ? -1 : 0;
}

/* One file per tensor at the root: its image in the mount dtype, whatever
 * its type (a tensor the read path cannot serve is listed, and its reads
 * say why they fail). */
static int raw_build(struct ns *ns, const struct gguf_model *m, enum dtype dt, char *err,
                     size_t errlen)
{
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        char name[NAMES_ENCODED_MAX(GGUF_MAX_NAME)];
        if (view_file_name(t, name, sizeof(name)) < 0) {
            snprintf(err, errlen, "tensor %" PRIu64 ": name cannot be a file name", i);
            return -1;
        }
        struct ns_seg s = {
            .kind = SEG_TENSOR, .tensor = i, .dt = dt, .len = view_image_bytes(t, dt)};
        if (ns_add_file(ns, NS_ROOT, name, (int64_t)i, &s, 1) == 0)
            break;
    }
    return 0;
}

int views_build(struct ns *ns, const struct gguf_model *m, const struct views_options *o, char *err,
                size_t errlen)
{
    /* Nodes: a tensor file and an .npy each, a kv file per key, a few
     * more; segments: one per tensor file, two per .npy, one per tensor
     * and two more in the safetensors file. */
    if (ns_reserve(ns, 2 * m->n_tensors + m->n_kv + 16, 4 * m->n_tensors + m->n_kv + 16) != 0) {
        snprintf(err, errlen, "out of memory for the file tree");
        return -1;
    }
    ns_add_dynamic(ns, NS_ROOT, ".control", &o->control);
    if (raw_build(ns, m, o->dtype, err, errlen) != 0 ||
        view_npy_build(ns, m, o->dtype, err, errlen) != 0 ||
        view_safetensors_build(ns, m, o->dtype, err, errlen) != 0 ||
        view_meta_build(ns, m, err, errlen) != 0 ||
        view_hf_build(ns, m, o->dtype, err, errlen) != 0)
        return -1;
    if (ns_error(ns) != NULL) {
        snprintf(err, errlen, "%s", ns_error(ns));
        return -1;
    }
    return 0;
}
