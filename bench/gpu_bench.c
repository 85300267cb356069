/* gpu_bench - how close the Q4_0 GPU path runs to the hardware's limits.
 *
 *   gpu_bench [--backend auto|cuda|hip] [--device N] [--quick] [--kernel-only]
 *
 * Measures, on one device: the device's own copy bandwidth (a large
 * device-to-device copy, bytes read + written), the kernel alone (bytes in +
 * out), pinned PCIe bandwidth each way, and gpu_decode() host to host on
 * tensors of real shapes, each against its limit:
 *   kernel        vs device copy bandwidth
 *   host to host  vs max(in / H2D, out / D2H): the time the PCIe copies
 *                 alone would take with perfect overlap of both directions
 * then a sweep of the pipeline's chunk size. --kernel-only stops after the
 * device's own limits and times the kernel on several grids instead (with
 * Q4_0_DEQUANT_FATBIN, that compares builds of the kernel). Prints a
 * Markdown table.
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
#include <time.h>

#define Q4_0_BYTES 18
#define OUT_BYTES 128
#define MAXREPS 64

struct dev {
    struct gpu *g;
    const struct gpu_ops *be;
    const struct gpu_bench_ops *bo; /* d2d and events, resolved apart */
    struct gpu_rt *rt;
    gpu_fn kernel;
    gpu_stream s;
    gpu_event e0, e1;
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

static void fill_random(uint8_t *b, uint64_t nblocks, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (uint64_t i = 0; i < nblocks * Q4_0_BYTES; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t n = nblocks * Q4_0_BYTES - i < 8 ? nblocks * Q4_0_BYTES - i : 8;
        memcpy(b + i, &s, n);
    }
    /* finite scales, mostly: random fp16 bits are NaN/Inf one time in 32 */
    for (uint64_t i = 0; i < nblocks; i++)
        b[i * Q4_0_BYTES + 1] &= 0x7b;
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

/* Device copy, kernel alone, pinned PCIe each way. */
static void device_limits(struct dev *d, bool quick)
{
    /* 1 GiB even for --quick: a shorter kernel (0.09 ms for 256 MiB) does
     * not amortize its launch, and the copy takes milliseconds either way. */
    size_t big = (size_t)1 << 30;
    uint64_t nblocks = big / OUT_BYTES;
    size_t pcie = quick ? (size_t)64 << 20 : (size_t)256 << 20;
    int reps = quick ? 5 : 20;
    gpu_dptr a, b;
    bool pinned;
    uint8_t *host =
        gpu_host_alloc(d->g, pcie > nblocks * Q4_0_BYTES ? pcie : nblocks * Q4_0_BYTES, &pinned);
    if (!host || !pinned) {
        fprintf(stderr, "gpu_bench: no pinned host memory\n");
        exit(1);
    }
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &a, big));
    CK(d, "device alloc", d->be->dev_alloc(d->rt, &b, big));
    fill_random(host, nblocks, 1);
    CK(d, "copy h2d", d->be->h2d(d->rt, b, host, nblocks * Q4_0_BYTES, d->s));
    CK(d, "copy h2d", d->be->h2d(d->rt, a, host, nblocks * Q4_0_BYTES, d->s));
    CK(d, "sync", d->be->stream_sync(d->rt, d->s));

    double t = time_op(d, OP_D2D, a, b, NULL, big, 0, reps);
    copy_gbs = 2.0 * big / t / 1e9;
    row("device copy (d2d, read+write)", 2.0 * big, t, "-", 0);
    /* the grid gpu_q4_0 uses (at most 2^16 CTAs), then one thread per
     * item (no cap) and other caps, where each thread strides over items */
    static const unsigned caps[] = {1u << 16, 1u << 30, 8192, 16384, 32768, 131072};
    for (size_t i = 0; i < (kernel_sweep ? sizeof caps / sizeof caps[0] : 1); i++) {
        char what[128];
        unsigned grid = gpu_grid_for(nblocks, caps[i]);
        t = time_op(d, OP_KERNEL, b, a, NULL, nblocks, grid, reps);
        snprintf(what, sizeof what, "kernel, %llu blocks, grid %u (in+out)",
                 (unsigned long long)nblocks, grid);
        row(what, (double)nblocks * (Q4_0_BYTES + OUT_BYTES), t, "device copy",
            nblocks * (double)(Q4_0_BYTES + OUT_BYTES) / t / 1e9 / copy_gbs);
    }
    t = time_op(d, OP_H2D, a, 0, host, pcie, 0, reps);
    h2d_gbs = pcie / t / 1e9;
    row("PCIe host to device, pinned", (double)pcie, t, "-", 0);
    t = time_op(d, OP_D2H, a, 0, host, pcie, 0, reps);
    d2h_gbs = pcie / t / 1e9;
    row("PCIe device to host, pinned", (double)pcie, t, "-", 0);
    d->be->dev_free(d->rt, a);
    d->be->dev_free(d->rt, b);
    gpu_host_free(d->g, host, pcie > nblocks * Q4_0_BYTES ? pcie : nblocks * Q4_0_BYTES, pinned);
}

/* gpu_decode of Q4_0 host to host on one tensor; checks the bits once. */
static void host_to_host(struct gpu *g, const char *name, uint64_t nblocks, bool pin, int reps)
{
    size_t in = nblocks * Q4_0_BYTES, out = nblocks * OUT_BYTES;
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
    fill_random(src, nblocks, nblocks);
    memset(dst, 0, out); /* touch it: first-touch page faults are not the GPU's */
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        if (gpu_decode(g, GT_Q4_0, src, nblocks, dst, &used, why, sizeof why) != 0) {
            fprintf(stderr, "gpu_bench: gpu_decode: %s\n", why);
            exit(1);
        }
        if (r >= 0)
            secs[r] = now_s() - t0;
    }
    bool same = dequant_blocks(GT_Q4_0, src, nblocks, ref) == 0 && memcmp(ref, dst, out) == 0;
    double floor = (double)in / (h2d_gbs * 1e9) > (double)out / (d2h_gbs * 1e9)
                       ? (double)in / (h2d_gbs * 1e9)
                       : (double)out / (d2h_gbs * 1e9);
    double t = median(secs, reps);
    snprintf(what, sizeof what, "gpu_q4_0 %s, %s%s", name, pin ? "pinned" : "pageable",
             same ? "" : " (BITS DIFFER)");
    row(what, (double)(in + out), t, "PCIe floor", floor / t);
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
static void chunk_sweep(const struct gpu_options *opt, uint64_t nblocks, bool quick)
{
    static const uint64_t sizes[] = {8192, 16384, 32768, 65536, 131072};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char name[96];
        struct gpu_options o = *opt;
        o.chunk_blocks = sizes[i];
        struct gpu *g = gpu_new(&o);
        if (!g)
            exit(1);
        snprintf(name, sizeof name, "4096x11008, chunk %llu blocks", (unsigned long long)sizes[i]);
        host_to_host(g, name, nblocks, true, quick ? 3 : 10);
        snprintf(name, sizeof name, "8 MiB window, chunk %llu blocks",
                 (unsigned long long)sizes[i]);
        host_to_host(g, name, 65536, true, quick ? 5 : 30);
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

int main(int argc, char **argv)
{
    /* A benchmark, not the product: it may take the code objects from the
     * environment itself. */
    struct gpu_options opt = {.backend = GPU_BACKEND_AUTO,
                              .fatbin = getenv("Q4_0_DEQUANT_FATBIN"),
                              .hsaco = getenv("Q4_0_DEQUANT_HSACO")};
    bool quick = false, kernel_only = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc &&
            gpu_backend_parse(argv[i + 1], &opt.backend) == 0) {
            i++;
        } else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            opt.device = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--kernel-only") == 0) {
            kernel_only = true;
            kernel_sweep = true;
        } else {
            fprintf(stderr, "usage: gpu_bench [--backend auto|cuda|hip] [--device N] [--quick] "
                            "[--kernel-only]\n");
            return 2;
        }
    }
    struct dev d = {0};
    char why[512];
    d.g = gpu_new(&opt);
    if (!d.g)
        return 1;
    if (gpu_runtime(d.g, GT_Q4_0, &d.be, &d.rt, &d.kernel, why, sizeof why) != 0) {
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
    if (kernel_only) {
        d.bo->event_free(d.rt, d.e0);
        d.bo->event_free(d.rt, d.e1);
        d.be->stream_free(d.rt, d.s);
        gpu_free(d.g);
        return 0;
    }
    uint64_t llama = 4096ull * 11008 / 32, big = 8192ull * 28672 / 32;
    host_to_host(d.g, "8 MiB window", 65536, true, quick ? 5 : 30);
    host_to_host(d.g, "4096x11008", llama, true, quick ? 3 : 10);
    host_to_host(d.g, "4096x11008", llama, false, quick ? 2 : 5);
    if (!quick)
        host_to_host(d.g, "8192x28672", big, true, 5);
    chunk_sweep(&opt, llama, quick);
    d.bo->event_free(d.rt, d.e0);
    d.bo->event_free(d.rt, d.e1);
    d.be->stream_free(d.rt, d.s);
    gpu_free(d.g);
    return 0;
}
