/* fuzz_gguf.c - libFuzzer target: the GGUF parser, then the dequantizer.
 *
 * The input is parsed as a GGUF image. When it is accepted, the tensors that
 * gguffs can decode (every type of the type table with a decoder, through
 * the same dispatch the daemon uses) are dequantized from the input itself,
 * each over a window of elements that starts mid-tensor so partial first
 * and last blocks are exercised, until a budget of elements is spent. The parser's guarantee under
 * test: an accepted tensor's bytes lie inside the image, so the decoder never reads past it.
 */
#include "decode/dequant.h"
#include "format/gguf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_ELEMENTS 4096     /* per tensor */
#define BUDGET_ELEMENTS 65536 /* per input: bounded work */

static void decode_some(const uint8_t *data, const struct gguf_model *m)
{
    uint64_t spent = 0;

    for (uint64_t i = 0; i < m->n_tensors && spent < BUDGET_ELEMENTS; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        if (t->nbytes == 0 || !dequant_supported(t->type))
            continue;
        uint64_t count = t->n_elements < MAX_ELEMENTS ? t->n_elements : MAX_ELEMENTS;
        uint64_t first = (t->n_elements - count) / 2;
        float *dst = malloc(count * sizeof(float));
        if (!dst)
            return;
        if (dequant_range(t->type, data + t->offset, first, count, dst) != 0)
            abort(); /* dequant_supported() said it could */
        free(dst);
        spent += count;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gguf_model *m;
    char err[512];

    if (gguf_parse(data, size, &m, err, sizeof(err)) != 0) {
        if (err[0] == '\0')
            abort(); /* every refusal must say why */
        return 0;
    }
    decode_some(data, m);
    gguf_close(m);
    return 0;
}
