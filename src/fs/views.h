/* views.h - the files of a mount, built into a namespace.
 *
 * Each view adds its directory and files to the tree from the model alone;
 * fs.c calls views_build() once and never learns what a view is. Every view
 * is present in every mount under a dot name (no tensor file name starts
 * with a dot, see names.h):
 *   /<tensor>                         the tensor's image in the mount dtype
 *   /.control                         the read report (a dynamic file)
 *   /.npy/<tensor>.npy                NPY file per tensor      (view_npy.c)
 *   /.safetensors/model.safetensors   every decodable tensor   (view_safetensors.c)
 *   /.meta/model.json, /.meta/kv/<key> the GGUF metadata       (view_meta.c)
 * A builder returns 0, or -1 with a message in err.
 */
#ifndef GGUFFS_VIEWS_H
#define GGUFFS_VIEWS_H

#include "format/dtype.h"
#include "fs/namespace.h"

#include <stdbool.h>
#include <stddef.h>

struct gguf_model;
struct gguf_tensor;

/* The views, for the control file's "# views:" line. */
#define VIEWS_LIST                                                                                 \
    ".npy/<tensor>.npy (numpy.load), .safetensors/model.safetensors (safe_open), "                 \
    ".meta/model.json, .meta/kv/<key>"

struct views_options {
    enum dtype dtype;         /* the mount's output dtype */
    struct ns_source control; /* content of /.control */
};

int views_build(struct ns *ns, const struct gguf_model *m, const struct views_options *o, char *err,
                size_t errlen);

/* ------------------------------------------------------------------ shared by the views */

/* The dtype a view serves tensor t in: the mount dtype for float and
 * quantized types that can be decoded, DTYPE_STORED for integer and f64
 * tensors (kept in their own dtype). False when the view leaves t out. */
bool view_tensor_dtype(const struct gguf_tensor *t, enum dtype mount, enum dtype *out);

/* Bytes of t's image in dt, saturated at INT64_MAX. */
uint64_t view_image_bytes(const struct gguf_tensor *t, enum dtype dt);

/* The file name of tensor t (names_encode()); -1 if it cannot be one. */
int view_file_name(const struct gguf_tensor *t, char *out, size_t outlen);

int view_npy_build(struct ns *ns, const struct gguf_model *m, enum dtype dt, char *err,
                   size_t errlen);
int view_safetensors_build(struct ns *ns, const struct gguf_model *m, enum dtype dt, char *err,
                           size_t errlen);
/* One tensor of a safetensors file: its name there, the tensor and the
 * dtype it is served in, its shape in numpy order. `heads` 0 keeps the rows
 * (shape[0]) as stored; n > 0 undoes llama.cpp's interleave of the rows of
 * each of n heads: row h*d + j*d/2 + i (d = rows/n) is stored row
 * h*d + 2*i + j. */
struct st_entry {
    const char *name;
    size_t name_len;
    uint64_t tensor;
    enum dtype dt;
    uint32_t n_dims;
    uint64_t shape[4];
    uint32_t heads;
};

/* Whether the safetensors files can hold t, and the dtype it is served in. */
bool view_safetensors_dtype(const struct gguf_tensor *t, enum dtype mount, enum dtype *dt);

/* Adds file `fname` to `dir`: a safetensors file of the n entries, in that
 * order, with the model's general.* keys as __metadata__. No file when dir
 * is 0 or the header is too large for readers; -1 only when out of memory. */
int view_safetensors_file(struct ns *ns, uint64_t dir, const char *fname,
                          const struct gguf_model *m, const struct st_entry *e, size_t n, char *err,
                          size_t errlen);

int view_meta_build(struct ns *ns, const struct gguf_model *m, char *err, size_t errlen);

#endif
