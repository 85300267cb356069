/* iq_grids.h - ggml's lookup tables for the IQ, ternary and FP4 formats
 * (defined in iq_grids.c; read-only format data, checked against ggml's
 * library by the conformance tests). The IQ4 codebook, 16 bytes loaded
 * whole by the vector code, is kvalues_iq4nl in dequant_internal.h.
 */
#ifndef GGUFFS_IQ_GRIDS_H
#define GGUFFS_IQ_GRIDS_H

#include <stdint.h>

extern const uint64_t iq2xxs_grid[256];
extern const uint64_t iq2xs_grid[512];
extern const uint64_t iq2s_grid[1024];
extern const uint32_t iq3xxs_grid[256];
extern const uint32_t iq3s_grid[512];
extern const uint64_t iq1s_grid[2048];
extern const uint8_t ksigns_iq2xs[128];
extern const uint8_t kmask_iq2xs[8];
extern const int8_t kvalues_mxfp4[16];

#endif
