/* daemon.h - fork, the ready pipe, detaching, signals and where logs go.
 *
 * Without -f, gguffs forks: the child mounts, detaches and serves; the
 * parent waits on a pipe until the child's init() says the kernel has
 * connected, checks that the mount answers, and only then exits 0. A caller
 * that runs `gguffs model.gguf /mnt && ls /mnt` therefore never sees an
 * empty directory. Messages the child logs before it is ready travel up
 * the same pipe, so a mount that fails after the fork still says why on the
 * caller's terminal.
 *
 * Log lines (fuse_log(), so libfuse's own and src/common/log.h's) go to
 * stderr until the daemon detaches, then to the pipe while the parent
 * waits, and to syslog (facility daemon, ident "gguffs"). With -f they go
 * to stderr for the life of the mount.
 *
 * The state here (the pipe, detached or not) is owned by this file; it is
 * set before the session starts and read under a lock afterwards.
 */
#ifndef GGUFFS_DAEMON_H
#define GGUFFS_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/* SIGINT, SIGHUP and SIGTERM back to their default disposition and
 * unblocked, so that libfuse installs its unmounting handlers even when
 * gguffs was started with them ignored (nohup, `&` in a script) or blocked;
 * libfuse leaves a signal alone unless its handler is SIG_DFL. SIGPIPE is
 * ignored: a write to a closed pipe or to /dev/fuse after an abort must be
 * an error to handle, never the end of the daemon. Call first in main(). */
int daemon_signals_init(void);

/* Route fuse_log() through the stderr / pipe / syslog logic above. */
void daemon_log_init(void);

/* Fork. In the child returns 0: it is to mount and serve. In the parent
 * waits for the child's verdict and returns 1 with the exit status in
 * *status (0 mounted, 1 failed, messages already printed). -1 with a
 * message printed when the fork itself failed. */
int daemon_fork(const char *mountpoint, int *status);

/* What to do once init() has run (fs_options.ready): set the mount's
 * read-ahead (in its own thread: the kernel applies it from the INIT reply
 * sent after init() returns), release the waiting parent, then log the
 * ready line (after release, so a caller's terminal stays quiet on
 * success). `arg` is a struct daemon_ready that must outlive the mount. */
struct daemon_ready {
    const char *mountpoint;
    size_t readahead_bytes; /* 0: leave the kernel's */
    char line[768];         /* logged as an event: "mounted ..." */
};
void daemon_on_init(void *arg);

/* Leave the caller's session and terminal: stdio to /dev/null, cwd /,
 * syslog from now on. 0, or -1 with errno. */
int daemon_detach(void);

/* The mount is over or never came up: close the pipe without the ready
 * byte, so a parent still waiting reads EOF, a failure. */
void daemon_report_close(void);

#endif
