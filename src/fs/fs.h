/* fs.h - the FUSE low-level operations of a gguffs mount.
 *
 * The tree is built once by the views (views.h) into a namespace
 * (namespace.h); inode numbers are its node numbers. Everything is
 * read-only: every operation that would change something answers EROFS.
 * Fixed files keep the kernel's page cache (they never change while
 * mounted) and stay mmap-able; the control file is direct_io, its content
 * a snapshot shared between opens while current (snapshot.h).
 *
 * The struct fs is the session's userdata: pass it to fuse_session_new()
 * with fs_ops. It must outlive the session.
 */
#ifndef GGUFFS_FS_H
#define GGUFFS_FS_H

#include "format/dtype.h"

#include <stddef.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

struct gguf_model;
struct reader;

struct fs_options {
    unsigned max_read; /* -o max_read=N given to the session, or 0 */
    enum dtype dtype;  /* output dtype of tensor files and views (-o dtype=) */
    /* libfuse's connection options (-o max_readahead=, -o splice_read, ...)
     * from fuse_parse_conn_info_opts(), applied last; may be NULL. */
    struct fuse_conn_info_opts *conn_opts;
    /* Called once from init(), when the kernel has sent INIT: the mount is
     * about to be usable. May be NULL. */
    void (*ready)(void *arg);
    void *ready_arg;
    size_t push_ahead;     /* bytes decoded ahead of a sequential reader into
                            * the page cache (push.h); 0: none */
    unsigned push_threads; /* threads doing it; 0: the default */
};

struct fs;

/* Build the tree. NULL with a message in err when out of memory or a
 * tensor name cannot be mapped to a file name. */
struct fs *fs_new(const struct gguf_model *m, struct reader *r, const struct fs_options *opt,
                  char *err, size_t errlen);
void fs_free(struct fs *fs);

/* Start what needs the session (pushing ahead: push.h) once se exists, and
 * stop it when the session loop has returned, before se is unmounted (it
 * may answer a few more requests on se's fd meanwhile). fs_attach()
 * returns -1 only when out of memory; a mount without its threads still
 * answers every read. fs_detach() may be called again: a no-op. */
int fs_attach(struct fs *fs, struct fuse_session *se);
void fs_detach(struct fs *fs, struct fuse_session *se);

/* The operations table. */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
