/* main.c - gguffs: check the command line and the model, then mount.
 *
 * Everything that can be refused is refused before the fork, in this order:
 * the command line (options.c, exit status 2), the model (format/gguf.c,
 * status 1) and the mount point (status 1). Only then does daemon.c fork;
 * the child builds the read path, mounts and serves until unmounted or
 * signalled.
 *
 * The GPU runtime is not touched here: gpu_new() only records options, and
 * the runtime is opened on the first read of a type it decodes, in the
 * child, because a GPU context does not survive fork().
 *
 * This is the only file that reads the environment: the documented
 * Q4_0_DEQUANT_FATBIN / Q4_0_DEQUANT_HSACO (a code object to load instead
 * of the embedded one) and GGUFFS_SIMD (a cap on the CPU's vector level)
 * are read here and handed down.
 */
#include "daemon.h"
#include "options.h"

#include "common/log.h"
#include "format/gguf.h"
#include "format/model_split.h"
#include "fs/fs.h"
#include "decode/dequant.h"
#include "gpu/gpu.h"
#include "read/read.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct run {
    struct fuse_args *args;
    struct options *opt;
    struct fuse_conn_info_opts *conn_opts;
    struct gguf_model *m;
    struct daemon_ready ready;
};

static int loop(struct fuse_session *se, const struct options *o)
{
    if (o->singlethread)
        return fuse_session_loop(se);
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg == NULL)
        return -ENOMEM;
    fuse_loop_cfg_set_clone_fd(cfg, o->clone_fd);
    if (o->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
        fuse_loop_cfg_set_idle_threads(cfg, o->max_idle_threads);
    fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
    int rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc;
}

/* Mount and serve through libfuse until unmounted or signalled. */
static int run_session(struct run *r, struct fs *fs, bool daemon)
{
    int status = EXIT_FAIL;
    struct fuse_session *se = fuse_session_new(r->args, &fs_ops, sizeof(fs_ops), fs);

    if (se == NULL)
        return status; /* libfuse said why */
    if (fuse_set_signal_handlers(se) != 0)
        goto out_session;
    if (fs_attach(fs, se) != 0) {
        log_warn("out of memory");
        goto out_signals;
    }
    if (fuse_session_mount(se, r->opt->mountpoint) != 0)
        goto out_signals;
    if (daemon && daemon_detach() != 0) {
        log_warn("cannot detach: %s", strerror(errno));
        goto out_unmount;
    }
    status = loop(se, r->opt) < 0 ? EXIT_FAIL : EXIT_OK;
    fs_detach(fs, se); /* before the unmount: it may answer requests */
    log_event("%s: unmounted from %s", r->m->path, r->opt->mountpoint);
out_unmount:
    fuse_session_unmount(se);
out_signals:
    fs_detach(fs, se);
    fuse_remove_signal_handlers(se);
out_session:
    fuse_session_destroy(se);
    return status;
}

/* Build the read path, then run the session. Returns the exit status. */
static int serve_mount(struct run *r, bool daemon)
{
    int status = EXIT_FAIL;
    char err[256];
    struct gpu_options go = {.backend = r->opt->backend,
                             .device = r->opt->device,
                             .fatbin = getenv("Q4_0_DEQUANT_FATBIN"),
                             .hsaco = getenv("Q4_0_DEQUANT_HSACO")};
    struct read_options ro;
    struct gpu *g = NULL;
    struct reader *rd = NULL;
    struct fs *fs = NULL;

    read_options_init(&ro);
    ro.cache_bytes = r->opt->cache_bytes;
    ro.threads = r->opt->threads;
    if (r->opt->gpu_window_bytes != 0)
        ro.window_bytes = r->opt->gpu_window_bytes;
    if (r->opt->gpu_ahead >= 0)
        ro.ahead = (unsigned)r->opt->gpu_ahead;
    if ((g = gpu_new(&go)) == NULL || (rd = read_new(r->m, g, &ro)) == NULL) {
        log_warn("out of memory");
        goto out;
    }
    struct fs_options fo = {.max_read = r->opt->max_read,
                            .dtype = r->opt->dtype,
                            .conn_opts = r->conn_opts,
                            .ready = daemon_on_init,
                            .ready_arg = &r->ready,
                            .push_ahead = r->opt->push_ahead_bytes,
                            .push_threads = r->opt->push_threads};
    if ((fs = fs_new(r->m, rd, &fo, err, sizeof(err))) == NULL) {
        log_warn("%s: %s", r->opt->model, err);
        goto out;
    }
    status = run_session(r, fs, daemon);
out:
    daemon_report_close(); /* if init never ran: EOF tells the parent */
    fs_free(fs);
    read_free(rd);
    gpu_free(g);
    return status;
}

/* Refuse a mount point that cannot be one, in gguffs' own words and before
 * the fork, rather than through libfuse's message from the daemon. */
static int check_mountpoint(const char *mnt)
{
    struct stat st;
    if (stat(mnt, &st) != 0) {
        fprintf(stderr, "gguffs: %s: mount point: %s\n", mnt, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "gguffs: %s: mount point: not a directory\n", mnt);
        return -1;
    }
    return 0;
}

/* libfuse opens /dev/fuse in the daemon, after the fork; a user who may not
 * is told so here, with what a user mount needs. */
static int check_dev_fuse(void)
{
    if (access("/dev/fuse", R_OK | W_OK) == 0)
        return 0;
    if (errno == ENOENT)
        fprintf(stderr, "gguffs: /dev/fuse: no such device (load the fuse module)\n");
    else
        fprintf(stderr,
                "gguffs: /dev/fuse: %s (a mount by a user other than root needs /dev/fuse "
                "readable and writable by that user, mode 0666)\n",
                strerror(errno));
    return -1;
}

/* GGUFFS_SIMD caps the CPU's vector level (tests and benchmarks); an
 * unknown spelling means no cap, as documented. */
static void simd_cap_from_env(void)
{
    const char *s = getenv("GGUFFS_SIMD");
    enum dequant_level cap;
    if (s != NULL && dequant_level_parse(s, &cap) == 0)
        dequant_set_cap(cap); /* nothing has been decoded yet: cannot fail */
}

/* Open the model and check the mount point; fill r. Exit status. */
static int prepare(struct run *r, char **model_abs)
{
    char err[512];

    /* The daemon leaves its cwd: keep a path that still means the file. */
    *model_abs = realpath(r->opt->model, NULL);
    const char *path = *model_abs ? *model_abs : r->opt->model;
    if (model_split_open(path, &r->m, err, sizeof(err)) != 0) {
        fprintf(stderr, "gguffs: %s: %s\n", r->opt->model, err);
        return EXIT_FAIL;
    }
    if (check_mountpoint(r->opt->mountpoint) != 0 || check_dev_fuse() != 0)
        return EXIT_FAIL;
    if (options_add_fsname(r->args, r->opt, path) != 0) {
        fprintf(stderr, "gguffs: out of memory\n");
        return EXIT_FAIL;
    }
    r->ready.mountpoint = r->opt->mountpoint;
    r->ready.readahead_bytes = r->opt->readahead_bytes;
    snprintf(r->ready.line, sizeof(r->ready.line), "%s: mounted at %s: %llu tensors, backend %s",
             path, r->opt->mountpoint, (unsigned long long)r->m->n_tensors,
             gpu_backend_name(r->opt->backend));
    return EXIT_OK;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct options opt;
    struct run r = {.args = &args, .opt = &opt};
    char *model_abs = NULL;
    int status = EXIT_FAIL;

    if (daemon_signals_init() != 0) {
        fprintf(stderr, "gguffs: cannot set up signals: %s\n", strerror(errno));
        return EXIT_FAIL;
    }
    switch (options_parse(&args, &opt, &r.conn_opts)) {
    case OPTIONS_RUN:
        break;
    case OPTIONS_DONE:
        status = EXIT_OK;
        goto out;
    case OPTIONS_USAGE:
        status = EXIT_USAGE;
        goto out;
    case OPTIONS_FAIL:
        goto out;
    }
    log_set_verbosity(opt.verbosity);
    simd_cap_from_env();
    if ((status = prepare(&r, &model_abs)) != EXIT_OK)
        goto out;
    daemon_log_init();
    if (opt.foreground) {
        status = serve_mount(&r, false);
        goto out;
    }
    status = EXIT_FAIL;
    int forked = daemon_fork(opt.mountpoint, &status);
    if (forked == 0)
        status = serve_mount(&r, true);
out:
    gguf_close(r.m);
    free(r.conn_opts);
    free(model_abs);
    options_free(&opt);
    fuse_opt_free_args(&args);
    return status;
}
