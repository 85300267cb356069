/* workers.h - a small fixed pool of threads for data-parallel loops.
 *
 * Used to decode large reads on several cores. workers_run() splits
 * [0, n) into contiguous chunks of at least `grain` items, runs fn on them on
 * the pool and on the calling thread, and returns when all are done. Several
 * threads may call workers_run() on one pool at once; their jobs queue.
 */
#ifndef GGUFFS_WORKERS_H
#define GGUFFS_WORKERS_H

#include <stddef.h>

struct workers;

typedef void (*workers_fn)(void *ctx, size_t begin, size_t end);

/* A pool of `n` threads (0: one per online CPU, less one). NULL on failure. */
struct workers *workers_new(unsigned n);
unsigned workers_count(const struct workers *w);
void workers_run(struct workers *w, size_t n, size_t grain, workers_fn fn, void *ctx);
void workers_free(struct workers *w);

#endif
