/* gpu_bench - how close the GPU path runs to the hardware's limits, for
 * every type with a kernel (the type table's gpu_kernel column).
 *
 *   gpu_bench [--backend auto|cuda|hip] [--device N] [--quick] [--kernel-only]
 *             [--type NAME[,NAME...]]
 *
 * Measures, on one device: the device's own copy bandwidth (a large
 * device-to-device copy, bytes read + written), pinned PCIe bandwidth each
 * way, then for each type the kernel alone (bytes in + out) and
 * gpu_decode() host to host on tensors of real shapes, each against its
 * limit:
 *   kernel        vs device copy bandwidth
 *   host to host  vs max(in / H2D, out / D2H): the time the PCIe copies
 *                 alone would take with perfect overlap of both directions
 * then a sweep of the pipeline's chunk size (Q4_0 and Q4_K). --kernel-only
 * stops after the kernels and times each on several grids (with
 * Q4_0_DEQUANT_FATBIN, that compares builds of the kernels, as
 * bench/kernel_variants does); --type limits the run to the types named. Prints a Markdown table.
 * Exits 77 when there is no GPU.
 */
#include "common/facts.h"
#include "decode/dequant.h"
#include "format/ggml_types.h"
#include "gpu/gpu.h"
#include "gpu/gpu_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAXREPS 64
#define BIG ((size_t)1 << 30) /* bytes out of a timed kernel, and of the d2d copy */

struct dev {
    struct gpu *g;
    const struct gpu_ops *be;
    const struct gpu_bench_ops *bo; /* d2d and events, resolved apart */
    struct gpu_rt *rt;
    gpu_fn kernel;
    gpu_stream s;
    gpu_event e0, e1;
};

/* The type benchmarked: geometry and where its fp16 scales sit. */
struct ty {
    uint32_t id;
    const char *name;
    uint64_t elems, bytes;
    int f16_at[2]; /* -1: none */
};

static double h2d_gbs, d2h_gbs, copy_gbs;
static bool kernel_sweep;

static void die_rc(struct dev *d, const char *what, int rc)
{
    fprintf(stderr, "gpu_bench: %s: %s\n", what, d->be->error_name(d->rt, rc));
    exit(1);
}

#define CK(d, what, call)                                                                          \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            die_rc((d), (what), rc_);                                                              \
    } while (0)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ty ty_of(uint32_t id)
{
    const struct ggml_type_info *ti = ggml_type_find(id);
    struct ty t = {id, ti->name, ti->block_elems, ti->block_bytes, {0, -1}};
    if (id == GT_Q6_K)
        t.f16_at[0] = 208;
    if (id == GT_Q4_1 || id == GT_Q5_1 || id == GT_Q4_K || id == GT_Q5_K)
        t.f16_at[1] = 2;
    return t;
}

/* Random blocks with finite scales, as real models have: random fp16 bits
 * would be NaN or Inf one time in 32. */
static void fill_random(const struct ty *t, uint8_t *b, uint64_t nblocks, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1, n = nblocks * t->bytes;
    for (uint64_t i = 0; i < n; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(b + i, &s, n - i < 8 ? n - i : 8);
    }
    for (uint64_t i = 0; i < nblocks; i++)
        for (int k = 0; k < 2; k++)
            if (t->f16_at[k] >= 0)
                b[i * t->bytes + (uint64_t)t->f16_at[k] + 1] &= 0x7b;
}

/* Kinds of device work timed with events, one op per repetition. */
enum op { OP_D2D, OP_KERNEL, OP_H2D, OP_D2H };

static double time_op(struct dev *d, enum op op, gpu_dptr a, gpu_dptr b, void *host, size_t n,
                      unsigned grid, int reps)
{
    double ms[MAXREPS];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        float t;
        CK(d, "event record", d->bo->event_record(d->rt, d->e0, d->s));
        switch (op) {
        case OP_D2D:
            CK(d, "copy d2d", d->bo->d2d(d->rt, b, a, n, d->s));
            break;
        case OP_KERNEL:
            CK(d, "kernel", d->be->launch(d->rt, d->kernel, d->s, a, b, n, grid));
            break;
        case OP_H2D:
            CK(d, "copy h2d", d->be->h2d(d->rt, a, host, n, d->s));
            break;
        case OP_D2H:
            CK(d, "copy d2h", d->be->d2h(d->rt, host, a, n, d->s));
            break;
        }
        CK(d, "event record", d->bo->event_record(d->rt, d->e1, d->s));
        CK(d, "event time", d->bo->event_ms(d->rt, &t, d->e0, d->e1));
        if (r >= 0)
            ms[r] = t;
    }
    return median(ms, reps) / 1e3;
}

static void row(const char *what, double bytes, double secs, const char *ref, double ratio)
{
    printf("| %s | %.1f MB | %.3f | %.1f | %s | ", what, bytes / 1e6, secs * 1e3,
           bytes / secs / 1e9, ref);
    if (ratio > 0)
        printf("%.1f%% |\n", ratio * 100);
    else
        printf("- |\n");
}

/* Device copy and pinned PCIe each way. */
static void device_limits(struct dev *d, bool quick)
{
    size_t pcie = quick ? (size_t)64 << 20 : (size_t)256 << 20;
    int reps = quick ? 5 : 20;
    gpu_dptr a, b;
    bool pinned;
    uint8_t *host = gpu_host_alloc(d->g, pcie, &pinned);
    if (!host || !pinned) {
        fprintf(stderr, "gpu_bench: no pinned host memory\n");
        exit(1);
    }
    memset(host, 0x5a, pcie);
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &a, BIG));
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &b, BIG));
    double t = time_op(d, OP_D2D, a, b, NULL, BIG, 0, reps);
    copy_gbs = 2.0 * BIG / t / 1e9;
    row("device copy (d2d 1 GiB, read+write)", 2.0 * BIG, t, "-", 0);
    t = time_op(d, OP_H2D, a, 0, host, pcie, 0, reps);
    h2d_gbs = pcie / t / 1e9;
    row("PCIe host to device, pinned", (double)pcie, t, "-", 0);
    t = time_op(d, OP_D2H, a, 0, host, pcie, 0, reps);
    d2h_gbs = pcie / t / 1e9;
    row("PCIe device to host, pinned", (double)pcie, t, "-", 0);
    d->be->dev_free(d->rt, a);
    d->be->dev_free(d->rt, b);
    gpu_host_free(d->g, host, pcie, pinned);
}

/* The type's kernel alone over 1 GiB of output: with the grid gpu_decode
 * uses (at most 2^16 CTAs), and with --kernel-only one thread per item (no
 * cap) and other caps too, where each thread strides over items. */
static void kernel_alone(struct dev *d, const struct ty *t, bool quick)
{
    uint64_t nblocks = BIG / sizeof(float) / t->elems;
    size_t in = nblocks * t->bytes;
    int reps = quick ? 5 : 20;
    gpu_dptr a, b;
    bool pinned;
    char why[512], what[128];
    uint8_t *host = gpu_host_alloc(d->g, in, &pinned);
    if (!host || !pinned) {
        fprintf(stderr, "gpu_bench: no pinned host memory\n");
        exit(1);
    }
    if (gpu_runtime(d->g, t->id, &d->be, &d->rt, &d->kernel, why, sizeof why) != 0 || !d->kernel) {
        fprintf(stderr, "gpu_bench: no kernel for %s: %s\n", t->name, why);
        exit(1);
    }
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &a, in));
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &b, BIG));
    fill_random(t, host, nblocks, 1);
    CK(d, "copy h2d", d->be->h2d(d->rt, a, host, in, d->s));
    CK(d, "sync", d->be->stream_sync(d->rt, d->s));
    static const unsigned caps[] = {1u << 16, 1u << 30, 8192, 16384, 32768, 131072};
    for (size_t i = 0; i < (kernel_sweep ? sizeof caps / sizeof caps[0] : 1); i++) {
        unsigned grid = gpu_grid_for(nblocks * t->elems, caps[i]);
        double s = time_op(d, OP_KERNEL, a, b, NULL, nblocks, grid, reps);
        double bytes = (double)in + (double)BIG;
        snprintf(what, sizeof what, "kernel %s, %llu blocks, grid %u (in+out)", t->name,
                 (unsigned long long)nblocks, grid);
        row(what, bytes, s, "device copy", bytes / s / 1e9 / copy_gbs);
    }
    d->be->dev_free(d->rt, a);
    d->be->dev_free(d->rt, b);
    gpu_host_free(d->g, host, in, pinned);
}

/* gpu_decode host to host on one tensor of nvalues; checks the bits once. */
static void host_to_host(struct gpu *g, const struct ty *t, const char *name, uint64_t nvalues,
                         bool pin, int reps)
{
    uint64_t nblocks = nvalues / t->elems;
    size_t in = nblocks * t->bytes, out = nblocks * t->elems * sizeof(float);
    bool ps = false, pd = false;
    uint8_t *src = pin ? gpu_host_alloc(g, in, &ps) : malloc(in);
    float *dst = pin ? gpu_host_alloc(g, out, &pd) : malloc(out);
    float *ref = malloc(out);
    double secs[MAXREPS];
    char why[512], what[160];
    enum gpu_backend used;
    if (!src || !dst || !ref || ps != pin || pd != pin) {
        fprintf(stderr, "gpu_bench: %s: no memory of the kind asked\n", name);
        exit(1);
    }
    fill_random(t, src, nblocks, nblocks);
    memset(dst, 0, out); /* touch it: first-touch page faults are not the GPU's */
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        if (gpu_decode(g, t->id, src, nblocks, dst, &used, why, sizeof why) != 0) {
            fprintf(stderr, "gpu_bench: gpu_decode: %s\n", why);
            exit(1);
        }
        if (r >= 0)
            secs[r] = now_s() - t0;
    }
    bool same = dequant_blocks(t->id, src, nblocks, ref) == 0 && memcmp(ref, dst, out) == 0;
    double floor = (double)in / (h2d_gbs * 1e9) > (double)out / (d2h_gbs * 1e9)
                       ? (double)in / (h2d_gbs * 1e9)
                       : (double)out / (d2h_gbs * 1e9);
    double secs_med = median(secs, reps);
    /* "gpu_q4_0 4096x11008, pinned": bench/run finds its row by that name */
    snprintf(what, sizeof what, "gpu_%s %s, %s%s", t->name, name, pin ? "pinned" : "pageable",
             same ? "" : " (BITS DIFFER)");
    row(what, (double)(in + out), secs_med, "PCIe floor", floor / secs_med);
    if (pin) {
        gpu_host_free(g, src, in, ps);
        gpu_host_free(g, dst, out, pd);
    } else {
        free(src);
        free(dst);
    }
    free(ref);
}

/* The chunk size is an option of a gpu: one fresh gpu per size. */
static void chunk_sweep(const struct gpu_options *opt, const struct ty *t, bool quick)
{
    static const uint64_t sizes[] = {1u << 18, 1u << 19, 1u << 20, 1u << 21, 1u << 22};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char name[96];
        struct gpu_options o = *opt;
        o.chunk_values = sizes[i];
        struct gpu *g = gpu_new(&o);
        if (!g)
            exit(1);
        snprintf(name, sizeof name, "4096x11008, chunk %llu Ki values",
                 (unsigned long long)sizes[i] >> 10);
        host_to_host(g, t, name, 4096ull * 11008, true, quick ? 3 : 10);
        snprintf(name, sizeof name, "8 MiB window, chunk %llu Ki values",
                 (unsigned long long)sizes[i] >> 10);
        host_to_host(g, t, name, 1u << 21, true, quick ? 5 : 30);
        gpu_free(g);
    }
}

/* gpu_describe()'s facts, as the control file shows them. */
static void print_facts(struct gpu *g)
{
    struct facts *f = facts_new();
    if (f == NULL)
        return;
    gpu_describe(g, f);
    for (size_t i = 0; i < facts_count(f); i++)
        printf("# %s: %s\n", facts_key(f, i), facts_value(f, i));
    facts_free(f);
}

/* Host to host on tensors of real shapes. */
static void type_rows(struct dev *d, const struct ty *t, bool quick)
{
    host_to_host(d->g, t, "8 MiB window", 1u << 21, true, quick ? 5 : 30);
    host_to_host(d->g, t, "4096x11008", 4096ull * 11008, true, quick ? 3 : 10);
    if (!quick) {
        host_to_host(d->g, t, "4096x11008", 4096ull * 11008, false, 5);
        host_to_host(d->g, t, "8192x28672", 8192ull * 28672, true, 5);
    }
}

/* Whether name is one of the comma-separated names in list. */
static bool in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncasecmp(p, name, n) == 0)
            return true;
        p += n + (end != NULL);
    }
    return false;
}

/* The types with a kernel, or only those `only` (type names, comma
 * separated) names; 0 when it names one without a kernel. */
static size_t gpu_types(const char *only, struct ty *out, size_t max)
{
    size_t n = 0, named = 0;
    for (uint32_t id = 0; id < 64 && n < max; id++) {
        const struct ggml_type_info *ti = ggml_type_find(id);
        if (ti != NULL && ti->gpu_kernel != NULL && (!only || in_list(only, ti->name)))
            out[n++] = ty_of(id);
    }
    for (const char *p = only; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        named++;
    return only && named != n ? 0 : n;
}

static void usage_exit(void)
{
    fprintf(stderr, "usage: gpu_bench [--backend auto|cuda|hip] [--device N] [--quick] "
                    "[--kernel-only] [--type NAME[,NAME...]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    /* A benchmark, not the product: it may take the code objects from the
     * environment itself. */
    struct gpu_options opt = {.backend = GPU_BACKEND_AUTO,
                              .fatbin = getenv("Q4_0_DEQUANT_FATBIN"),
                              .hsaco = getenv("Q4_0_DEQUANT_HSACO")};
    bool quick = false, kernel_only = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc &&
            gpu_backend_parse(argv[i + 1], &opt.backend) == 0) {
            i++;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            opt.device = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--kernel-only") == 0) {
            kernel_only = true;
            kernel_sweep = true;
        } else {
            usage_exit();
        }
    }
    struct ty types[16];
    size_t ntypes = gpu_types(only, types, sizeof types / sizeof types[0]);
    if (ntypes == 0) {
        fprintf(stderr, "gpu_bench: %s: not all types with a GPU kernel\n", only);
        return 2;
    }
    struct dev d = {0};
    char why[512];
    d.g = gpu_new(&opt);
    if (!d.g)
        return 1;
    if (gpu_runtime(d.g, types[0].id, &d.be, &d.rt, &d.kernel, why, sizeof why) != 0) {
        printf("SKIP: no GPU (backend %s): %s\n", gpu_backend_name(opt.backend), why);
        gpu_free(d.g);
        return 77;
    }
    d.bo = d.be->bench;
    if (d.bo->resolve(d.rt, why, sizeof why) != 0) {
        fprintf(stderr, "gpu_bench: %s\n", why);
        gpu_free(d.g);
        return 1;
    }
    CK(&d, "stream", d.be->stream_new(d.rt, &d.s));
    CK(&d, "event", d.bo->event_new(d.rt, &d.e0));
    CK(&d, "event", d.bo->event_new(d.rt, &d.e1));
    print_facts(d.g);
    printf("\n");
    printf("| measure | bytes moved | ms (median) | GB/s | against | ratio |\n");
    printf("| --- | --- | --- | --- | --- | --- |\n");
    device_limits(&d, quick);
    for (size_t i = 0; i < ntypes; i++)
        kernel_alone(&d, &types[i], quick);
    for (size_t i = 0; i < ntypes && !kernel_only; i++)
        type_rows(&d, &types[i], quick);
    for (size_t i = 0; i < ntypes && !kernel_only; i++)
        if (types[i].id == GT_Q4_0 || types[i].id == GT_Q4_K)
            chunk_sweep(&opt, &types[i], quick);
    d.bo->event_free(d.rt, d.e0);
    d.bo->event_free(d.rt, d.e1);
    d.be->stream_free(d.rt, d.s);
    gpu_free(d.g);
    return 0;
}
