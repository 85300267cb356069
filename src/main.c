/* main.c - gguffs: command line, model check, mount, daemon, signals.
 *
 * The model is opened and validated before anything is mounted, so a bad
 * file is refused with its reason and exit status 1. Unless -f is given the
 * program forks: the child mounts, detaches and serves; the parent waits on
 * a pipe until the child's init() says the kernel has connected, checks
 * that the mount answers, and only then exits 0. A caller that runs
 * `gguffs model.gguf /mnt && ls /mnt` therefore never sees an empty
 * directory. libfuse's messages written by the child before it is ready
 * travel up the same pipe, so a mount that fails after detaching still
 * says why on the caller's terminal.
 *
 * The GPU runtime is not touched here: gpu_new() only records options, and
 * the runtime is opened on the first Q4_0 read, in the child, because a GPU
 * context does not survive fork().
 */
#define _GNU_SOURCE /* pipe2 */
#include "fs/fs.h"

#include "decode/dequant.h"
#include "format/gguf.h"
#include "gpu/gpu.h"
#include "read/read.h"
#include "read/window_cache.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#define DEFAULT_CACHE_SIZE "256M"
#define MIN_CACHE_BYTES (1024u * 1024u)

struct options {
    const char *model;
    unsigned nonopts;
    char *backend;
    int device;
    char *cache_size;
    char *readahead;
    char *gpu_window, *gpu_ahead;
    unsigned threads;
    unsigned max_read;
    bool allow_other, default_permissions, nodefault_permissions;
};

enum {
    KEY_MAX_READ,
    KEY_ALLOW_OTHER,
    KEY_DEFAULT_PERMISSIONS,
    KEY_NODEFAULT_PERMISSIONS,
};

static const struct fuse_opt option_spec[] = {
    {"backend=%s", offsetof(struct options, backend), 1},
    {"device=%d", offsetof(struct options, device), 1},
    {"cache_size=%s", offsetof(struct options, cache_size), 1},
    {"threads=%u", offsetof(struct options, threads), 1},
    {"readahead=%s", offsetof(struct options, readahead), 1},
    {"gpu_window=%s", offsetof(struct options, gpu_window), 1},
    {"gpu_ahead=%s", offsetof(struct options, gpu_ahead), 1},
    FUSE_OPT_KEY("max_read=", KEY_MAX_READ),
    FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
    FUSE_OPT_KEY("nodefault_permissions", KEY_NODEFAULT_PERMISSIONS),
    FUSE_OPT_END,
};

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options] MODEL MOUNTPOINT\n"
            "\n"
            "Mount the GGUF file MODEL read-only at MOUNTPOINT: one file per tensor,\n"
            "holding the tensor dequantized to little-endian FP32.\n"
            "\n"
            "gguffs options:\n"
            "    -o backend=auto|cpu|hip|cuda  Q4_0 decoder (default auto: HIP, CUDA, else CPU)\n"
            "    -o device=N            GPU ordinal (default 0)\n"
            "    -o cache_size=SIZE     memory for decoded GPU windows, the GPU runtime's\n"
            "                           own included; K/M/G suffixes, at least 1M\n"
            "                           (default " DEFAULT_CACHE_SIZE ")\n"
            "    -o threads=N           CPU decode threads (default: one per CPU)\n"
            "    -o gpu_window=SIZE     GPU window, 128K to 1G (default 8M, at most a\n"
            "                           quarter of cache_size)\n"
            "    -o gpu_ahead=N         GPU windows decoded ahead of a sequential\n"
            "                           reader, 0 to 1024 (default 3)\n"
            "    -o readahead=SIZE      kernel read-ahead for the mount (default: the\n"
            "                           kernel's, usually 128K; needs root)\n"
            "    -o nodefault_permissions  with allow_other, do not add default_permissions\n"
            "\n",
            prog);
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct options *o = data;
    (void)outargs;

    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        if (o->nonopts++ == 0) {
            o->model = arg;
            return 0;
        }
        return 1; /* the mount point, for fuse_parse_cmdline() */
    case KEY_MAX_READ: {
        char *end;
        unsigned long v = strtoul(arg + strlen("max_read="), &end, 10);
        if (*end != '\0' || v > UINT_MAX) {
            fprintf(stderr, "gguffs: bad option -o %s\n", arg);
            return -1;
        }
        o->max_read = (unsigned)v;
        return 1; /* the session and the kernel need it too */
    }
    case KEY_ALLOW_OTHER:
        o->allow_other = true;
        return 1;
    case KEY_DEFAULT_PERMISSIONS:
        o->default_permissions = true;
        return 1;
    case KEY_NODEFAULT_PERMISSIONS:
        o->nodefault_permissions = true;
        return 0;
    default:
        return 1;
    }
}

/* "256M", "1G", "4096", "512KiB" -> bytes. Returns 0 or -1. */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;

    if (end == s || errno != 0 || *s == '-')
        return -1;
    const char *units = "KMGT", *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    if (u != NULL) {
        shift = 10 * (unsigned)(u - units + 1);
        end++;
    }
    if (shift != 0 && (strcasecmp(end, "iB") == 0 || strcasecmp(end, "B") == 0))
        end += strlen(end);
    if (*end != '\0' || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

/* -o gpu_window= and -o gpu_ahead= into the read options, range-checked;
 * the environment's GPU code objects and SIMD cap to the layers below
 * (main.c is the only reader of the environment). 0, or -1 (said why). */
static int tuning(const struct options *o, struct read_options *ro, struct gpu_options *go)
{
    if (o->gpu_window != NULL &&
        (parse_size(o->gpu_window, &ro->window_bytes) != 0 || ro->window_bytes < WINDOW_MIN_BYTES ||
         ro->window_bytes > WINDOW_MAX_BYTES)) {
        fprintf(stderr, "gguffs: bad gpu_window '%s' (a size from 128K to 1G, e.g. 8M)\n",
                o->gpu_window);
        return -1;
    }
    if (o->gpu_ahead != NULL) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(o->gpu_ahead, &end, 10);
        if (end == o->gpu_ahead || *end != '\0' || errno != 0 || *o->gpu_ahead == '-' || v > 1024) {
            fprintf(stderr, "gguffs: bad gpu_ahead '%s' (a number from 0 to 1024)\n", o->gpu_ahead);
            return -1;
        }
        ro->ahead = (unsigned)v;
    }
    go->fatbin = getenv("Q4_0_DEQUANT_FATBIN");
    go->hsaco = getenv("Q4_0_DEQUANT_HSACO");
    dequant_set_simd_cap(getenv("GGUFFS_SIMD")); /* an unknown level: no cap */
    return 0;
}

/* ----------------------------------------------------------------------
 * Reporting readiness to the waiting parent
 * ---------------------------------------------------------------------- */

/* The write end of the pipe to the parent, until init() has run; messages
 * logged by libfuse meanwhile go through it. Owned by this file. */
static struct {
    pthread_mutex_t lock;
    int fd;
    bool detached;
} report = {PTHREAD_MUTEX_INITIALIZER, -1, false};

static void log_func(enum fuse_log_level level, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);

    pthread_mutex_lock(&report.lock);
    if (!report.detached) {
        fputs(msg, stderr);
    } else {
        if (report.fd >= 0 && write(report.fd, msg, strlen(msg)) < 0) {
            close(report.fd); /* the parent is gone: nobody to tell */
            report.fd = -1;
        }
        syslog((int)level, "%s", msg);
    }
    pthread_mutex_unlock(&report.lock);
}

static void report_ready(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&report.lock);
    if (report.fd >= 0) {
        char nul = '\0';
        if (write(report.fd, &nul, 1) != 1)
            syslog(LOG_WARNING, "gguffs: parent gone before the mount was ready");
        close(report.fd);
        report.fd = -1;
    }
    pthread_mutex_unlock(&report.lock);
}

/* Close the pipe without the ready byte: the parent reads EOF, a failure. */
static void report_close(void)
{
    pthread_mutex_lock(&report.lock);
    if (report.fd >= 0)
        close(report.fd);
    report.fd = -1;
    pthread_mutex_unlock(&report.lock);
}

struct readahead {
    const char *mnt;
    size_t bytes;
};

/* Set the mount's read-ahead, then report ready. The kernel sets the
 * read-ahead from the INIT reply, which is sent only after init() returns,
 * so this runs on its own thread: its stat() waits for that reply. */
static void *readahead_main(void *arg)
{
    struct readahead *ra = arg;
    struct stat st;
    char path[128], val[32];

    if (stat(ra->mnt, &st) != 0)
        return NULL; /* the kernel refused the mount: no report, EOF says so */
    snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    int n = snprintf(val, sizeof(val), "%zu", ra->bytes / 1024);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, val, (size_t)n) != n)
        fuse_log(FUSE_LOG_WARNING, "gguffs: cannot set readahead (%s): %s\n", path,
                 strerror(errno));
    if (fd >= 0)
        close(fd);
    report_ready(NULL);
    return NULL;
}

/* init() has run: report ready now, or once the read-ahead is set. */
static void on_init(void *arg)
{
    struct readahead *ra = arg;
    pthread_t th;

    if (ra->bytes == 0 || pthread_create(&th, NULL, readahead_main, ra) != 0) {
        report_ready(NULL);
        return;
    }
    pthread_detach(th);
}

/* Leave the caller's session and terminal: stdio to /dev/null, cwd /. */
static int detach(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0 || setsid() < 0 || chdir("/") != 0)
        return -1;
    pthread_mutex_lock(&report.lock);
    fflush(stdout);
    fflush(stderr);
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
    report.detached = true;
    pthread_mutex_unlock(&report.lock);
    return 0;
}

/* The parent: wait for the NUL that says ready (messages before it are
 * the child's), or EOF for failure. Returns the exit status. */
static int parent_wait(int fd, pid_t child, const char *mnt)
{
    char buf[4096];
    bool ready = false;
    ssize_t n;

    while (!ready && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        char *nul = memchr(buf, '\0', (size_t)n);
        if (nul != NULL) {
            n = nul - buf;
            ready = true;
        }
        fwrite(buf, 1, (size_t)n, stderr);
    }
    close(fd);
    if (!ready) {
        int st;
        if (waitpid(child, &st, 0) == child && WIFSIGNALED(st))
            fprintf(stderr, "gguffs: %s: mount process killed by signal %d\n", mnt, WTERMSIG(st));
        else
            fprintf(stderr, "gguffs: %s: mount failed\n", mnt);
        return 1;
    }
    /* init() runs before libfuse answers the kernel; a stat waits for that
     * answer and fails if the kernel refused it. */
    struct stat st;
    if (stat(mnt, &st) != 0) {
        fprintf(stderr, "gguffs: %s: mount failed after start: %s\n", mnt, strerror(errno));
        return 1;
    }
    return 0;
}

/* ----------------------------------------------------------------------
 * Serving
 * ---------------------------------------------------------------------- */

struct run {
    struct fuse_args *args;
    struct fuse_cmdline_opts *cmd;
    struct options *opt;
    struct fuse_conn_info_opts *conn_opts;
    struct gguf_model *m;
    struct gpu_options gpu_opt;
    struct read_options read_opt;
    struct readahead ra;
};

static int loop(struct fuse_session *se, struct fuse_cmdline_opts *cmd)
{
    if (cmd->singlethread)
        return fuse_session_loop(se);
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg == NULL)
        return -ENOMEM;
    fuse_loop_cfg_set_clone_fd(cfg, (unsigned)cmd->clone_fd);
    if (cmd->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
        fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads);
    fuse_loop_cfg_set_max_threads(cfg, cmd->max_threads);
    int rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc;
}

/* Build the read path, mount, serve until unmounted or signalled. In the
 * daemon, `ready` is the pipe to the parent. Returns the exit status. */
static int serve_mount(struct run *r, int ready)
{
    int status = 1;
    char err[256];
    struct gpu *g = NULL;
    struct reader *rd = NULL;
    struct fs *fs = NULL;
    struct fuse_session *se = NULL;

    report.fd = ready;
    if ((g = gpu_new(&r->gpu_opt)) == NULL || (rd = read_new(r->m, g, &r->read_opt)) == NULL) {
        fprintf(stderr, "gguffs: out of memory\n");
        goto out;
    }
    struct fs_options fo = {.max_read = r->opt->max_read,
                            .conn_opts = r->conn_opts,
                            .ready = on_init,
                            .ready_arg = &r->ra};
    if ((fs = fs_new(r->m, rd, &fo, err, sizeof(err))) == NULL) {
        fprintf(stderr, "gguffs: %s: %s\n", r->opt->model, err);
        goto out;
    }
    se = fuse_session_new(r->args, &fs_ops, sizeof(fs_ops), fs);
    if (se == NULL)
        goto out; /* libfuse said why */
    if (fuse_set_signal_handlers(se) != 0)
        goto out_session;
    if (fuse_session_mount(se, r->cmd->mountpoint) != 0)
        goto out_signals;
    if (ready >= 0 && detach() != 0) {
        fprintf(stderr, "gguffs: cannot detach: %s\n", strerror(errno));
        goto out_unmount;
    }
    status = loop(se, r->cmd) < 0 ? 1 : 0;
out_unmount:
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_session:
    fuse_session_destroy(se);
out:
    report_close(); /* if init never ran: EOF tells the parent */
    fs_free(fs);
    read_free(rd);
    gpu_free(g);
    return status;
}

/* Parse our options; fill r. Returns -1 (message printed) on error. */
static int setup(struct run *r, const char *prog)
{
    struct options *o = r->opt;
    size_t cache;

    if (o->backend != NULL && gpu_backend_parse(o->backend, &r->gpu_opt.backend) != 0) {
        fprintf(stderr, "gguffs: unknown backend '%s' (auto, cpu, hip or cuda)\n", o->backend);
        return -1;
    }
    r->gpu_opt.device = o->device;
    if (o->device < 0) {
        fprintf(stderr, "gguffs: bad device %d\n", o->device);
        return -1;
    }
    if (parse_size(o->cache_size ? o->cache_size : DEFAULT_CACHE_SIZE, &cache) != 0 ||
        cache < MIN_CACHE_BYTES) {
        fprintf(stderr, "gguffs: bad cache_size '%s' (a size of at least 1M, e.g. 256M)\n",
                o->cache_size ? o->cache_size : DEFAULT_CACHE_SIZE);
        return -1;
    }
    read_options_init(&r->read_opt);
    r->read_opt.cache_bytes = cache;
    r->read_opt.threads = o->threads;
    if (tuning(o, &r->read_opt, &r->gpu_opt) != 0)
        return -1;
    if (o->readahead != NULL && parse_size(o->readahead, &r->ra.bytes) != 0) {
        fprintf(stderr, "gguffs: bad readahead '%s' (a size, e.g. 1M)\n", o->readahead);
        return -1;
    }
    if (o->model == NULL || r->cmd->mountpoint == NULL || o->nonopts > 2) {
        fprintf(stderr, "gguffs: %s\nTry '%s --help'.\n",
                o->nonopts > 2 ? "too many arguments" : "need MODEL and MOUNTPOINT", prog);
        return -1;
    }
    if (o->allow_other && !o->default_permissions && !o->nodefault_permissions &&
        fuse_opt_add_arg(r->args, "-odefault_permissions") != 0)
        return -1;
    /* A read-only mount (MS_RDONLY) makes the kernel refuse every write
     * path with EROFS before lookup; without it rmdir or mkdir of a name
     * answer ENOENT or EEXIST instead. */
    if (fuse_opt_add_arg(r->args, "-oro") != 0)
        return -1;
    return 0;
}

static int show_info(struct fuse_cmdline_opts *cmd, const char *prog)
{
    if (cmd->show_help) {
        usage(stdout, prog);
        printf("FUSE options:\n");
        fuse_cmdline_help();
        fuse_lowlevel_help();
    } else {
        printf("gguffs version %s\n", GGUFFS_VERSION);
        printf("libfuse version %s\n", fuse_pkgversion());
        fuse_lowlevel_version();
    }
    return 0;
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

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct fuse_cmdline_opts cmd = {0};
    struct options opt = {0};
    struct run r = {.args = &args, .cmd = &cmd, .opt = &opt};
    char err[512], *model_abs = NULL;
    int status = 1;

    if (fuse_opt_parse(&args, &opt, option_spec, opt_proc) != 0 ||
        fuse_parse_cmdline(&args, &cmd) != 0)
        goto out;
    if (cmd.show_help || cmd.show_version) {
        status = show_info(&cmd, argv[0]);
        goto out;
    }
    if (setup(&r, argv[0]) != 0)
        goto out;
    r.ra.mnt = cmd.mountpoint;
    if ((r.conn_opts = fuse_parse_conn_info_opts(&args)) == NULL)
        goto out;
    /* The daemon leaves its cwd: keep a path that still means the file. */
    model_abs = realpath(opt.model, NULL);
    if (gguf_open(model_abs ? model_abs : opt.model, &r.m, err, sizeof(err)) != 0) {
        fprintf(stderr, "gguffs: %s: %s\n", opt.model, err);
        goto out;
    }
    if (check_mountpoint(cmd.mountpoint) != 0)
        goto out;
    fuse_set_log_func(log_func);
    if (cmd.foreground) {
        status = serve_mount(&r, -1);
        goto out;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "gguffs: pipe: %s\n", strerror(errno));
        goto out;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "gguffs: fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        goto out;
    }
    if (pid == 0) {
        close(pfd[0]);
        status = serve_mount(&r, pfd[1]);
    } else {
        close(pfd[1]);
        status = parent_wait(pfd[0], pid, cmd.mountpoint);
    }
out:
    gguf_close(r.m);
    free(r.conn_opts);
    free(opt.backend);
    free(opt.cache_size);
    free(opt.readahead);
    free(opt.gpu_window);
    free(opt.gpu_ahead);
    free(model_abs);
    free(cmd.mountpoint);
    fuse_opt_free_args(&args);
    return status;
}
