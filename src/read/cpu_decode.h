/* cpu_decode.h - the CPU path: a byte range of a tensor's FP32 image,
 * decoded from the model file on the calling thread and a pool of workers.
 *
 * The raw blocks covering the range are preaded into a thread-local buffer
 * and decoded straight into the caller's buffer when it is aligned and the
 * range holds whole elements, else through a thread-local one. Reads of
 * 1 MiB of output and more are split across the workers. Thread-safe.
 */
#ifndef GGUFFS_CPU_DECODE_H
#define GGUFFS_CPU_DECODE_H

#include <stdint.h>

struct gguf_model;
struct model_file;
struct read_req;
struct facts;

struct cpu_decode;

/* threads: decode threads including the caller; 0 = one per CPU. NULL when
 * out of memory. m and mf must outlive it. */
struct cpu_decode *cpu_decode_new(const struct gguf_model *m, struct model_file *mf,
                                  unsigned threads);
void cpu_decode_free(struct cpu_decode *cd);

/* Serve rq's FP32 range into rq->buf (never by reference). Returns 0, or -1
 * with rq->res set to READ_ERROR. Sets READ_PATH_CPU in rq->paths; the
 * caller turns it into a fallback when it is one. */
int cpu_decode_read(struct cpu_decode *cd, struct read_req *rq);

/* "decode threads" and "simd" (the vector level per quantized type). */
void cpu_decode_describe(struct cpu_decode *cd, struct facts *f);

#endif
