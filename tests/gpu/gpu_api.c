/* gpu_api - the GPU interface's rules that hold with or without a GPU:
 * backend names, backend cpu never touching a runtime, failures worded with
 * the backend's name and remembered, host memory that works either way, and
 * a bad code-object override falling back with its reason.
 *
 *   gpu_api                 run the checks
 *   gpu_api probe BACKEND   print "ok gpu-..." or "fallback REASON" for one
 *                           read through BACKEND (for the shell tests); the
 *                           code objects named by Q4_0_DEQUANT_FATBIN and
 *                           Q4_0_DEQUANT_HSACO are used, as gguffs uses them
 */
#include "common/facts.h"
#include "format/ggml_types.h"
#include "gpu/gpu.h"
#include "gpu/gpu_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* One Q4_0 block through g: 0 on the GPU (*path "gpu-cuda" or "gpu-hip"),
 * -1 with why. */
static int one_read(struct gpu *g, const char **path, char *why, size_t whylen)
{
    static const unsigned char block[18] = {0x00, 0x3c, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
                                            0xcd, 0xef, 0x88, 0x88, 0x00, 0xff, 0x12, 0x34};
    float out[32];
    enum gpu_backend used;
    int rc = gpu_decode(g, GT_Q4_0, block, 1, out, &used, why, whylen);
    if (rc == 0)
        *path = used == GPU_BACKEND_HIP ? "gpu-hip" : "gpu-cuda";
    return rc;
}

/* gpu_describe()'s facts as the control file's lines ("# gpu: ..."). */
static void describe(struct gpu *g, char *buf, size_t len)
{
    struct facts *f = facts_new();
    size_t n = 0;
    buf[0] = '\0';
    if (f == NULL)
        return;
    gpu_describe(g, f);
    for (size_t i = 0; i < facts_count(f) && n < len; i++) {
        int k = snprintf(buf + n, len - n, "# %s: %s\n", facts_key(f, i), facts_value(f, i));
        if (k > 0)
            n += (size_t)k;
    }
    facts_free(f);
}

static int probe(const char *name)
{
    struct gpu_options opt = {.device = 0,
                              .fatbin = getenv("Q4_0_DEQUANT_FATBIN"),
                              .hsaco = getenv("Q4_0_DEQUANT_HSACO")};
    char why[512];
    const char *path = NULL;
    if (gpu_backend_parse(name, &opt.backend) != 0) {
        fprintf(stderr, "unknown backend %s\n", name);
        return 2;
    }
    struct gpu *g = gpu_new(&opt);
    if (!g)
        return 2;
    if (one_read(g, &path, why, sizeof why) == 0)
        printf("ok %s\n", path);
    else
        printf("fallback %s\n", why);
    gpu_free(g);
    return 0;
}

static void check_names(void)
{
    static const char *const names[] = {"auto", "cpu", "hip", "cuda"};
    enum gpu_backend b;
    for (size_t i = 0; i < 4; i++) {
        EXPECT(gpu_backend_parse(names[i], &b) == 0, "%s not parsed", names[i]);
        EXPECT(strcmp(gpu_backend_name(b), names[i]) == 0, "%s does not round-trip", names[i]);
    }
    EXPECT(gpu_backend_parse("opencl", &b) == -1, "opencl accepted");
    EXPECT(gpu_backend_parse("", &b) == -1, "empty name accepted");
    EXPECT(gpu_backend_parse("CUDA", &b) == -1, "CUDA accepted");
}

static void check_cpu(void)
{
    struct gpu_options opt = {.backend = GPU_BACKEND_CPU};
    struct gpu *g = gpu_new(&opt);
    char why[64] = "x", desc[256];
    const char *path = NULL;
    bool pinned = true;
    EXPECT(g, "gpu_new");
    if (!g)
        return;
    EXPECT(!gpu_wanted(g), "backend cpu wants a GPU");
    EXPECT(gpu_unusable(g, why, sizeof why) && strcmp(why, "backend cpu") == 0,
           "backend cpu: unusable because '%s'", why);
    EXPECT(one_read(g, &path, why, sizeof why) == -1 && strcmp(why, "backend cpu") == 0,
           "backend cpu: want -1 and 'backend cpu', got '%s'", why);
    EXPECT(!gpu_ready(g), "backend cpu ready");
    void *p = gpu_host_alloc(g, 4096, &pinned);
    EXPECT(p && !pinned, "backend cpu: host memory %p pinned=%d", p, pinned);
    if (p)
        memset(p, 1, 4096);
    gpu_host_free(g, p, 4096, pinned);
    describe(g, desc, sizeof desc);
    EXPECT(strstr(desc, "# gpu: off") != NULL, "describe: %s", desc);
    gpu_free(g);
}

/* A forced backend either works or fails in its own name, and the failure
 * is kept: the second read answers the same without a new attempt. */
static void check_forced(const char *name)
{
    struct gpu_options opt = {.device = 0};
    char why[512], why2[512], desc[2048], prefix[16];
    const char *path = NULL;
    bool pinned;
    gpu_backend_parse(name, &opt.backend);
    struct gpu *g = gpu_new(&opt);
    if (!g)
        return;
    describe(g, desc, sizeof desc);
    EXPECT(strstr(desc, "not started") != NULL, "%s: before any read: %s", name, desc);
    snprintf(prefix, sizeof prefix, "%s: ", name);
    if (one_read(g, &path, why, sizeof why) == 0) {
        printf("%s: a GPU is here (%s); fallback checks are for machines without one\n", name,
               path);
        EXPECT(strcmp(path, name[0] == 'c' ? "gpu-cuda" : "gpu-hip") == 0, "path %s", path);
        gpu_free(g);
        return;
    }
    printf("%s: falls back: %s\n", name, why);
    EXPECT(strncmp(why, prefix, strlen(prefix)) == 0, "%s: reason '%s'", name, why);
    EXPECT(one_read(g, &path, why2, sizeof why2) == -1 && strcmp(why, why2) == 0,
           "%s: second read: '%s' after '%s'", name, why2, why);
    EXPECT(!gpu_ready(g), "%s: ready after a failure", name);
    EXPECT(gpu_unusable(g, why2, sizeof why2) && strcmp(why, why2) == 0,
           "%s: unusable because '%s', not '%s'", name, why2, why);
    describe(g, desc, sizeof desc);
    EXPECT(strstr(desc, "# gpu: unavailable: ") && strstr(desc, why), "%s: describe: %s", name,
           desc);
    void *p = gpu_host_alloc(g, 1 << 20, &pinned);
    EXPECT(p && !pinned, "%s: host memory without a runtime", name);
    if (p)
        memset(p, 2, 1 << 20);
    gpu_host_free(g, p, 1 << 20, pinned);
    gpu_free(g);
}

/* A code-object override that is missing or not a code object: the read
 * falls back with a reason naming the file. Reached only where the runtime
 * starts; elsewhere the runtime's own reason comes first. */
static void check_override(const char *name, const char *var, const char *file, const char *want)
{
    struct gpu_options opt = {.device = 0};
    char why[512];
    const char *path = NULL;
    gpu_backend_parse(name, &opt.backend);
    if (opt.backend == GPU_BACKEND_HIP)
        opt.hsaco = file;
    else
        opt.fatbin = file;
    struct gpu *g = gpu_new(&opt);
    if (g && one_read(g, &path, why, sizeof why) == 0) {
        EXPECT(0, "%s=%s: the read used the GPU (%s)", var, file, path);
    } else if (g && strstr(why, var) == NULL && strstr(why, file) == NULL) {
        printf("%s=%s: not reached, the runtime is unavailable (%s)\n", var, file, why);
    } else if (g) {
        printf("%s=%s: falls back: %s\n", var, file, why);
        EXPECT(strstr(why, want) != NULL, "%s=%s: reason '%s' lacks '%s'", var, file, why, want);
    }
    gpu_free(g);
}

static void check_overrides(void)
{
    char garbage[] = "/tmp/gguffs-gpu-api-XXXXXX";
    int fd = mkstemp(garbage);
    if (fd < 0 || write(fd, "not a code object\n", 18) != 18) {
        EXPECT(0, "cannot write %s", garbage);
        return;
    }
    close(fd);
    check_override("cuda", "Q4_0_DEQUANT_FATBIN", "/nonexistent/q4_0.fatbin",
                   "No such file or directory");
    check_override("cuda", "Q4_0_DEQUANT_FATBIN", garbage, "loading");
    check_override("hip", "Q4_0_DEQUANT_HSACO", "/nonexistent/q4_0.hsaco",
                   "No such file or directory");
    check_override("hip", "Q4_0_DEQUANT_HSACO", garbage, "loading");
    unlink(garbage);
}

static void check_auto(void)
{
    struct gpu_options opt = {.backend = GPU_BACKEND_AUTO};
    struct gpu *g = gpu_new(&opt);
    char why[512];
    const char *path = NULL;
    if (!g)
        return;
    if (one_read(g, &path, why, sizeof why) == 0) {
        printf("auto: %s\n", path);
    } else {
        printf("auto: falls back: %s\n", why);
        EXPECT(strncmp(why, "no GPU (hip: ", 13) == 0 && strstr(why, "; cuda: "),
               "auto: reason '%s'", why);
    }
    gpu_free(g);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: gpu_api [probe BACKEND]\n");
        return 2;
    }
    check_names();
    check_cpu();
    check_forced("cuda");
    check_forced("hip");
    check_auto();
    check_overrides();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("gpu interface checks passed\n");
    return 0;
}
