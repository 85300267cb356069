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
 * The decoder modes are in check_decoders.c, ggml's library in ggml_lib.c.
 * GGUFFS_SIMD caps the vector level of the dispatched decoders, as it does
 * in the daemon.
 *
 * ggml is @node-llama-cpp/linux-x64@3.21.1 (ggml 0.23.0); see ggml_lib.h.
 * Exit status: 0 all equal, 1 a mismatch or an error, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_decoders.h"
#include "decode/dequant.h"
#include "fs/names.h"
#include "ggml_lib.h"
#include "random_blocks.h"

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
        printf("skip\t%s\t%s\n", name, ggml_name(m->g, type));
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
        printf("same\t%s\t%s\t%" PRId64 "\n", file, ggml_name(m->g, type), n);
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
        snprintf(out[n].name, sizeof(out[n].name), "blk.%d.%s.weight", n, ggml_name(g, id));
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
