/* fuse_parse.h - libfuse's parsers, run before the fork, their messages kept.
 *
 * libfuse prints its complaints itself ("fuse: unknown option(s): `-o x'")
 * and finds some of them only in fuse_session_new(), which gguffs calls in
 * the daemon after the fork. Each call here runs one of libfuse's parsers
 * with its log captured instead of printed, so options.c can turn a refusal
 * into gguffs' own one line before anything is forked. A session is tried
 * on a copy of the arguments and never mounted: no fd is opened.
 *
 * The captured text is owned by this file and valid until the next call;
 * single-threaded use only, before the daemon starts.
 */
#ifndef GGUFFS_FUSE_PARSE_H
#define GGUFFS_FUSE_PARSE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312 /* as fs/fs.h */
#endif
#include <fuse_lowlevel.h>

/* fuse_opt_parse(), fuse_parse_cmdline() and fuse_parse_conn_info_opts(),
 * each returning what libfuse's does. */
int fuse_parse_opts(struct fuse_args *args, void *data, const struct fuse_opt *spec,
                    fuse_opt_proc_t proc);
int fuse_parse_cmd(struct fuse_args *args, struct fuse_cmdline_opts *cmd);
struct fuse_conn_info_opts *fuse_parse_conn(struct fuse_args *args);

/* fuse_session_new() on a copy of args, destroyed at once. 0 when libfuse
 * takes the options, -1 when it refuses them, -2 when out of memory. */
int fuse_parse_session(const struct fuse_args *args);

/* libfuse's first line from the last call, without "fuse: " and the
 * newline; a generic text when it said nothing. */
const char *fuse_parse_message(void);

/* The option the last call called unknown ("frobnicate" from
 * "unknown option(s): `-o frobnicate'"), copied into buf; NULL when it
 * refused something else. */
const char *fuse_parse_unknown(char *buf, size_t len);

#endif
