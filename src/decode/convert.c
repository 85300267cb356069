/* convert.c - see convert.h.
 *
 * The f16 conversion is the classic branch-free one PyTorch uses for
 * c10::Half (two multiplies push the value into f16's range so that one
 * float add rounds the mantissa to 10 bits, nearest even); it relies on
 * exact IEEE single-precision arithmetic, so this file, like every decoder,
 * is built with -ffp-contract=off.
 */
#include "decode/convert.h"

#include <string.h>

static inline uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t convert_one_f16(float f)
{
    const float scale_to_inf = 0x1.0p+112f, scale_to_zero = 0x1.0p-110f;
    const uint32_t w = bits_of(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & UINT32_C(0x80000000);
    float base = (__builtin_fabsf(f) * scale_to_inf) * scale_to_zero;
    uint32_t bias = shl1_w & UINT32_C(0xFF000000);

    if (bias < UINT32_C(0x71000000))
        bias = UINT32_C(0x71000000);
    base = float_of((bias >> 1) + UINT32_C(0x07800000)) + base;
    const uint32_t b = bits_of(base);
    const uint32_t nonsign = ((b >> 13) & UINT32_C(0x7C00)) + (b & UINT32_C(0x0FFF));
    return (uint16_t)((sign >> 16) | (shl1_w > UINT32_C(0xFF000000) ? UINT32_C(0x7E00) : nonsign));
}

uint16_t convert_one_bf16(float f)
{
    const uint32_t u = bits_of(f);
    if ((u & UINT32_C(0x7FFFFFFF)) > UINT32_C(0x7F800000))
        return 0x7FC0;
    return (uint16_t)((u + (((u >> 16) & 1) + UINT32_C(0x7FFF))) >> 16);
}

void convert_f32_to_f16(const float *src, uint64_t n, uint16_t *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        float f;
        uint16_t h;
        memcpy(&f, src + i, 4);
        h = convert_one_f16(f);
        memcpy(dst + i, &h, 2);
    }
}

void convert_f32_to_bf16(const float *src, uint64_t n, uint16_t *dst)
{
    for (uint64_t i = 0; i < n; i++) {
        float f;
        uint16_t h;
        memcpy(&f, src + i, 4);
        h = convert_one_bf16(f);
        memcpy(dst + i, &h, 2);
    }
}
