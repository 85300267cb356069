/* fs_internal.h - what the parts of fs/fs.c share: the session's state,
 * the setup (fs_setup.c) and the read-only refusals (fs_readonly.c). Not
 * for use outside src/fs/.
 */
#ifndef GGUFFS_FS_INTERNAL_H
#define GGUFFS_FS_INTERNAL_H

#include "fs/fs.h"
#include "fs/namespace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Nothing in the mount changes while it is mounted but the control file,
 * whose attributes are never cached and whose reads are direct. */
#define TIMEOUT_FIXED 86400.0
/* Control-file snapshots alive at once (see snapshot.h). */
#define SNAPSHOT_CAP 8

struct fs {
    const struct gguf_model *m;
    struct reader *r; /* the read path: the caller's, outlives the fs */
    struct ns *ns;
    struct snapshots *snaps;
    struct push *push; /* NULL: no pushing ahead (push.h) */
    struct fs_options opt;
    pthread_key_t buf_key;      /* per-thread read buffer */
    atomic_uint_fast64_t reads; /* tensor reads served: the control's state */
    uint64_t model_bytes;       /* tensor files' total size, saturated (statfs) */
};

struct fs_buf {
    void *p;
    size_t cap;
};

/* Free a per-thread read buffer (the thread key's destructor). */
void fs_buf_free(void *p);

/* The read-only refusals: each answers EROFS. */
void fs_ro_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                   struct fuse_file_info *fi);
void fs_ro_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_ro_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_ro_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_ro_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_ro_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                  const char *newname, unsigned int flags);
void fs_ro_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void fs_ro_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                 struct fuse_file_info *fi);
void fs_ro_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                    size_t size, int flags);
void fs_ro_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void fs_ro_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                  struct fuse_file_info *fi);
void fs_ro_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                     struct fuse_file_info *fi);

#endif
