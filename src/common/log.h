/* log.h - one line per event a user wants to know, through libfuse's log.
 *
 * Lines go through fuse_log(), so main.c's log function decides where they
 * land: stderr in the foreground (-f) and before the daemon detaches,
 * syslog afterwards. Each line starts with "gguffs: " and ends in a newline
 * (added here). -o quiet keeps only warnings; -o verbose adds per-open
 * detail. The verbosity is the only state, set once by main.c before the
 * mount starts and read by any thread afterwards.
 */
#ifndef GGUFFS_LOG_H
#define GGUFFS_LOG_H

enum log_verbosity {
    VERBOSITY_QUIET,   /* warnings only */
    VERBOSITY_NORMAL,  /* events: mount ready, GPU start and fallback, unmount */
    VERBOSITY_VERBOSE, /* and per-open detail */
};

void log_set_verbosity(enum log_verbosity v);

/* Something went wrong that the user should know of (a tensor's first EIO,
 * a GPU fallback, the model changed under the mount). Always shown. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A normal event (mount ready, GPU started, unmount). Hidden by quiet. */
void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Detail (each open), shown only with verbose. */
void log_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
