/* ggml_lib.h - ggml's prebuilt library, dlopen'd, for the conformance checks.
 *
 * The few ggml declarations needed are written out here for the ggml of
 * @node-llama-cpp/linux-x64@3.21.1 (ggml 0.23.0); load_ggml() checks the
 * type-traits layout against known names and sizes before anything relies
 * on it. Also the comparison every check ends in (memcmp, first difference
 * reported).
 */
#ifndef GGUFFS_GGML_LIB_H
#define GGUFFS_GGML_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Loads DIR/libggml-base.so into g and checks it: 0, or -1 with a message. */
int load_ggml(const char *dir, struct ggml *g);

/* ggml's decoder for `type`: the traits' to_float, else (Q8_K, whose traits
 * have none) the exported dequantize_row_<name>; NULL if neither exists. */
ggml_to_float_t ggml_decoder(const struct ggml *g, int type);

/* ggml's decoding of n elements of `type` (F32 copied as it is). */
void ggml_decode(const struct ggml *g, int type, const void *src, int64_t n, float *dst);

bool ggml_can_decode(const struct ggml *g, int type);

/* A type of one element per block that is not quantized (f32, f16, bf16,
 * the integers, f64). */
bool ggml_is_plain(const struct ggml *g, int type);

/* ggml's name of `type`, or "?". */
const char *ggml_name(const struct ggml *g, int type);

/* 0 if want and got hold the same n floats (memcmp); else reports the first
 * differing element under `what` on stderr and returns -1. */
int same_floats(const float *want, const float *got, uint64_t n, const char *what);

#endif
