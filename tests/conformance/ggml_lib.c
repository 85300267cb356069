/* ggml_lib.c - see ggml_lib.h. */
#include "ggml_lib.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

int load_ggml(const char *dir, struct ggml *g)
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
ggml_to_float_t ggml_decoder(const struct ggml *g, int type)
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
void ggml_decode(const struct ggml *g, int type, const void *src, int64_t n, float *dst)
{
    const ggml_to_float_t fn = ggml_decoder(g, type);
    if (type == 0 || fn == NULL)
        memcpy(dst, src, (size_t)n * sizeof(float));
    else
        fn(src, dst, n);
}

bool ggml_can_decode(const struct ggml *g, int type)
{
    return type == 0 || ggml_decoder(g, type) != NULL;
}

/* A type of one element per block that is not quantized (f32, f16, bf16,
 * the integers, f64). */
bool ggml_is_plain(const struct ggml *g, int type)
{
    const struct ggml_type_traits *t = g->traits(type);
    return t != NULL && t->blck_size == 1 && !t->is_quantized;
}

const char *ggml_name(const struct ggml *g, int type)
{
    const struct ggml_type_traits *t = g->traits(type);
    return t && t->type_name ? t->type_name : "?";
}

/* ------------------------------------------------------- comparisons */

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* 0 if equal; else reports the first differing element under `what`. */
int same_floats(const float *want, const float *got, uint64_t n, const char *what)
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
