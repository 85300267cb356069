/* gpu_hip.c - HIP's module API behind struct gpu_ops.
 *
 * libamdhip64 is dlopen()ed (soname .6, then .5) and its symbols resolved by
 * hand, so the binary needs no ROCm to build or start. Only functions whose
 * ABI is the same in HIP 5 and 6 are used (no hipDeviceProp_t, which
 * changed). hipDeviceptr_t is a pointer; struct gpu_ops carries device
 * addresses as 64-bit integers.
 *
 * The current device is per thread in HIP as in CUDA, so bind() sets it on
 * every call: libfuse serves reads from a pool of worker threads.
 */
#include "gpu/gpu_backend.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIP_ERROR_INVALID_DEVICE 101
#define HIP_ERROR_NO_DEVICE 100
#define HIP_DEVICE_NAME_MAX 128
#define HIP_STREAM_NON_BLOCKING 0x1

typedef int hipError_t;
typedef int hipDevice_t;
typedef void *hipModule_t;
typedef void *hipFunction_t;

/* What the product calls. */
#define HIP_SYMBOLS(X)                                                                             \
    X(Init, "hipInit", hipError_t, (unsigned))                                                     \
    X(GetDeviceCount, "hipGetDeviceCount", hipError_t, (int *))                                    \
    X(DeviceGet, "hipDeviceGet", hipError_t, (hipDevice_t *, int))                                 \
    X(DeviceGetName, "hipDeviceGetName", hipError_t, (char *, int, hipDevice_t))                   \
    X(SetDevice, "hipSetDevice", hipError_t, (int))                                                \
    X(GetErrorName, "hipGetErrorName", const char *, (hipError_t))                                 \
    X(ModuleLoadData, "hipModuleLoadData", hipError_t, (hipModule_t *, const void *))              \
    X(ModuleUnload, "hipModuleUnload", hipError_t, (hipModule_t))                                  \
    X(ModuleGetFunction, "hipModuleGetFunction", hipError_t,                                       \
      (hipFunction_t *, hipModule_t, const char *))                                                \
    X(ModuleLaunchKernel, "hipModuleLaunchKernel", hipError_t,                                     \
      (hipFunction_t, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,        \
       void *, void **, void **))                                                                  \
    X(Malloc, "hipMalloc", hipError_t, (void **, size_t))                                          \
    X(Free, "hipFree", hipError_t, (void *))                                                       \
    X(HostMalloc, "hipHostMalloc", hipError_t, (void **, size_t, unsigned))                        \
    X(HostFree, "hipHostFree", hipError_t, (void *))                                               \
    X(StreamCreateWithFlags, "hipStreamCreateWithFlags", hipError_t, (void **, unsigned))          \
    X(StreamDestroy, "hipStreamDestroy", hipError_t, (void *))                                     \
    X(StreamSynchronize, "hipStreamSynchronize", hipError_t, (void *))                             \
    X(MemcpyHtoDAsync, "hipMemcpyHtoDAsync", hipError_t, (void *, const void *, size_t, void *))   \
    X(MemcpyDtoHAsync, "hipMemcpyDtoHAsync", hipError_t, (void *, void *, size_t, void *))

/* What only the benchmark calls (device copies, timing events): resolved
 * apart, so a driver without them still serves reads. */
#define HIP_BENCH_SYMBOLS(X)                                                                       \
    X(MemcpyDtoDAsync, "hipMemcpyDtoDAsync", hipError_t, (void *, void *, size_t, void *))         \
    X(EventCreate, "hipEventCreate", hipError_t, (void **))                                        \
    X(EventDestroy, "hipEventDestroy", hipError_t, (void *))                                       \
    X(EventRecord, "hipEventRecord", hipError_t, (void *, void *))                                 \
    X(EventSynchronize, "hipEventSynchronize", hipError_t, (void *))                               \
    X(EventElapsedTime, "hipEventElapsedTime", hipError_t, (float *, void *, void *))

struct gpu_rt {
    void *lib;
#define X(field, sym, ret, params) ret(*field) params;
    HIP_SYMBOLS(X)
    HIP_BENCH_SYMBOLS(X)
#undef X
    int ordinal;
    hipModule_t mod;
    char name[HIP_DEVICE_NAME_MAX];
};

#ifdef GGUFFS_HAVE_HSACO
extern const unsigned char gguffs_hsaco[], gguffs_hsaco_end[];
#endif

static const unsigned char *hip_embedded(size_t *size)
{
#ifdef GGUFFS_HAVE_HSACO
    *size = (size_t)(gguffs_hsaco_end - gguffs_hsaco);
    return gguffs_hsaco;
#else
    *size = 0;
    return NULL;
#endif
}

static const char *hip_error_name(struct gpu_rt *rt, int code)
{
    const char *s = rt && rt->GetErrorName ? rt->GetErrorName(code) : NULL;
    return s ? s : "hipErrorUnknownCode";
}

static void *dptr(gpu_dptr p)
{
    return (void *)(uintptr_t)p;
}

static int hip_resolve(struct gpu_rt *rt, char *why, size_t whylen)
{
    static const char *const sonames[] = {"libamdhip64.so.6", "libamdhip64.so.5"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof sonames / sizeof sonames[0] && !rt->lib; i++) {
        rt->lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
        found = sonames[i];
    }
    if (!rt->lib) {
        snprintf(why, whylen, "hip: runtime not found (libamdhip64.so.6/.so.5)");
        return -1;
    }
#define X(field, sym, ret, params)                                                                 \
    *(void **)&rt->field = dlsym(rt->lib, sym);                                                    \
    if (!rt->field) {                                                                              \
        snprintf(why, whylen, "hip: %s lacks %s", found, sym);                                     \
        return -1;                                                                                 \
    }
    HIP_SYMBOLS(X)
#undef X
    return 0;
}

/* The benchmark's symbols, on a runtime already open; 0, or -1 with why. */
static int hip_resolve_bench(struct gpu_rt *rt, char *why, size_t whylen)
{
#define X(field, sym, ret, params)                                                                 \
    *(void **)&rt->field = dlsym(rt->lib, sym);                                                    \
    if (!rt->field) {                                                                              \
        snprintf(why, whylen, "hip: runtime lacks %s", sym);                                       \
        return -1;                                                                                 \
    }
    HIP_BENCH_SYMBOLS(X)
#undef X
    return 0;
}

static int hip_start(struct gpu_rt *rt, int ordinal, char *why, size_t whylen)
{
    int rc = rt->Init(0), count = 0;
    hipDevice_t dev;
    /* without an AMD GPU, hipInit answers hipErrorInvalidDevice */
    if (rc == HIP_ERROR_INVALID_DEVICE || rc == HIP_ERROR_NO_DEVICE) {
        snprintf(why, whylen, "hip: no device (hipInit: %s)", hip_error_name(rt, rc));
        return -1;
    }
    if (rc != 0) {
        snprintf(why, whylen, "hip: hipInit: %s", hip_error_name(rt, rc));
        return -1;
    }
    if ((rc = rt->GetDeviceCount(&count)) != 0 || count == 0) {
        snprintf(why, whylen, "hip: no device%s%s", rc ? ": " : "",
                 rc ? hip_error_name(rt, rc) : "");
        return -1;
    }
    if (ordinal < 0 || ordinal >= count) {
        snprintf(why, whylen, "hip: no device %d (%d found)", ordinal, count);
        return -1;
    }
    if ((rc = rt->SetDevice(ordinal)) != 0 || (rc = rt->DeviceGet(&dev, ordinal)) != 0) {
        snprintf(why, whylen, "hip: device %d: %s", ordinal, hip_error_name(rt, rc));
        return -1;
    }
    if (rt->DeviceGetName(rt->name, sizeof rt->name, dev) != 0)
        snprintf(rt->name, sizeof rt->name, "HIP device %d", ordinal);
    rt->ordinal = ordinal;
    return 0;
}

static void hip_close(struct gpu_rt *rt)
{
    if (!rt)
        return;
    if (rt->mod)
        rt->ModuleUnload(rt->mod);
    free(rt);
}

static struct gpu_rt *hip_open(int ordinal, char *why, size_t whylen)
{
    struct gpu_rt *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(why, whylen, "hip: out of memory");
        return NULL;
    }
    if (hip_resolve(rt, why, whylen) != 0 || hip_start(rt, ordinal, why, whylen) != 0) {
        hip_close(rt);
        return NULL;
    }
    return rt;
}

static int hip_load(struct gpu_rt *rt, const void *image)
{
    int rc = rt->ModuleLoadData(&rt->mod, image);
    if (rc != 0)
        rt->mod = NULL;
    return rc;
}

static int hip_function(struct gpu_rt *rt, const char *name, gpu_fn *fn)
{
    hipFunction_t f = NULL;
    int rc = rt->ModuleGetFunction(&f, rt->mod, name);
    *fn = f;
    return rc;
}

static const char *hip_device_name(struct gpu_rt *rt)
{
    return rt->name;
}

static int hip_bind(struct gpu_rt *rt)
{
    return rt->SetDevice(rt->ordinal);
}

static int hip_host_alloc(struct gpu_rt *rt, void **p, size_t bytes)
{
    return rt->HostMalloc(p, bytes, 0);
}

static int hip_host_free(struct gpu_rt *rt, void *p)
{
    return rt->HostFree(p);
}

static int hip_dev_alloc(struct gpu_rt *rt, gpu_dptr *p, size_t bytes)
{
    void *d = NULL;
    int rc = rt->Malloc(&d, bytes);
    *p = (gpu_dptr)(uintptr_t)d;
    return rc;
}

static int hip_dev_free(struct gpu_rt *rt, gpu_dptr p)
{
    return rt->Free(dptr(p));
}

static int hip_stream_new(struct gpu_rt *rt, gpu_stream *s)
{
    return rt->StreamCreateWithFlags(s, HIP_STREAM_NON_BLOCKING);
}

static int hip_stream_free(struct gpu_rt *rt, gpu_stream s)
{
    return rt->StreamDestroy(s);
}

static int hip_stream_sync(struct gpu_rt *rt, gpu_stream s)
{
    return rt->StreamSynchronize(s);
}

static int hip_h2d(struct gpu_rt *rt, gpu_dptr dst, const void *src, size_t n, gpu_stream s)
{
    return rt->MemcpyHtoDAsync(dptr(dst), src, n, s);
}

static int hip_d2h(struct gpu_rt *rt, void *dst, gpu_dptr src, size_t n, gpu_stream s)
{
    return rt->MemcpyDtoHAsync(dst, dptr(src), n, s);
}

static int hip_d2d(struct gpu_rt *rt, gpu_dptr dst, gpu_dptr src, size_t n, gpu_stream s)
{
    return rt->MemcpyDtoDAsync(dptr(dst), dptr(src), n, s);
}

static int hip_launch(struct gpu_rt *rt, gpu_fn fn, gpu_stream s, gpu_dptr src, gpu_dptr dst,
                      uint64_t nblocks, unsigned grid)
{
    void *args[] = {&src, &dst, &nblocks};
    return rt->ModuleLaunchKernel(fn, grid, 1, 1, GPU_CTA_THREADS, 1, 1, 0, s, args, NULL);
}

static int hip_event_new(struct gpu_rt *rt, gpu_event *e)
{
    return rt->EventCreate(e);
}

static int hip_event_free(struct gpu_rt *rt, gpu_event e)
{
    return rt->EventDestroy(e);
}

static int hip_event_record(struct gpu_rt *rt, gpu_event e, gpu_stream s)
{
    return rt->EventRecord(e, s);
}

static int hip_event_ms(struct gpu_rt *rt, float *ms, gpu_event start, gpu_event stop)
{
    int rc = rt->EventSynchronize(stop);
    return rc ? rc : rt->EventElapsedTime(ms, start, stop);
}

static const struct gpu_bench_ops hip_bench = {
    .resolve = hip_resolve_bench,
    .d2d = hip_d2d,
    .event_new = hip_event_new,
    .event_free = hip_event_free,
    .event_record = hip_event_record,
    .event_ms = hip_event_ms,
};

const struct gpu_ops gpu_ops_hip = {
    .name = "hip",
    .id = GPU_BACKEND_HIP,
    .objkind = "hsaco",
    .embedded = hip_embedded,
    .open = hip_open,
    .close = hip_close,
    .load = hip_load,
    .function = hip_function,
    .device_name = hip_device_name,
    .error_name = hip_error_name,
    .sticky = gpu_code_is_sticky,
    .bind = hip_bind,
    .host_alloc = hip_host_alloc,
    .host_free = hip_host_free,
    .dev_alloc = hip_dev_alloc,
    .dev_free = hip_dev_free,
    .stream_new = hip_stream_new,
    .stream_free = hip_stream_free,
    .stream_sync = hip_stream_sync,
    .h2d = hip_h2d,
    .d2h = hip_d2h,
    .launch = hip_launch,
    .bench = &hip_bench,
};
