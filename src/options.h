/* options.h - the command line: gguffs' own options, checked before the fork.
 *
 * Every gguffs option is one row of a table in options.c: its name, whether
 * it takes a value, the function that checks and stores the value, and its
 * line in --help. Adding an option is adding a row (and a field below).
 *
 * options_parse() does all the checking that can be done without the model:
 * each value is parsed whole with its range (no wrap-around, no silent zero),
 * unknown options and extra arguments are refused, and libfuse's own options
 * are tried on a throw-away session, so that a usage error never reaches the
 * daemon after the fork. A usage error prints one line,
 *   "gguffs: -o threads=-1: ... (an integer from 1 to 1024)",
 * and main() exits with status 2 (OPTIONS_USAGE).
 *
 * What libfuse must see too (allow_other, default_permissions, max_read,
 * fsname, subtype, ro and the rest of its mount options) stays in `args`.
 */
#ifndef GGUFFS_OPTIONS_H
#define GGUFFS_OPTIONS_H

#include "common/log.h"
#include "format/dtype.h"
#include "gpu/gpu.h"

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312 /* as fs/fs.h */
#endif
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses, documented in --help, gguffs(1) and docs/usage.md. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,  /* the model, the mount point, the mount itself */
    EXIT_USAGE = 2, /* the command line */
};

struct options {
    const char *model; /* MODEL as given (argv memory) */
    char *mountpoint;  /* from fuse_parse_cmdline() */
    bool foreground, singlethread, clone_fd;
    unsigned max_idle_threads, max_threads; /* libfuse's; UINT_MAX: not given */

    enum gpu_backend backend;
    int device;
    size_t cache_bytes;
    size_t readahead_bytes;  /* 0: leave the kernel's */
    size_t push_ahead_bytes; /* 0: no pushing ahead */
    unsigned push_threads;   /* 0: push.c's default */
    unsigned threads;        /* 0: one per CPU */
    size_t gpu_window_bytes; /* 0: the read path's default */
    int gpu_ahead;           /* -1: the read path's default */
    unsigned max_read;       /* 0: not given */
    enum dtype dtype;
    enum log_verbosity verbosity;
    bool allow_other, default_permissions, nodefault_permissions;
    bool fsname_given, subtype_given;

    /* Internal to options.c. */
    unsigned n_positional;
    const char *mountpoint_arg, *extra_positional;
    bool bad;
};

enum options_result {
    OPTIONS_RUN,   /* mount */
    OPTIONS_DONE,  /* --help or --version was printed: exit 0 */
    OPTIONS_USAGE, /* the message is printed: exit 2 */
    OPTIONS_FAIL,  /* out of memory (printed): exit 1 */
};

/* Parse and check the command line in `args` (from FUSE_ARGS_INIT) into
 * *o, and leave in `args` what libfuse's session needs, with "ro",
 * "default_permissions" (for allow_other) and "subtype=gguffs" added unless
 * given. *conn_opts receives libfuse's connection options (free() it).
 * libfuse's session and mount options are checked on a throw-away session
 * (no fd opened, nothing mounted). --help and --version print to stdout. */
enum options_result options_parse(struct fuse_args *args, struct options *o,
                                  struct fuse_conn_info_opts **conn_opts);

/* Add "-ofsname=PATH" (commas and backslashes escaped, as libfuse reads
 * them) unless the user gave an fsname: findmnt, df and mount then show
 * which model is mounted. 0, or -1 when out of memory. */
int options_add_fsname(struct fuse_args *args, const struct options *o, const char *path);

void options_free(struct options *o);

#endif
