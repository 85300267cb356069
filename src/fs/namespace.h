/* namespace.h - the tree of a mount: directories, and files as segments.
 *
 * Built once when the model is opened, then immutable: every lookup, listing
 * and read afterwards runs without a lock. Inode numbers are node indexes
 * (NS_ROOT is 1); a node never goes away, so forget() has nothing to do.
 *
 * A fixed file is an ordered list of segments, each either literal bytes
 * (a header, padding, text; the namespace owns a copy) or a byte range of one
 * tensor's image in an output dtype (read through read.h). Its size is the
 * sum of its segments. A dynamic file (.control) has no segments here: its
 * content is produced at open by its source and held by the open file.
 *
 * Expected load: 1,000-100,000 tensors, a few files each. Lookup by (parent,
 * name) is one hash probe sequence; the segment holding an offset is a binary
 * search over cumulative ends; a directory lists its children in insertion
 * order.
 *
 * A made file is a fixed file of one literal segment that is made the first
 * time it is needed (its size or its bytes) and kept until ns_free(): for
 * texts that cost more to make than a mount should wait for and that few
 * readers open (a vocabulary as metadata, tokenizer files). Making is the
 * one thing that happens after building, once per file, under a lock of
 * its own; everything else stays lock-free.
 *
 * Building: ns_add_dir(), ns_add_file() (a file of given segments) or
 * ns_file_begin() / ns_file_literal() / ns_file_tensor() / ns_file_end() for
 * files of many segments, ns_add_made(), ns_add_dynamic(). A builder error is sticky: after
 * the first failure every builder call does nothing, and ns_error() says what
 * failed, so a view adds everything and checks once.
 */
#ifndef GGUFFS_NAMESPACE_H
#define GGUFFS_NAMESPACE_H

#include "format/dtype.h"
#include "fs/text.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_ROOT 1

enum ns_kind {
    NS_DIR,
    NS_FILE,    /* fixed segments */
    NS_DYNAMIC, /* content produced at open */
};

enum ns_seg_kind {
    SEG_LITERAL,
    SEG_TENSOR,
};

struct ns_seg {
    uint64_t end; /* offset in the file just past this segment */
    uint64_t len;
    enum ns_seg_kind kind;
    enum dtype dt;     /* SEG_TENSOR: the image read */
    uint64_t tensor;   /* SEG_TENSOR: tensor index */
    uint64_t off;      /* SEG_TENSOR: byte offset in the tensor's image */
    const char *bytes; /* SEG_LITERAL: owned by the namespace */
};

/* The content of a dynamic file at one open: literal bytes, shared and
 * counted by its source. */
struct ns_blob {
    const char *bytes;
    size_t len;
};

/* Where a dynamic file's content comes from. get() returns a held blob (NULL
 * when out of memory); hold() takes one more reference, put() drops one.
 * size() is what stat reports: the size the next get() returns unless
 * something changes in between. Called from any thread. */
struct ns_source {
    const struct ns_blob *(*get)(void *arg);
    void (*hold)(void *arg, const struct ns_blob *b);
    void (*put)(void *arg, const struct ns_blob *b);
    uint64_t (*size)(void *arg);
    void *arg;
};

struct ns;

struct ns *ns_new(void); /* the root alone; NULL when out of memory */
void ns_free(struct ns *ns);

/* The first builder error, or NULL. */
const char *ns_error(const struct ns *ns);

/* Each returns the new node's inode, or 0 (error recorded) when out of
 * memory, the parent is not a directory or the name is taken. `tag` is the
 * tensor a file stands for (its xattrs), or -1. */
uint64_t ns_add_dir(struct ns *ns, uint64_t parent, const char *name);
uint64_t ns_add_dynamic(struct ns *ns, uint64_t parent, const char *name,
                        const struct ns_source *src);

/* A file made of `n` segments given by kind, len and (tensor, dt, off) or
 * bytes; the end fields are ignored and computed. Literal bytes are copied. */
uint64_t ns_add_file(struct ns *ns, uint64_t parent, const char *name, int64_t tag,
                     const struct ns_seg *segs, size_t n);

/* How a made file's bytes are made: make() appends them to tx and returns
 * 0, or -1 (out of memory). It runs at most once per file, on whichever
 * thread first needs it, so it may only read what outlives the namespace
 * (arg: the model). */
struct ns_maker {
    int (*make)(const void *arg, uint64_t key, struct text *tx);
    const void *arg;
    uint64_t key;
};

uint64_t ns_add_made(struct ns *ns, uint64_t parent, const char *name, const struct ns_maker *mk);

/* Room for `nodes` more nodes and `segs` more segments (a hint: the
 * tables grow anyway). 0, or -1 when out of memory. */
int ns_reserve(struct ns *ns, uint64_t nodes, uint64_t segs);

/* The same, one segment at a time; ns_file_end() returns the inode. Only one
 * file is under construction at a time. */
void ns_file_begin(struct ns *ns, uint64_t parent, const char *name, int64_t tag);
void ns_file_literal(struct ns *ns, const void *bytes, size_t len);
/* A literal segment of a malloc'd block the namespace takes over (and
 * frees, at once on error): for large texts, which a copy would double. */
void ns_file_literal_own(struct ns *ns, void *bytes, size_t len);
void ns_file_tensor(struct ns *ns, uint64_t tensor, enum dtype dt, uint64_t off, uint64_t len);
uint64_t ns_file_end(struct ns *ns);

/* ------------------------------------------------------------------ queries */

bool ns_valid(const struct ns *ns, uint64_t ino);
enum ns_kind ns_kind(const struct ns *ns, uint64_t ino);
uint64_t ns_parent(const struct ns *ns, uint64_t ino);
const char *ns_name(const struct ns *ns, uint64_t ino);
int64_t ns_tag(const struct ns *ns, uint64_t ino);
uint64_t ns_count(const struct ns *ns); /* nodes, root included */

/* Size of a fixed file (0 for others). Saturated at INT64_MAX. A made file
 * is made here if it was not yet (0 when that failed). */
uint64_t ns_size(const struct ns *ns, uint64_t ino);

/* Makes a made file's bytes if they are not yet: 0, or -ENOMEM when they
 * could not be made (then its size is 0 and it has no segments). 0 for any
 * other node. */
int ns_ready(const struct ns *ns, uint64_t ino);

/* The dynamic file's source, or NULL. */
const struct ns_source *ns_source(const struct ns *ns, uint64_t ino);

/* Child `name` of directory `parent`, or 0. */
uint64_t ns_lookup(const struct ns *ns, uint64_t parent, const char *name);

/* Child k (0-based, insertion order) of a directory, or 0 past the end. */
uint64_t ns_child(const struct ns *ns, uint64_t dir, uint64_t k);
uint64_t ns_nchildren(const struct ns *ns, uint64_t dir);

/* Segments of a fixed file (a made file is made first): *segs and their count. The index of the
 * segment holding byte `off` (the count when off is at or past the end). */
size_t ns_segments(const struct ns *ns, uint64_t ino, const struct ns_seg **segs);
size_t ns_seg_find(const struct ns_seg *segs, size_t n, uint64_t off);

/* Saturating sum of the sizes of fixed files. */
uint64_t ns_total_bytes(const struct ns *ns);

#endif
