/* dtype.c - see dtype.h. */
#include "format/dtype.h"

#include "format/ggml_types.h"

#include <string.h>

static const char *const names[] = {"f32", "f16", "bf16", "stored"};

const char *dtype_name(enum dtype d)
{
    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

int dtype_parse(const char *s, enum dtype *out)
{
    for (int d = DTYPE_F32; d < DTYPE_STORED; d++) {
        if (strcmp(s, names[d]) == 0) {
            *out = (enum dtype)d;
            return 0;
        }
    }
    return -1;
}

uint32_t dtype_elem_bytes(enum dtype d, uint32_t type)
{
    const struct ggml_type_info *ti = ggml_type_find(type);
    switch (d) {
    case DTYPE_F32:
        return 4;
    case DTYPE_F16:
    case DTYPE_BF16:
        return 2;
    case DTYPE_STORED:
        return ti != NULL && ti->block_elems == 1 ? ti->block_bytes : 0;
    }
    return 0;
}
