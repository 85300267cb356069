/* gguf_tensors.c - the tensor infos of a GGUF file and the layout of their
 * data (see gguf_internal.h): names, shapes, types and offsets, then every
 * tensor inside the file, aligned, and no two sharing a byte.
 */
#include "format/gguf_internal.h"
#include "format/ggml_types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ tensor infos */

static int parse_tensor_name(struct reader *r, struct gguf_tensor *t, uint64_t i, uint64_t at)
{
    const uint8_t *s = NULL;
    uint64_t len;

    if (gguf_rd_str(r, "tensor name", &s, &len) < 0)
        return -1;
    if (len == 0)
        return gguf_fail_at(r, at, "empty tensor name");
    gguf_set_where(r, "tensor", i, s, len);
    if (len >= GGUF_MAX_NAME)
        return gguf_fail_at(r, at, "name is %llu bytes long, it must be shorter than %d",
                            (unsigned long long)len, GGUF_MAX_NAME);
    if (memchr(s, '\0', len))
        return gguf_fail_at(r, at, "name contains a NUL byte");
    t->name = gguf_dup_bytes(s, len);
    if (!t->name)
        return gguf_fail_at(r, at, "out of memory");
    t->name_len = len;
    return 0;
}

static void shape_str(char *dst, size_t n, const struct gguf_tensor *t)
{
    size_t o = (size_t)snprintf(dst, n, "[");
    for (uint32_t d = 0; d < t->n_dims && o < n; d++)
        o +=
            (size_t)snprintf(dst + o, n - o, "%s%llu", d ? ", " : "", (unsigned long long)t->ne[d]);
    if (o < n)
        snprintf(dst + o, n - o, "]");
}

/* n_dims 1..4, each ne in 1..INT64_MAX, and the element count (and the FP32
 * image, 4 bytes an element, served as a file) representable in int64. */
static int parse_tensor_shape(struct reader *r, struct gguf_tensor *t, uint64_t at)
{
    uint64_t n = 1, dims_at = r->pos;
    char shape[128];

    if (gguf_rd_u32(r, "n_dims", &t->n_dims) < 0)
        return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return gguf_fail_at(r, dims_at, "n_dims %u is not in 1..%d", t->n_dims, GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && gguf_rd_u64(r, "dimension", &t->ne[d]) < 0)
            return -1;
    }
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] == 0 || t->ne[d] > INT64_MAX)
            return gguf_fail_at(r, at, "ne[%u] = %llu is out of range (1..INT64_MAX)", d,
                                (unsigned long long)t->ne[d]);
    }
    shape_str(shape, sizeof(shape), t);
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (__builtin_mul_overflow(n, t->ne[d], &n) || n > INT64_MAX)
            return gguf_fail_at(r, at, "element count of shape %s overflows int64", shape);
    }
    t->n_elements = n;
    if (n > (uint64_t)INT64_MAX / sizeof(float))
        return gguf_fail_at(
            r, at, "the FP32 image of shape %s (%llu elements, 4 bytes each) overflows int64",
            shape, (unsigned long long)n);
    return 0;
}

/* Unknown type ids are kept with nbytes 0; a known type needs whole blocks. */
static int parse_tensor_type(struct reader *r, struct gguf_tensor *t, uint64_t at)
{
    const struct ggml_type_info *ti;

    if (gguf_rd_u32(r, "tensor type", &t->type) < 0)
        return -1;
    ti = ggml_type_find(t->type);
    if (!ti) {
        t->nbytes = 0;
        return 0;
    }
    if (t->ne[0] % ti->block_elems != 0)
        return gguf_fail_at(r, at, "ne[0] = %llu is not a multiple of the block size %u of type %s",
                            (unsigned long long)t->ne[0], ti->block_elems, ti->name);
    if (__builtin_mul_overflow(t->n_elements / ti->block_elems, (uint64_t)ti->block_bytes,
                               &t->nbytes) ||
        t->nbytes > INT64_MAX)
        return gguf_fail_at(r, at, "data size of %llu %s elements overflows int64",
                            (unsigned long long)t->n_elements, ti->name);
    return 0;
}

/* Where each tensor info starts, kept for the layout checks' messages. */
struct tensor_ref {
    const struct gguf_tensor *t;
    uint64_t index;
    uint64_t at;
};

static int parse_tensor_info(struct reader *r, struct gguf_model *m, struct tensor_ref *ref)
{
    struct gguf_tensor *t = &m->tensors[ref->index];
    uint64_t off_at;

    ref->t = t;
    ref->at = r->pos;
    gguf_set_where(r, "tensor", ref->index, NULL, 0);
    if (parse_tensor_name(r, t, ref->index, ref->at) < 0 || parse_tensor_shape(r, t, ref->at) < 0 ||
        parse_tensor_type(r, t, ref->at) < 0)
        return -1;
    off_at = r->pos;
    if (gguf_rd_u64(r, "tensor data offset", &t->offset) < 0)
        return -1;
    if (t->offset % m->alignment != 0)
        return gguf_fail_at(r, off_at, "data offset %llu is not a multiple of the alignment %u",
                            (unsigned long long)t->offset, m->alignment);
    return 0;
}

static int cmp_ref_name(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;
    int c = strcmp(x->t->name, y->t->name);

    if (c)
        return c;
    return x->index < y->index ? -1 : 1;
}

/* Sort by name; equal neighbours are duplicates. Report the later one. */
static int check_duplicate_names(struct reader *r, struct tensor_ref *refs, uint64_t n)
{
    if (n < 2)
        return 0;
    qsort(refs, n, sizeof(*refs), cmp_ref_name);
    for (uint64_t i = 1; i < n; i++) {
        const struct tensor_ref *a = &refs[i - 1], *b = &refs[i];
        if (strcmp(a->t->name, b->t->name) == 0) {
            gguf_set_where(r, "tensor", b->index, (const uint8_t *)b->t->name, b->t->name_len);
            return gguf_fail_at(r, b->at, "duplicate tensor name (first used by tensor %llu)",
                                (unsigned long long)a->index);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ data layout
 *
 * The data section starts at the first multiple of the alignment after the
 * tensor infos. Offsets in the infos are relative to it and were checked for
 * alignment as they were read; here each tensor must lie inside the file and
 * no two may share a byte.
 */
static int check_in_file(struct reader *r, struct gguf_model *m, const struct tensor_ref *ref)
{
    struct gguf_tensor *t = (struct gguf_tensor *)ref->t;
    uint64_t rel = t->offset, end;

    gguf_set_where(r, "tensor", ref->index, (const uint8_t *)t->name, t->name_len);
    if (__builtin_add_overflow(m->data_offset, rel, &t->offset) ||
        __builtin_add_overflow(t->offset, t->nbytes, &end) || end > r->size)
        return gguf_fail_at(r, ref->at,
                            "data at offset %llu + %llu bytes (data section at byte %llu) extends "
                            "past the end of the file (%llu bytes)",
                            (unsigned long long)rel, (unsigned long long)t->nbytes,
                            (unsigned long long)m->data_offset, (unsigned long long)r->size);
    return 0;
}

static int cmp_ref_offset(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;

    if (x->t->offset != y->t->offset)
        return x->t->offset < y->t->offset ? -1 : 1;
    if (x->t->nbytes != y->t->nbytes)
        return x->t->nbytes < y->t->nbytes ? -1 : 1;
    return x->index < y->index ? -1 : 1;
}

/* Sorted by start, a tensor overlaps another iff it starts before the
 * furthest end seen so far. Tensors of zero bytes (unknown types) hold no
 * data and cannot overlap anything. */
static int check_overlaps(struct reader *r, struct tensor_ref *refs, uint64_t n)
{
    const struct tensor_ref *far = NULL;

    if (n == 0)
        return 0;
    qsort(refs, n, sizeof(*refs), cmp_ref_offset);
    for (uint64_t i = 0; i < n; i++) {
        const struct gguf_tensor *t = refs[i].t;
        if (t->nbytes == 0)
            continue;
        if (far && t->offset < far->t->offset + far->t->nbytes) {
            char q[256];
            gguf_quote_name(q, sizeof(q), (const uint8_t *)far->t->name, far->t->name_len);
            gguf_set_where(r, "tensor", refs[i].index, (const uint8_t *)t->name, t->name_len);
            return gguf_fail_at(
                r, refs[i].at, "data [%llu, %llu) overlaps tensor %llu '%s' [%llu, %llu)",
                (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                (unsigned long long)far->index, q, (unsigned long long)far->t->offset,
                (unsigned long long)(far->t->offset + far->t->nbytes));
        }
        if (!far || t->offset + t->nbytes > far->t->offset + far->t->nbytes)
            far = &refs[i];
    }
    return 0;
}

static int cmp_ref_index(const void *a, const void *b)
{
    const struct tensor_ref *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

static int check_layout(struct reader *r, struct gguf_model *m, struct tensor_ref *refs)
{
    uint64_t a = m->alignment;

    /* r->pos <= size < 2^63 and a <= 2^31: no overflow. */
    m->data_offset = (r->pos + a - 1) / a * a;
    if (m->n_tensors > 0 && m->data_offset > r->size) {
        snprintf(r->where, sizeof(r->where), "data section");
        return gguf_fail_at(r, r->pos,
                            "starts at byte %llu (tensor infos end at byte %llu, alignment %u), "
                            "past the end of the file (%llu bytes)",
                            (unsigned long long)m->data_offset, (unsigned long long)r->pos,
                            m->alignment, (unsigned long long)r->size);
    }
    if (m->n_tensors > 1) /* report the first tensor at fault in file order */
        qsort(refs, m->n_tensors, sizeof(*refs), cmp_ref_index);
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        if (check_in_file(r, m, &refs[i]) < 0)
            return -1;
    }
    return check_overlaps(r, refs, m->n_tensors);
}

int gguf_parse_tensors(struct reader *r, struct gguf_model *m)
{
    struct tensor_ref *refs = NULL;
    int rc = 0;

    uint64_t i = 0, tcap = 0, rcap = 0;
    while (i < m->n_tensors && rc == 0) {
        if (gguf_grow((void **)&m->tensors, &tcap, i, m->n_tensors, sizeof(*m->tensors)) < 0 ||
            gguf_grow((void **)&refs, &rcap, i, m->n_tensors, sizeof(*refs)) < 0) {
            uint64_t declared = m->n_tensors;
            free(refs);
            m->n_tensors = i;
            return gguf_fail_at(r, r->pos, "out of memory for %llu tensors",
                                (unsigned long long)declared);
        }
        refs[i].index = i;
        rc = parse_tensor_info(r, m, &refs[i]);
        i++;
    }
    /* On failure only the infos read so far hold anything. */
    if (rc != 0)
        m->n_tensors = i;
    /* m->tensors may have moved while growing. */
    for (uint64_t k = 0; k < i; k++)
        refs[k].t = &m->tensors[refs[k].index];
    if (rc == 0)
        rc = check_duplicate_names(r, refs, m->n_tensors);
    if (rc == 0)
        rc = check_layout(r, m, refs);
    free(refs);
    return rc;
}
