/* options_help.c - see options_help.h. */
#include "options_help.h"

#include "options.h"

#include <stdio.h>
#include <string.h>

void help_option(const char *left, const char *text)
{
    enum { INDENT = 34, WIDTH = 79 };
    int col = printf("    %-29s", left);
    if (col > INDENT - 1) {
        printf("\n%*s", INDENT - 1, "");
    }
    col = INDENT - 1;
    while (*text != '\0') {
        size_t w = strcspn(text, " ");
        if (col + 1 + (int)w > WIDTH && col > INDENT - 1) {
            printf("\n%*s", INDENT - 1, "");
            col = INDENT - 1;
        }
        col += printf(" %.*s", (int)w, text);
        text += w;
        text += strspn(text, " ");
    }
    printf("\n");
}

void help_head(const char *prog)
{
    printf("usage: %s [options] MODEL MOUNTPOINT\n"
           "\n"
           "Mount the GGUF file MODEL read-only at MOUNTPOINT: one file per tensor,\n"
           "holding the tensor dequantized to little-endian FP32 (or -o dtype). MODEL\n"
           "may be any shard of a split model (NAME-00001-of-00003.gguf): every shard\n"
           "is mounted, as one model.\n"
           "\n"
           "Views, beside the tensor files:\n"
           "    .npy/NAME.npy                  one NPY file per tensor:\n"
           "        numpy.load('MNT/.npy/token_embd.weight.npy', mmap_mode='r')\n"
           "    .safetensors/model.safetensors every tensor in one safetensors file:\n"
           "        safetensors.safe_open('MNT/.safetensors/model.safetensors', 'pt')\n"
           "    .meta/model.json, .meta/kv/KEY the metadata: cat MNT/.meta/kv/general.name\n"
           "    .control                       how each tensor was served: cat MNT/.control\n"
           "\n"
           "gguffs options:\n",
           prog);
}

void help_tail(void)
{
    printf("\n"
           "Exit status: 0 mounted (or --help, --version), 1 the model, the mount point\n"
           "or the mount failed, 2 a usage error. See gguffs(1).\n"
           "\n");
}

void help_version(void)
{
    printf("gguffs version %s\n", GGUFFS_VERSION);
    printf("libfuse version %s\n", fuse_pkgversion());
    /* fuse_lowlevel_version() runs fusermount3, whose line would come out
     * before ours still sitting in stdio's buffer. */
    fflush(stdout);
    fuse_lowlevel_version();
}
