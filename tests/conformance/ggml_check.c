/* ggml_check - holds gguffs to ggml's own CPU reference, bit for bit.
 *
 * Loads ggml's prebuilt libggml-base.so with dlopen (the directory comes from
 * tests/conformance/fetch-ggml) and uses its type traits' to_float and its
 * GGUF reader and writer:
 *
 *   ggml_check LIBDIR dequant TYPE|all NBLOCKS [SEED]
 *       random blocks (hard cases included) decoded by ggml and by gguffs'
 *       scalar code and every vector level this CPU has; memcmp.
 *   ggml_check LIBDIR compare MODEL MOUNTDIR
 *       every tensor of MODEL decoded by ggml vs the file gguffs serves for it.
 *   ggml_check LIBDIR write OUT SEED
 *       a model written by ggml's GGUF writer, a tensor of every type gguffs
 *       decodes plus awkward names.
 *   ggml_check LIBDIR types
 *       gguffs' type table against ggml's type traits: every id ggml
 *       defines has a row with ggml's name and block geometry, no other id
 *       has one, and every type ggml decodes gguffs decodes.
 *   ggml_check LIBDIR quantized NROWS [SEED]
 *       NROWS rows of 512 weight-like values quantized by ggml's own
 *       ggml_quantize_chunk to every type, decoded by ggml and by gguffs at
 *       every level; memcmp.
 *   ggml_check LIBDIR grids
 *       blocks of each IQ type whose grid indices reach every entry of its
 *       lookup grid (src/decode/iq_grids.c), with random signs and scales,
 *       decoded by ggml and by gguffs at every level: the grids are ggml's.
 *
 * GGUFFS_SIMD caps the vector level of the dispatched decoders, as it does
 * in the daemon.
 *
 * The few ggml declarations needed are written out below for the ggml of
 * @node-llama-cpp/linux-x64@3.21.1; the type-traits layout is checked against
 * known names and sizes at run time before anything relies on it.
 * Exit status: 0 all equal, 1 a mismatch or an error, 2 usage.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/dequant.h"
#include "decode/dequant_internal.h"
#include "format/ggml_types.h"
#include "fs/names.h"
#include "random_blocks.h"

/* ------------------------------------------------------- ggml's ABI */

typedef void (*ggml_to_float_t)(const void *x, float *y, int64_t k);

struct ggml_type_traits {
    const char *type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    ggml_to_float_t to_float;
    void *from_float_ref;
};

struct ggml_init_params {
    size_t mem_size;
    void *mem_buffer;
    bool no_alloc;
};

struct gguf_init_params {
    bool no_alloc;
    void **ctx;
};

/* GGML_TYPE_COUNT of this ggml: ggml_get_type_traits() does not check its
 * argument, so no id at or above it may be asked about. The last id (q2_0)
 * is among those check_traits_layout() verifies. */
#define GGML_TYPE_COUNT_MAX 43

struct ggml {
    void *lib;
    const struct ggml_type_traits *(*traits)(int type);
    void *(*init)(struct ggml_init_params);
    void (*free)(void *ctx);
    void *(*new_tensor)(void *ctx, int type, int n_dims, const int64_t *ne);
    void *(*set_name)(void *t, const char *name);
    void *(*get_data)(const void *t);
    void *(*get_tensor)(void *ctx, const char *name);
    int64_t (*nelements)(const void *t);
    size_t (*nbytes)(const void *t);
    size_t (*tensor_overhead)(void);
    void *(*gguf_init_empty)(void);
    void *(*gguf_init_from_file)(const char *fname, struct gguf_init_params);
    void (*gguf_free)(void *ctx);
    int64_t (*gguf_n_tensors)(const void *ctx);
    const char *(*gguf_tensor_name)(const void *ctx, int64_t i);
    int (*gguf_tensor_type)(const void *ctx, int64_t i);
    size_t (*gguf_tensor_offset)(const void *ctx, int64_t i);
    size_t (*gguf_tensor_size)(const void *ctx, int64_t i);
    size_t (*gguf_data_offset)(const void *ctx);
    void (*gguf_set_str)(void *ctx, const char *key, const char *val);
    void (*gguf_set_u32)(void *ctx, const char *key, uint32_t val);
    void (*gguf_set_f32)(void *ctx, const char *key, float val);
    void (*gguf_add_tensor)(void *ctx, const void *tensor);
    bool (*gguf_write)(const void *ctx, const char *fname, bool only_meta);
    size_t (*quantize_chunk)(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                             int64_t n_per_row, const float *imatrix);
    void (*quantize_free)(void);
};

static int sym(struct ggml *g, void *fp, const char *name)
{
    void *p = dlsym(g->lib, name);
    if (p == NULL) {
        fprintf(stderr, "ggml_check: libggml-base.so lacks %s\n", name);
        return -1;
    }
    memcpy(fp, &p, sizeof(p));
    return 0;
}

static int load_symbols(struct ggml *g)
{
    return sym(g, &g->traits, "ggml_get_type_traits") | sym(g, &g->init, "ggml_init") |
           sym(g, &g->free, "ggml_free") | sym(g, &g->new_tensor, "ggml_new_tensor") |
           sym(g, &g->set_name, "ggml_set_name") | sym(g, &g->get_data, "ggml_get_data") |
           sym(g, &g->get_tensor, "ggml_get_tensor") | sym(g, &g->nelements, "ggml_nelements") |
           sym(g, &g->nbytes, "ggml_nbytes") | sym(g, &g->tensor_overhead, "ggml_tensor_overhead") |
           sym(g, &g->gguf_init_empty, "gguf_init_empty") |
           sym(g, &g->gguf_init_from_file, "gguf_init_from_file") |
           sym(g, &g->gguf_free, "gguf_free") | sym(g, &g->gguf_n_tensors, "gguf_get_n_tensors") |
           sym(g, &g->gguf_tensor_name, "gguf_get_tensor_name") |
           sym(g, &g->gguf_tensor_type, "gguf_get_tensor_type") |
           sym(g, &g->gguf_tensor_offset, "gguf_get_tensor_offset") |
           sym(g, &g->gguf_tensor_size, "gguf_get_tensor_size") |
           sym(g, &g->gguf_data_offset, "gguf_get_data_offset") |
           sym(g, &g->gguf_set_str, "gguf_set_val_str") |
           sym(g, &g->gguf_set_u32, "gguf_set_val_u32") |
           sym(g, &g->gguf_set_f32, "gguf_set_val_f32") |
           sym(g, &g->gguf_add_tensor, "gguf_add_tensor") |
           sym(g, &g->gguf_write, "gguf_write_to_file") |
           sym(g, &g->quantize_chunk, "ggml_quantize_chunk") |
           sym(g, &g->quantize_free, "ggml_quantize_free");
}

/* The traits layout is declared by hand: refuse to go on unless a few
 * well-known entries read back as ggml defines them. */
static int check_traits_layout(const struct ggml *g)
{
    static const struct {
        int id;
        const char *name;
        int64_t blck;
        size_t size;
        bool quantized;
    } known[] = {{1, "f16", 1, 2, false},   {2, "q4_0", 32, 18, true},
                 {8, "q8_0", 32, 34, true}, {12, "q4_K", 256, 144, true},
                 {30, "bf16", 1, 2, false}, {40, "nvfp4", 64, 36, true},
                 {42, "q2_0", 64, 18, true}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const struct ggml_type_traits *t = g->traits(known[i].id);
        if (t == NULL || t->type_name == NULL || strcmp(t->type_name, known[i].name) != 0 ||
            t->blck_size != known[i].blck || t->type_size != known[i].size ||
            t->is_quantized != known[i].quantized || t->to_float == NULL) {
            fprintf(stderr,
                    "ggml_check: ggml_type_traits of type %d does not look like %s/%" PRId64
                    "/%zu: this libggml-base.so is not the version ggml_check was written for\n",
                    known[i].id, known[i].name, known[i].blck, known[i].size);
            return -1;
        }
    }
    return 0;
}

static int load_ggml(const char *dir, struct ggml *g)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/libggml-base.so", dir);
    memset(g, 0, sizeof(*g));
    g->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (g->lib == NULL) {
        fprintf(stderr, "ggml_check: cannot load %s: %s\n", path, dlerror());
        return -1;
    }
    if (load_symbols(g) != 0 || check_traits_layout(g) != 0)
        return -1;
    return 0;
}

/* ggml's decoder for `type`: the traits' to_float, else (Q8_K, whose traits
 * have none) the exported dequantize_row_<name>; NULL if neither exists. */
static ggml_to_float_t ggml_decoder(const struct ggml *g, int type)
{
    const struct ggml_type_traits *t = g->traits(type);
    if (t == NULL || t->type_name == NULL)
        return NULL;
    if (t->to_float != NULL)
        return t->to_float;
    char name[64];
    snprintf(name, sizeof(name), "dequantize_row_%s", t->type_name);
    ggml_to_float_t fn;
    void *p = dlsym(g->lib, name);
    memcpy(&fn, &p, sizeof(fn));
    return fn;
}

/* F32 has no decoder in ggml: it is stored and read as is. */
static void ggml_decode(const struct ggml *g, int type, const void *src, int64_t n, float *dst)
{
    const ggml_to_float_t fn = ggml_decoder(g, type);
    if (type == 0 || fn == NULL)
        memcpy(dst, src, (size_t)n * sizeof(float));
    else
        fn(src, dst, n);
}

static bool ggml_can_decode(const struct ggml *g, int type)
{
    return type == 0 || ggml_decoder(g, type) != NULL;
}

/* A type of one element per block that is not quantized (f32, f16, bf16,
 * the integers, f64). */
static bool ggml_is_plain(const struct ggml *g, int type)
{
    const struct ggml_type_traits *t = g->traits(type);
    return t != NULL && t->blck_size == 1 && !t->is_quantized;
}

/* ------------------------------------------------------- comparisons */

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* 0 if equal; else reports the first differing element under `what`. */
static int same_floats(const float *want, const float *got, uint64_t n, const char *what)
{
    if (memcmp(want, got, n * sizeof(float)) == 0)
        return 0;
    for (uint64_t i = 0; i < n; i++) {
        if (bits(want[i]) != bits(got[i])) {
            fprintf(stderr,
                    "MISMATCH %s: element %" PRIu64 ": ggml %08" PRIx32 " (%g), got %08" PRIx32
                    " (%g)\n",
                    what, i, bits(want[i]), want[i], bits(got[i]), got[i]);
            break;
        }
    }
    return -1;
}

/* ------------------------------------------------------- dequant mode */

static const char *type_name(const struct ggml *g, int type)
{
    const struct ggml_type_traits *t = g->traits(type);
    return t && t->type_name ? t->type_name : "?";
}

/* Checks one type on `nblocks` random blocks: every level vs ggml. Plain
 * 16-bit types get at least 70000 elements, so that every bit pattern (the
 * generator's first 65536 elements) is held to ggml's conversion. */
static int check_type(const struct ggml *g, int type, uint64_t nblocks, uint64_t seed)
{
    if (rb_block_elems((uint32_t)type) == 1 && nblocks < 70000)
        nblocks = 70000;
    const uint64_t n = nblocks * rb_block_elems((uint32_t)type);
    uint8_t *src = malloc(nblocks * rb_block_bytes((uint32_t)type));
    float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    int rc = -1;
    struct rb_rng rng = {seed * 1000 + (uint64_t)type};
    if (src == NULL || want == NULL || got == NULL || rb_fill((uint32_t)type, nblocks, &rng, src)) {
        fprintf(stderr, "ggml_check: cannot prepare %s blocks\n", type_name(g, type));
        goto out;
    }
    ggml_decode(g, type, src, (int64_t)n, want);
    char what[64];
    rc = 0;
    printf("%-8s %" PRIu64 " blocks:", type_name(g, type), nblocks);
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level(); l++) {
        memset(got, 0xA5, n * sizeof(float));
        snprintf(what, sizeof(what), "%s %s", type_name(g, type),
                 dequant_level_name((enum dequant_level)l));
        const bool bad =
            dequant_blocks_at((uint32_t)type, (enum dequant_level)l, src, nblocks, got) != 0 ||
            same_floats(want, got, n, what) != 0;
        printf(" %s %s", dequant_level_name((enum dequant_level)l), bad ? "FAIL" : "ok");
        rc |= bad ? -1 : 0;
    }
    memset(got, 0xA5, n * sizeof(float));
    snprintf(what, sizeof(what), "%s dispatched", type_name(g, type));
    const bool bad = dequant_blocks((uint32_t)type, src, nblocks, got) != 0 ||
                     same_floats(want, got, n, what) != 0;
    printf(" dispatched(%s) %s\n", dequant_isa((uint32_t)type), bad ? "FAIL" : "ok");
    rc |= bad ? -1 : 0;
out:
    free(src), free(want), free(got);
    return rc;
}

/* The ggml type id named `name` ("q4_0", "Q4_K", ...), or -1. */
static int type_by_name(const struct ggml *g, const char *name)
{
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        if (!dequant_supported((uint32_t)id))
            continue;
        if (strcasecmp(type_name(g, id), name) == 0)
            return id;
    }
    return -1;
}

static int mode_dequant(const struct ggml *g, const char *tname, const char *nb, const char *sd)
{
    const uint64_t nblocks = strtoull(nb, NULL, 10);
    const uint64_t seed = sd ? strtoull(sd, NULL, 10) : 1;
    const bool all = strcmp(tname, "all") == 0;
    const int one = all ? -1 : type_by_name(g, tname);
    if (nblocks == 0 || (!all && one < 0)) {
        fprintf(stderr, "ggml_check: bad type '%s' or block count '%s'\n", tname, nb);
        return 2;
    }
    int failed = 0, checked = 0;
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        if ((all && !dequant_supported((uint32_t)id)) || (!all && id != one))
            continue;
        if (!ggml_can_decode(g, id) && ggml_is_plain(g, id)) {
            /* i8 ... f64: no reference here; test_dequant checks them */
            printf("%-8s not decoded by ggml\n", type_name(g, id));
            continue;
        }
        if (!ggml_can_decode(g, id)) {
            fprintf(stderr, "ggml_check: ggml has no decoder for %s\n", type_name(g, id));
            failed++;
            continue;
        }
        failed += check_type(g, id, nblocks, seed) != 0;
        checked++;
    }
    printf("%d types checked, %d failed\n", checked, failed);
    return failed || checked == 0 ? 1 : 0;
}

/* ------------------------------------------------------- compare mode */

/* Reads all of `path` into a new buffer; its size in *len. NULL on error. */
static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "ggml_check: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap *= 2);
        if (bigger == NULL)
            free(buf);
        buf = bigger;
    }
    if (buf == NULL || ferror(f)) {
        fprintf(stderr, "ggml_check: %s: read failed\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        const ssize_t r = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

struct model {
    const struct ggml *g;
    void *gguf, *meta;
    int fd;
    const char *path, *mount;
};

/* ggml's decoding of tensor i of the model, into a new buffer of *n floats. */
static float *reference(const struct model *m, int64_t i, int64_t *n)
{
    const char *name = m->g->gguf_tensor_name(m->gguf, i);
    const int type = m->g->gguf_tensor_type(m->gguf, i);
    const size_t size = m->g->gguf_tensor_size(m->gguf, i);
    const off_t off =
        (off_t)(m->g->gguf_data_offset(m->gguf) + m->g->gguf_tensor_offset(m->gguf, i));
    *n = m->g->nelements(m->g->get_tensor(m->meta, name));
    void *raw = malloc(size ? size : 1);
    float *want = malloc(*n ? (size_t)*n * sizeof(float) : 1);
    if (raw == NULL || want == NULL || pread_all(m->fd, raw, size, off) != 0) {
        fprintf(stderr, "ggml_check: %s: cannot read tensor '%s'\n", m->path, name);
        free(want);
        want = NULL;
    } else {
        ggml_decode(m->g, type, raw, *n, want);
    }
    free(raw);
    return want;
}

/* Reads a few stretches of `path` at odd offsets and lengths (before any
 * whole-file read has filled the page cache) and compares each with the same
 * bytes of `want` (`size` bytes). 0 if all equal. */
static int compare_stretches(const char *path, const float *want, size_t size, uint64_t seed)
{
    const int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "ggml_check: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct rb_rng r = {seed};
    char buf[4099];
    int rc = 0;
    for (int k = 0; k < 6 && size > 0 && rc == 0; k++) {
        const size_t off = (size_t)(rb_next(&r) % size);
        size_t len = 1 + (size_t)(rb_next(&r) % sizeof(buf));
        if (len > size - off)
            len = size - off;
        if (pread_all(fd, buf, len, (off_t)off) != 0 ||
            memcmp(buf, (const char *)want + off, len)) {
            fprintf(stderr, "MISMATCH %s: bytes [%zu, %zu) differ from ggml or cannot be read\n",
                    path, off, off + len);
            rc = -1;
        }
    }
    close(fd);
    return rc;
}

/* Compares tensor i with its file in the mount: 0 equal, 1 skipped, -1 not. */
static int compare_tensor(const struct model *m, int64_t i)
{
    const char *name = m->g->gguf_tensor_name(m->gguf, i);
    const int type = m->g->gguf_tensor_type(m->gguf, i);
    if (!dequant_supported((uint32_t)type) || !ggml_can_decode(m->g, type)) {
        printf("skip\t%s\t%s\n", name, type_name(m->g, type));
        return 1;
    }
    char file[NAMES_ENCODED_MAX(64) + 4], path[4096];
    if (names_encode(name, strlen(name), file, sizeof(file)) < 0) {
        fprintf(stderr, "ggml_check: tensor name '%s' cannot be encoded\n", name);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", m->mount, file);
    int64_t n;
    size_t len = 0;
    float *want = reference(m, i, &n);
    const bool parts_ok = want && compare_stretches(path, want, (size_t)n * 4, (uint64_t)i) == 0;
    float *got = want ? read_file(path, &len) : NULL;
    int rc = -1;
    if (got != NULL && len != (size_t)n * sizeof(float))
        fprintf(stderr, "MISMATCH %s: %zu bytes, want %" PRId64 "\n", path, len, n * 4);
    else if (got != NULL && parts_ok)
        rc = same_floats(want, got, (uint64_t)n, path);
    if (rc == 0)
        printf("same\t%s\t%s\t%" PRId64 "\n", file, type_name(m->g, type), n);
    free(want), free(got);
    return rc;
}

static int mode_compare(const struct ggml *g, const char *model, const char *mount)
{
    struct model m = {.g = g, .path = model, .mount = mount};
    struct gguf_init_params p = {.no_alloc = true, .ctx = &m.meta};
    m.gguf = g->gguf_init_from_file(model, p);
    if (m.gguf == NULL) {
        fprintf(stderr, "ggml_check: ggml cannot read %s\n", model);
        return 1;
    }
    m.fd = open(model, O_RDONLY);
    if (m.fd < 0) {
        fprintf(stderr, "ggml_check: %s: %s\n", model, strerror(errno));
        return 1;
    }
    int same = 0, skipped = 0, bad = 0;
    for (int64_t i = 0; i < g->gguf_n_tensors(m.gguf); i++) {
        const int rc = compare_tensor(&m, i);
        same += rc == 0, skipped += rc == 1, bad += rc < 0;
    }
    close(m.fd);
    g->gguf_free(m.gguf);
    g->free(m.meta);
    printf("%s: %d tensors identical to ggml, %d skipped, %d differ\n", model, same, skipped, bad);
    return bad || same == 0 ? 1 : 0;
}

/* ------------------------------------------------------- write mode */

struct planned {
    int type, ndims;
    int64_t ne[4];
    char name[64];
};

/* A random shape for `type`: 1-4 dims, ne[0] a multiple of the block. */
static void plan_shape(struct planned *t, struct rb_rng *r)
{
    const int64_t blck = rb_block_elems((uint32_t)t->type);
    t->ndims = 1 + (int)(rb_next(r) % 4);
    t->ne[0] = blck * (int64_t)(1 + rb_next(r) % (blck == 1 ? 300 : 9));
    for (int d = 1; d < 4; d++)
        t->ne[d] = d < t->ndims ? (int64_t)(1 + rb_next(r) % 4) : 1;
}

/* Every decodable type once, then awkward names (on Q4_0). */
static int plan_model(const struct ggml *g, struct rb_rng *r, struct planned *out, int max)
{
    static const char *const odd[] = {"dir/slash.weight", "100%.pct", ".hidden", "ctl\x01.byte"};
    int n = 0;
    for (int id = 0; id < GGML_TYPE_COUNT_MAX && n < max; id++) {
        if (!dequant_supported((uint32_t)id) || !ggml_can_decode(g, id))
            continue;
        out[n].type = id;
        snprintf(out[n].name, sizeof(out[n].name), "blk.%d.%s.weight", n, type_name(g, id));
        plan_shape(&out[n++], r);
    }
    for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]) && n < max; k++) {
        out[n].type = 2;
        snprintf(out[n].name, sizeof(out[n].name), "%s", odd[k]);
        plan_shape(&out[n++], r);
    }
    return n;
}

static size_t planned_bytes(const struct planned *t)
{
    const int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    return (size_t)(n / rb_block_elems((uint32_t)t->type)) * rb_block_bytes((uint32_t)t->type);
}

static int add_tensors(const struct ggml *g, void *gguf, void *ctx, const struct planned *p, int n,
                       struct rb_rng *r)
{
    for (int i = 0; i < n; i++) {
        void *t = g->new_tensor(ctx, p[i].type, p[i].ndims, p[i].ne);
        if (t == NULL) {
            fprintf(stderr, "ggml_check: ggml_new_tensor failed for %s\n", p[i].name);
            return -1;
        }
        g->set_name(t, p[i].name);
        if (g->nbytes(t) != planned_bytes(&p[i])) {
            fprintf(stderr, "ggml_check: %s: ggml says %zu bytes, expected %zu\n", p[i].name,
                    g->nbytes(t), planned_bytes(&p[i]));
            return -1;
        }
        rb_fill((uint32_t)p[i].type, planned_bytes(&p[i]) / rb_block_bytes((uint32_t)p[i].type), r,
                g->get_data(t));
        g->gguf_add_tensor(gguf, t);
    }
    return 0;
}

static int mode_write(const struct ggml *g, const char *out, const char *sd)
{
    struct rb_rng r = {strtoull(sd, NULL, 10)};
    struct planned plan[GGML_TYPE_COUNT_MAX];
    const int n = plan_model(g, &r, plan, GGML_TYPE_COUNT_MAX);
    size_t mem = (size_t)(n + 1) * g->tensor_overhead() + (1 << 20);
    for (int i = 0; i < n; i++)
        mem += planned_bytes(&plan[i]) + 64;
    struct ggml_init_params ip = {.mem_size = mem, .mem_buffer = NULL, .no_alloc = false};
    void *ctx = g->init(ip);
    void *gguf = g->gguf_init_empty();
    int rc = 1;
    if (ctx == NULL || gguf == NULL) {
        fprintf(stderr, "ggml_check: ggml_init/gguf_init_empty failed\n");
        goto out;
    }
    g->gguf_set_str(gguf, "general.architecture", "llama");
    g->gguf_set_str(gguf, "general.name", "written by ggml");
    g->gguf_set_u32(gguf, "general.file_type", 2);
    g->gguf_set_f32(gguf, "llama.rope.freq_base", 10000.0f);
    if (add_tensors(g, gguf, ctx, plan, n, &r) != 0)
        goto out;
    if (!g->gguf_write(gguf, out, false)) {
        fprintf(stderr, "ggml_check: gguf_write_to_file(%s) failed\n", out);
        goto out;
    }
    printf("%s: %d tensors written by ggml\n", out, n);
    rc = 0;
out:
    if (gguf != NULL)
        g->gguf_free(gguf);
    if (ctx != NULL)
        g->free(ctx);
    return rc;
}

/* ------------------------------------------------------- quantized mode */

/* A weight-like value: roughly normal (a sum of uniforms), an outlier now
 * and then, and exact zeros. */
static float weight(struct rb_rng *r)
{
    const uint64_t x = rb_next(r);
    if ((x & 63) == 0)
        return 0.0f;
    float v = 0.0f;
    for (int k = 0; k < 4; k++)
        v += (float)((rb_next(r) >> 40) & 0xFFFFFF) / 16777216.0f - 0.5f;
    return (x & 0x3F00) == 0 ? v * 40.0f : v * 0.05f;
}

#define Q_ROW 512 /* elements per row: a multiple of every block size */

/* Rows of weights quantized by ggml itself (ggml_quantize_chunk, with an
 * importance matrix, which the IQ1/IQ2 types require), then decoded by ggml
 * and by every level of ours. */
static int check_quantized(const struct ggml *g, int type, int64_t nrows, uint64_t seed)
{
    const uint64_t n = (uint64_t)nrows * Q_ROW;
    const uint64_t nb = n / rb_block_elems((uint32_t)type);
    float *x = malloc(n * sizeof(float)), imatrix[Q_ROW];
    float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    uint8_t *q = malloc(nb * rb_block_bytes((uint32_t)type));
    struct rb_rng r = {seed * 7919 + (uint64_t)type};
    int rc = -1;
    if (!x || !want || !got || !q)
        goto out;
    for (uint64_t i = 0; i < n; i++)
        x[i] = weight(&r);
    for (int i = 0; i < Q_ROW; i++)
        imatrix[i] = 0.5f + (float)(rb_next(&r) % 1000) / 100.0f;
    const size_t bytes = g->quantize_chunk(type, x, q, 0, nrows, Q_ROW, imatrix);
    if (bytes != nb * rb_block_bytes((uint32_t)type)) {
        fprintf(stderr, "ggml_check: ggml quantized %s to %zu bytes\n", type_name(g, type), bytes);
        goto out;
    }
    ggml_decode(g, type, q, (int64_t)n, want);
    rc = 0;
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level() && rc == 0; l++) {
        char what[64];
        snprintf(what, sizeof(what), "%s quantized by ggml, %s", type_name(g, type),
                 dequant_level_name((enum dequant_level)l));
        if (dequant_blocks_at((uint32_t)type, (enum dequant_level)l, q, nb, got) != 0 ||
            same_floats(want, got, n, what) != 0)
            rc = -1;
    }
    printf("%-8s %" PRId64 " rows quantized by ggml: %s\n", type_name(g, type), nrows,
           rc ? "FAIL" : "ok");
out:
    free(x), free(want), free(got), free(q);
    return rc;
}

/* Every type both sides decode and ggml quantizes (not f32, the integers,
 * f64, nor Q8_K, which ggml quantizes only for its own dot products). */
static int mode_quantized(const struct ggml *g, const char *rows, const char *sd)
{
    const int64_t nrows = strtoll(rows, NULL, 10);
    const uint64_t seed = sd ? strtoull(sd, NULL, 10) : 1;
    if (nrows <= 0)
        return 2;
    int failed = 0, checked = 0;
    for (int id = 1; id < GGML_TYPE_COUNT_MAX; id++) {
        if (!dequant_supported((uint32_t)id) || !ggml_can_decode(g, id) || id == 15)
            continue;
        failed += check_quantized(g, id, nrows, seed) != 0;
        checked++;
    }
    g->quantize_free();
    printf("%d types quantized by ggml checked, %d failed\n", checked, failed);
    return failed || checked == 0 ? 1 : 0;
}

/* ------------------------------------------------------- grids mode */

/* Writes grid index `idx` into index slot `slot` of an IQ block (per block:
 * 32 slots, 64 for the IQ3 types), as that type's decoder reads it back. */
typedef void (*set_index_fn)(uint8_t *blk, int slot, uint32_t idx);

static void set_iq2_xxs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + 8 * (s / 4) + s % 4] = (uint8_t)idx;
}

static void set_iq2_xs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + 2 * s] = (uint8_t)idx;
    b[3 + 2 * s] = (uint8_t)((b[3 + 2 * s] & 0xFE) | idx >> 8); /* bits 9-15: signs */
}

static void set_iq2_s(uint8_t *b, int s, uint32_t idx)
{
    const int sh = 2 * (s % 4);
    b[2 + s] = (uint8_t)idx;
    b[66 + s / 4] = (uint8_t)((b[66 + s / 4] & ~(3 << sh)) | (idx >> 8) << sh);
}

static void set_iq3_xxs(uint8_t *b, int s, uint32_t idx)
{
    b[2 + s] = (uint8_t)idx;
}

static void set_iq3_s(uint8_t *b, int s, uint32_t idx)
{
    b[2 + s] = (uint8_t)idx;
    b[66 + s / 8] = (uint8_t)((b[66 + s / 8] & ~(1 << (s % 8))) | (idx >> 8) << (s % 8));
}

static void set_iq1_s(uint8_t *b, int s, uint32_t idx)
{
    const int ib = s / 4, sh = 3 * (s % 4);
    uint16_t qh = (uint16_t)(b[34 + 2 * ib] | b[35 + 2 * ib] << 8);
    qh = (uint16_t)((qh & ~(7 << sh)) | (idx >> 8) << sh);
    b[2 + s] = (uint8_t)idx;
    b[34 + 2 * ib] = (uint8_t)qh, b[35 + 2 * ib] = (uint8_t)(qh >> 8);
}

static void set_iq1_m(uint8_t *b, int s, uint32_t idx)
{
    const int at = 32 + 2 * (s / 4) + (s % 4) / 2, sh = s % 2 ? 4 : 0;
    b[s] = (uint8_t)idx;
    b[at] = (uint8_t)((b[at] & ~(7 << sh)) | (idx >> 8) << sh);
}

/* An ordinary scale (1/3, rounded) in place of the random one, which may be
 * a NaN or zero that hides the grid values. */
static void set_scale(uint8_t *b, int type)
{
    if (type == 29) { /* IQ1_M: the fp16 scale is in four top nibbles */
        for (int k = 0; k < 4; k++)
            b[49 + 2 * k] = (uint8_t)((b[49 + 2 * k] & 0x0F) | ((0x3555 >> (4 * k)) & 0x0F) << 4);
    } else {
        b[0] = 0x55, b[1] = 0x35;
    }
}

static const struct grid_case {
    int type;
    uint32_t entries; /* grid size */
    int slots;        /* index slots per block */
    set_index_fn set;
} grid_cases[] = {
    {16, 256, 32, set_iq2_xxs}, {17, 512, 32, set_iq2_xs}, {22, 1024, 32, set_iq2_s},
    {18, 256, 64, set_iq3_xxs}, {21, 512, 64, set_iq3_s},  {19, 2048, 32, set_iq1_s},
    {29, 2048, 32, set_iq1_m},
};

/* Blocks of c's type whose index slots take every grid entry in turn (the
 * other bits random: scales, signs, deltas), decoded by ggml and by every
 * level of ours. The entries each block reached are counted from what was
 * written, so a setter that missed its slot cannot pass unnoticed. */
static int check_grid(const struct ggml *g, const struct grid_case *c, uint64_t seed)
{
    const uint32_t be = rb_block_elems((uint32_t)c->type), bb = rb_block_bytes((uint32_t)c->type);
    const uint64_t nb = 4 * (c->entries / (uint32_t)c->slots); /* every entry four times */
    uint8_t *src = malloc(nb * bb);
    float *want = malloc(nb * be * sizeof(float)), *got = malloc(nb * be * sizeof(float));
    bool *seen = calloc(c->entries, 1);
    struct rb_rng r = {seed + (uint64_t)c->type};
    int rc = -1;
    if (!src || !want || !got || !seen || rb_fill((uint32_t)c->type, nb, &r, src) != 0)
        goto out;
    for (uint64_t b = 0; b < nb; b++) {
        if (b % 2 == 0) /* each entry lands in two blocks of each parity */
            set_scale(src + b * bb, c->type);
        for (int s = 0; s < c->slots; s++) {
            const uint32_t idx = (uint32_t)((b * (uint64_t)c->slots + (uint64_t)s) % c->entries);
            c->set(src + b * bb, s, idx);
            seen[idx] = true;
        }
    }
    uint32_t covered = 0;
    for (uint32_t i = 0; i < c->entries; i++)
        covered += seen[i];
    ggml_decode(g, c->type, src, (int64_t)(nb * be), want);
    rc = covered == c->entries ? 0 : -1;
    for (int l = DQ_SCALAR; l <= (int)dequant_cpu_level() && rc == 0; l++) {
        char what[64];
        snprintf(what, sizeof(what), "%s grid at %s", type_name(g, c->type),
                 dequant_level_name((enum dequant_level)l));
        if (dequant_blocks_at((uint32_t)c->type, (enum dequant_level)l, src, nb, got) != 0 ||
            same_floats(want, got, nb * be, what) != 0)
            rc = -1;
    }
    printf("%-8s %u of %u grid entries, %" PRIu64 " blocks: %s\n", type_name(g, c->type), covered,
           c->entries, nb, rc ? "FAIL" : "ok");
out:
    free(src), free(want), free(got), free(seen);
    return rc;
}

static int mode_grids(const struct ggml *g)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(grid_cases) / sizeof(grid_cases[0]); i++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            failed += check_grid(g, &grid_cases[i], seed) != 0;
    printf("%d grid checks failed\n", failed);
    return failed ? 1 : 0;
}

/* ------------------------------------------------------- types mode */

/* ggml defines `id` if its traits give it a block size: retired ids keep a
 * name ("DEPRECATED", "... REMOVED ...") but no geometry. */
static bool ggml_defines(const struct ggml *g, int id)
{
    const struct ggml_type_traits *t = g->traits(id);
    return t != NULL && t->type_name != NULL && t->blck_size > 0;
}

/* 0 if gguffs' row for `id` agrees with ggml's traits (both absent counts). */
static int check_row(const struct ggml *g, int id)
{
    const struct ggml_type_info *ours = ggml_type_find((uint32_t)id);
    if (!ggml_defines(g, id)) {
        if (ours == NULL)
            return 0;
        fprintf(stderr, "MISMATCH type %d: gguffs has '%s', ggml has no such type\n", id,
                ours->name);
        return -1;
    }
    const struct ggml_type_traits *t = g->traits(id);
    if (ggml_can_decode(g, id) && !dequant_supported((uint32_t)id)) {
        fprintf(stderr, "MISSING type %d (%s): ggml decodes it, gguffs does not\n", id,
                t->type_name);
        return -1;
    }
    if (ours == NULL || strcmp(ours->name, t->type_name) != 0 ||
        (int64_t)ours->block_elems != t->blck_size || ours->block_bytes != t->type_size) {
        fprintf(stderr, "MISMATCH type %d: ggml %s %" PRId64 "/%zu, gguffs %s %u/%u\n", id,
                t->type_name, t->blck_size, t->type_size, ours ? ours->name : "(none)",
                ours ? ours->block_elems : 0, ours ? ours->block_bytes : 0);
        return -1;
    }
    return 0;
}

static int mode_types(const struct ggml *g)
{
    int bad = 0, defined = 0;
    for (int id = 0; id < GGML_TYPE_COUNT_MAX; id++) {
        bad += check_row(g, id) != 0;
        defined += ggml_defines(g, id);
    }
    if (GT_COUNT != GGML_TYPE_COUNT_MAX) {
        fprintf(stderr, "MISMATCH: gguffs knows %d type ids, ggml %d\n", GT_COUNT,
                GGML_TYPE_COUNT_MAX);
        bad++;
    }
    printf("%d types defined by ggml, %d rows differ\n", defined, bad);
    return bad ? 1 : 0;
}

/* ------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: ggml_check LIBDIR dequant TYPE|all NBLOCKS [SEED]\n"
                    "       ggml_check LIBDIR compare MODEL MOUNTDIR\n"
                    "       ggml_check LIBDIR write OUT SEED\n"
                    "       ggml_check LIBDIR types\n"
                    "       ggml_check LIBDIR grids\n"
                    "       ggml_check LIBDIR quantized NROWS [SEED]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *simd = getenv("GGUFFS_SIMD");
    enum dequant_level cap;
    if (simd != NULL && dequant_level_parse(simd, &cap) == 0)
        dequant_set_cap(cap);
    struct ggml g;
    if (load_ggml(argv[1], &g) != 0)
        return 1;
    const char *mode = argv[2];
    if (strcmp(mode, "dequant") == 0 && (argc == 5 || argc == 6))
        return mode_dequant(&g, argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    if (strcmp(mode, "compare") == 0 && argc == 5)
        return mode_compare(&g, argv[3], argv[4]);
    if (strcmp(mode, "write") == 0 && argc == 5)
        return mode_write(&g, argv[3], argv[4]);
    if (strcmp(mode, "types") == 0 && argc == 3)
        return mode_types(&g);
    if (strcmp(mode, "grids") == 0 && argc == 3)
        return mode_grids(&g);
    if (strcmp(mode, "quantized") == 0 && (argc == 4 || argc == 5))
        return mode_quantized(&g, argv[3], argc == 5 ? argv[4] : NULL);
    return usage();
}
