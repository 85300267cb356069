/* fake_libcuda.c - a libcuda.so.1 with every symbol the product resolves and
 * none that only the benchmark uses (cuMemcpyDtoDAsync, the events), whose
 * cuInit says "no device" (100). gguffs must then fall back with "cuda: no
 * device": the benchmark's symbols are not its to need. Every entry point
 * takes any arguments and returns CUDA_ERROR_NO_DEVICE.
 */
#define NO_DEVICE 100
#define ENTRY(name)                                                                                \
    int name(void);                                                                                \
    int name(void)                                                                                 \
    {                                                                                              \
        return NO_DEVICE;                                                                          \
    }

ENTRY(cuInit)
ENTRY(cuDeviceGetCount)
ENTRY(cuDeviceGet)
ENTRY(cuDeviceGetName)
ENTRY(cuDevicePrimaryCtxRetain)
ENTRY(cuDevicePrimaryCtxRelease_v2)
ENTRY(cuCtxSetCurrent)
ENTRY(cuGetErrorName)
ENTRY(cuModuleLoadData)
ENTRY(cuModuleUnload)
ENTRY(cuModuleGetFunction)
ENTRY(cuLaunchKernel)
ENTRY(cuMemAlloc_v2)
ENTRY(cuMemFree_v2)
ENTRY(cuMemHostAlloc)
ENTRY(cuMemFreeHost)
ENTRY(cuStreamCreate)
ENTRY(cuStreamDestroy_v2)
ENTRY(cuStreamSynchronize)
ENTRY(cuMemcpyHtoDAsync_v2)
ENTRY(cuMemcpyDtoHAsync_v2)
