/* gpu_cuda.c - the CUDA driver API behind struct gpu_ops.
 *
 * libcuda.so.1 is dlopen()ed and its symbols resolved by hand, so the binary
 * neither links to nor needs the CUDA toolkit. The few types used are
 * declared here as the driver ABI defines them (handles are pointers,
 * CUdeviceptr is 64-bit, results are ints). Versioned entry points (_v2) are
 * the ones cuda.h maps the plain names to.
 *
 * Contexts: the device's primary context is retained once, and made current
 * in bind() because it is per thread and libfuse serves reads from a pool of
 * worker threads.
 */
#include "gpu/gpu_backend.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_STUB_LIBRARY 34
#define CU_DEVICE_NAME_MAX 128

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;

/* Every symbol used: X(field, "symbol", return, (params)); "a|b" takes the
 * first one the driver has (the _v2 names that cuda.h maps to, then the
 * older ones). */
/* What the product calls. */
#define CUDA_SYMBOLS(X)                                                                            \
    X(Init, "cuInit", CUresult, (unsigned))                                                        \
    X(DeviceGetCount, "cuDeviceGetCount", CUresult, (int *))                                       \
    X(DeviceGet, "cuDeviceGet", CUresult, (CUdevice *, int))                                       \
    X(DeviceGetName, "cuDeviceGetName", CUresult, (char *, int, CUdevice))                         \
    X(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult, (CUcontext *, CUdevice))             \
    X(PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", CUresult, (CUdevice))                     \
    X(CtxSetCurrent, "cuCtxSetCurrent", CUresult, (CUcontext))                                     \
    X(GetErrorName, "cuGetErrorName", CUresult, (CUresult, const char **))                         \
    X(ModuleLoadData, "cuModuleLoadData", CUresult, (CUmodule *, const void *))                    \
    X(ModuleUnload, "cuModuleUnload", CUresult, (CUmodule))                                        \
    X(ModuleGetFunction, "cuModuleGetFunction", CUresult, (CUfunction *, CUmodule, const char *))  \
    X(LaunchKernel, "cuLaunchKernel", CUresult,                                                    \
      (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *,   \
       void **, void **))                                                                          \
    X(MemAlloc, "cuMemAlloc_v2", CUresult, (gpu_dptr *, size_t))                                   \
    X(MemFree, "cuMemFree_v2", CUresult, (gpu_dptr))                                               \
    X(MemHostAlloc, "cuMemHostAlloc", CUresult, (void **, size_t, unsigned))                       \
    X(MemFreeHost, "cuMemFreeHost", CUresult, (void *))                                            \
    X(StreamCreate, "cuStreamCreate", CUresult, (void **, unsigned))                               \
    X(StreamDestroy, "cuStreamDestroy_v2", CUresult, (void *))                                     \
    X(StreamSynchronize, "cuStreamSynchronize", CUresult, (void *))                                \
    X(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", CUresult, (gpu_dptr, const void *, size_t, void *)) \
    X(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", CUresult, (void *, gpu_dptr, size_t, void *))

/* What only the benchmark calls (device copies, timing events): resolved
 * apart, so a driver without them still serves reads. */
#define CUDA_BENCH_SYMBOLS(X)                                                                      \
    X(MemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", CUresult, (gpu_dptr, gpu_dptr, size_t, void *))     \
    X(EventCreate, "cuEventCreate", CUresult, (void **, unsigned))                                 \
    X(EventDestroy, "cuEventDestroy_v2", CUresult, (void *))                                       \
    X(EventRecord, "cuEventRecord", CUresult, (void *, void *))                                    \
    X(EventSynchronize, "cuEventSynchronize", CUresult, (void *))                                  \
    X(EventElapsedTime, "cuEventElapsedTime_v2|cuEventElapsedTime", CUresult,                      \
      (float *, void *, void *))

struct gpu_rt {
    void *lib;
#define X(field, sym, ret, params) ret(*field) params;
    CUDA_SYMBOLS(X)
    CUDA_BENCH_SYMBOLS(X)
#undef X
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    char name[CU_DEVICE_NAME_MAX];
};

#define CU_STREAM_NON_BLOCKING 0x1
#define CU_EVENT_DEFAULT 0x0
#define CU_MEMHOSTALLOC_PORTABLE 0x1

#ifdef GGUFFS_HAVE_FATBIN
extern const unsigned char gguffs_fatbin[], gguffs_fatbin_end[];
#endif

static const unsigned char *cuda_embedded(size_t *size)
{
#ifdef GGUFFS_HAVE_FATBIN
    *size = (size_t)(gguffs_fatbin_end - gguffs_fatbin);
    return gguffs_fatbin;
#else
    *size = 0;
    return NULL;
#endif
}

static const char *cuda_error_name(struct gpu_rt *rt, int code)
{
    const char *s = NULL;
    if (rt && rt->GetErrorName && rt->GetErrorName(code, &s) == 0 && s)
        return s;
    return "CUDA_ERROR_UNKNOWN_CODE";
}

/* dlsym of the first of "a|b|..." that the library has. */
static void *symbol(void *lib, const char *names)
{
    char one[64];
    while (*names) {
        size_t n = strcspn(names, "|");
        if (n < sizeof one) {
            memcpy(one, names, n);
            one[n] = '\0';
            void *p = dlsym(lib, one);
            if (p)
                return p;
        }
        names += n + (names[n] == '|');
    }
    return NULL;
}

/* Load the library and every symbol the product calls; 0, or -1 with why. */
static int cuda_resolve(struct gpu_rt *rt, char *why, size_t whylen)
{
    rt->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!rt->lib) {
        snprintf(why, whylen, "cuda: runtime not found (libcuda.so.1)");
        return -1;
    }
#define X(field, sym, ret, params)                                                                 \
    *(void **)&rt->field = symbol(rt->lib, sym);                                                   \
    if (!rt->field) {                                                                              \
        snprintf(why, whylen, "cuda: libcuda.so.1 lacks %s (driver too old)", sym);                \
        return -1;                                                                                 \
    }
    CUDA_SYMBOLS(X)
#undef X
    return 0;
}

/* The benchmark's symbols, on a runtime already open; 0, or -1 with why. */
static int cuda_resolve_bench(struct gpu_rt *rt, char *why, size_t whylen)
{
#define X(field, sym, ret, params)                                                                 \
    *(void **)&rt->field = symbol(rt->lib, sym);                                                   \
    if (!rt->field) {                                                                              \
        snprintf(why, whylen, "cuda: libcuda.so.1 lacks %s", sym);                                 \
        return -1;                                                                                 \
    }
    CUDA_BENCH_SYMBOLS(X)
#undef X
    return 0;
}

/* Init, pick the device, retain and bind its primary context. */
static int cuda_start(struct gpu_rt *rt, int ordinal, char *why, size_t whylen)
{
    int rc = rt->Init(0), count = 0;
    if (rc == CUDA_ERROR_STUB_LIBRARY) {
        snprintf(why, whylen, "cuda: stub driver (no GPU)");
        return -1;
    }
    if (rc == CUDA_ERROR_NO_DEVICE) {
        snprintf(why, whylen, "cuda: no device");
        return -1;
    }
    if (rc != 0) {
        snprintf(why, whylen, "cuda: cuInit: %s", cuda_error_name(rt, rc));
        return -1;
    }
    if ((rc = rt->DeviceGetCount(&count)) != 0 || count == 0) {
        snprintf(why, whylen, "cuda: no device%s%s", rc ? ": " : "",
                 rc ? cuda_error_name(rt, rc) : "");
        return -1;
    }
    if (ordinal < 0 || ordinal >= count) {
        snprintf(why, whylen, "cuda: no device %d (%d found)", ordinal, count);
        return -1;
    }
    if ((rc = rt->DeviceGet(&rt->dev, ordinal)) != 0 ||
        (rc = rt->PrimaryCtxRetain(&rt->ctx, rt->dev)) != 0) {
        snprintf(why, whylen, "cuda: device %d: %s", ordinal, cuda_error_name(rt, rc));
        return -1;
    }
    if ((rc = rt->CtxSetCurrent(rt->ctx)) != 0) {
        rt->PrimaryCtxRelease(rt->dev);
        rt->ctx = NULL;
        snprintf(why, whylen, "cuda: cuCtxSetCurrent: %s", cuda_error_name(rt, rc));
        return -1;
    }
    if (rt->DeviceGetName(rt->name, sizeof rt->name, rt->dev) != 0)
        snprintf(rt->name, sizeof rt->name, "CUDA device %d", ordinal);
    return 0;
}

static void cuda_close(struct gpu_rt *rt)
{
    if (!rt)
        return;
    if (rt->mod)
        rt->ModuleUnload(rt->mod);
    if (rt->ctx)
        rt->PrimaryCtxRelease(rt->dev);
    /* the library stays loaded: the driver keeps threads that run its code */
    free(rt);
}

static struct gpu_rt *cuda_open(int ordinal, char *why, size_t whylen)
{
    struct gpu_rt *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(why, whylen, "cuda: out of memory");
        return NULL;
    }
    if (cuda_resolve(rt, why, whylen) != 0 || cuda_start(rt, ordinal, why, whylen) != 0) {
        cuda_close(rt);
        return NULL;
    }
    return rt;
}

static int cuda_load(struct gpu_rt *rt, const void *image)
{
    int rc = rt->ModuleLoadData(&rt->mod, image);
    if (rc != 0)
        rt->mod = NULL;
    return rc;
}

static int cuda_function(struct gpu_rt *rt, const char *name, gpu_fn *fn)
{
    CUfunction f = NULL;
    int rc = rt->ModuleGetFunction(&f, rt->mod, name);
    *fn = f;
    return rc;
}

static const char *cuda_device_name(struct gpu_rt *rt)
{
    return rt->name;
}

static int cuda_bind(struct gpu_rt *rt)
{
    return rt->CtxSetCurrent(rt->ctx);
}

static int cuda_host_alloc(struct gpu_rt *rt, void **p, size_t bytes)
{
    return rt->MemHostAlloc(p, bytes, CU_MEMHOSTALLOC_PORTABLE);
}

static int cuda_host_free(struct gpu_rt *rt, void *p)
{
    return rt->MemFreeHost(p);
}

static int cuda_dev_alloc(struct gpu_rt *rt, gpu_dptr *p, size_t bytes)
{
    return rt->MemAlloc(p, bytes);
}

static int cuda_dev_free(struct gpu_rt *rt, gpu_dptr p)
{
    return rt->MemFree(p);
}

static int cuda_stream_new(struct gpu_rt *rt, gpu_stream *s)
{
    return rt->StreamCreate(s, CU_STREAM_NON_BLOCKING);
}

static int cuda_stream_free(struct gpu_rt *rt, gpu_stream s)
{
    return rt->StreamDestroy(s);
}

static int cuda_stream_sync(struct gpu_rt *rt, gpu_stream s)
{
    return rt->StreamSynchronize(s);
}

static int cuda_h2d(struct gpu_rt *rt, gpu_dptr dst, const void *src, size_t n, gpu_stream s)
{
    return rt->MemcpyHtoDAsync(dst, src, n, s);
}

static int cuda_d2h(struct gpu_rt *rt, void *dst, gpu_dptr src, size_t n, gpu_stream s)
{
    return rt->MemcpyDtoHAsync(dst, src, n, s);
}

static int cuda_d2d(struct gpu_rt *rt, gpu_dptr dst, gpu_dptr src, size_t n, gpu_stream s)
{
    return rt->MemcpyDtoDAsync(dst, src, n, s);
}

static int cuda_launch(struct gpu_rt *rt, gpu_fn fn, gpu_stream s, gpu_dptr src, gpu_dptr dst,
                       uint64_t nblocks, unsigned grid)
{
    void *args[] = {&src, &dst, &nblocks};
    return rt->LaunchKernel(fn, grid, 1, 1, GPU_CTA_THREADS, 1, 1, 0, s, args, NULL);
}

static int cuda_event_new(struct gpu_rt *rt, gpu_event *e)
{
    return rt->EventCreate(e, CU_EVENT_DEFAULT);
}

static int cuda_event_free(struct gpu_rt *rt, gpu_event e)
{
    return rt->EventDestroy(e);
}

static int cuda_event_record(struct gpu_rt *rt, gpu_event e, gpu_stream s)
{
    return rt->EventRecord(e, s);
}

static int cuda_event_ms(struct gpu_rt *rt, float *ms, gpu_event start, gpu_event stop)
{
    int rc = rt->EventSynchronize(stop);
    return rc ? rc : rt->EventElapsedTime(ms, start, stop);
}

static const struct gpu_bench_ops cuda_bench = {
    .resolve = cuda_resolve_bench,
    .d2d = cuda_d2d,
    .event_new = cuda_event_new,
    .event_free = cuda_event_free,
    .event_record = cuda_event_record,
    .event_ms = cuda_event_ms,
};

const struct gpu_ops gpu_ops_cuda = {
    .name = "cuda",
    .id = GPU_BACKEND_CUDA,
    .objkind = "fatbin",
    .embedded = cuda_embedded,
    .open = cuda_open,
    .close = cuda_close,
    .load = cuda_load,
    .function = cuda_function,
    .device_name = cuda_device_name,
    .error_name = cuda_error_name,
    .sticky = gpu_code_is_sticky,
    .bind = cuda_bind,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .dev_alloc = cuda_dev_alloc,
    .dev_free = cuda_dev_free,
    .stream_new = cuda_stream_new,
    .stream_free = cuda_stream_free,
    .stream_sync = cuda_stream_sync,
    .h2d = cuda_h2d,
    .d2h = cuda_d2h,
    .launch = cuda_launch,
    .bench = &cuda_bench,
};
