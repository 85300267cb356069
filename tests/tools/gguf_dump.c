/* gguf_dump - print what gguffs' parser makes of a GGUF file.
 *
 * usage: gguf_dump FILE...
 * For each file: the header fields and one line per tensor (index, type,
 * shape, absolute offset, bytes, name), or "gguffs: FILE: <why>" on stderr.
 * Exit status 1 if any file was refused.
 */
#include "format/ggml_types.h"
#include "format/gguf.h"

#include <stdio.h>

static void dump(const struct gguf_model *m)
{
    char tn[16];

    printf("%s: GGUF v%u, %llu key/values, %llu tensors, alignment %u, data at byte %llu\n",
           m->path, m->version, (unsigned long long)m->n_kv, (unsigned long long)m->n_tensors,
           m->alignment, (unsigned long long)m->data_offset);
    printf("architecture: %s\nname: %s\n", m->architecture ? m->architecture : "(none)",
           m->model_name ? m->model_name : "(none)");
    for (uint64_t i = 0; i < m->n_tensors; i++) {
        const struct gguf_tensor *t = &m->tensors[i];
        printf("%4llu %-8s [%llu, %llu, %llu, %llu] n_dims=%u offset=%llu nbytes=%llu %s\n",
               (unsigned long long)i, ggml_type_name(t->type, tn), (unsigned long long)t->ne[0],
               (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
               (unsigned long long)t->ne[3], t->n_dims, (unsigned long long)t->offset,
               (unsigned long long)t->nbytes, t->name);
    }
}

int main(int argc, char **argv)
{
    int status = 0;

    for (int i = 1; i < argc; i++) {
        struct gguf_model *m;
        char err[1024];
        if (gguf_open(argv[i], &m, err, sizeof(err)) < 0) {
            fprintf(stderr, "gguffs: %s: %s\n", argv[i], err);
            status = 1;
            continue;
        }
        dump(m);
        gguf_close(m);
    }
    return status;
}
