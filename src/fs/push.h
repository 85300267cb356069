/* push.h - decoding ahead of a sequential reader, into the kernel's page
 * cache.
 *
 * The kernel asks a FUSE server for at most one request's worth of a file
 * (128 KiB by default) at a time and waits for each answer: that round trip,
 * not decoding, bounds a cold read. When a file is read sequentially, the
 * bytes after the reader's request are pushed into the page cache of its
 * inode with fuse_lowlevel_notify_store() by a small pool of threads, in
 * chunks of PUSH_CHUNK, so that the reader's next reads (read(), mmap
 * faults) find them there and never cross into the daemon. How far ahead
 * grows from PUSH_FIRST, doubling with each sequential request, up to the
 * `ahead` given: a `head` of a file costs little, a `cat` soon runs far
 * ahead. A request that jumps resets the file's run.
 *
 * The bytes come from the caller's fill function (the same one that answers
 * reads), so a pushed page is bit for bit what a read of it returns. The
 * pages belong to the kernel's page cache, which may reclaim them; the
 * daemon holds only one chunk per thread. Thread-safe.
 */
#ifndef GGUFFS_PUSH_H
#define GGUFFS_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fuse_session;
struct facts;

#define PUSH_CHUNK (1u << 20)
#define PUSH_FIRST (4u << 20)

/* Bytes [off, off + len) of file ino into buf, or by reference (*data,
 * kept until release(arg, *hold)): 0 or -errno. */
typedef int (*push_fill_fn)(void *arg, uint64_t ino, char *buf, size_t len, uint64_t off,
                            const void **data, void **hold);
typedef void (*push_release_fn)(void *arg, void *hold);

struct push_options {
    size_t ahead;     /* bytes pushed ahead of a reader at most; 0: no pushing */
    unsigned threads; /* pushing threads, at most 16; 0: a quarter of the
                       * CPUs, 2 to 4 */
    push_fill_fn fill;
    push_release_fn release;
    void *arg;
};

struct push;

/* NULL when out of memory or when opt->ahead is 0 (nothing to do). */
struct push *push_new(const struct push_options *opt);

/* Start pushing through session se (threads start here). 0, or -1 when no
 * thread could start (reads are then answered one by one, as without). */
int push_start(struct push *p, struct fuse_session *se);

/* Tell the threads to stop after their chunk; push_busy() then says
 * whether one is still inside a chunk. A store waits for a page a pending
 * read request has locked: while any is busy, the caller must go on
 * answering requests (fs.c drains them) or it may wait forever. */
void push_quit(struct push *p);
bool push_busy(struct push *p);

/* Stop and join the threads; call before the session is destroyed. */
void push_stop(struct push *p);
void push_free(struct push *p); /* stops first; NULL is a no-op */

/* The kernel asked for [off, off + len) of file ino (fsize bytes): push
 * ahead of it if the reads of ino look sequential. Never blocks on a push. */
void push_note(struct push *p, uint64_t ino, uint64_t fsize, uint64_t off, size_t len);

/* "push ahead": the setting, threads, bytes pushed and refused. */
void push_describe(struct push *p, struct facts *f);

#endif
