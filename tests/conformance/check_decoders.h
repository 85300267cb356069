/* check_decoders.h - ggml_check's decoder and type-table modes. Each
 * returns the process exit status: 0 all equal, 1 a mismatch, 2 usage. */
#ifndef GGUFFS_CHECK_DECODERS_H
#define GGUFFS_CHECK_DECODERS_H

#include "ggml_lib.h"

int mode_dequant(const struct ggml *g, const char *tname, const char *nb, const char *sd);
int mode_quantized(const struct ggml *g, const char *rows, const char *sd);
int mode_grids(const struct ggml *g);
int mode_types(const struct ggml *g);

#endif
