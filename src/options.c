/* options.c - see options.h.
 *
 * libfuse's option parser would take "threads=%u" and turn "-1" into
 * 4294967295 without a word, so every gguffs value goes through a key and
 * is parsed here, whole, with its range. libfuse's own options are left to
 * libfuse, but checked before the fork (fuse_parse.c): an unknown option
 * becomes gguffs' one line with the list of gguffs options, instead of
 * libfuse's message from the daemon followed by "mount failed".
 */
#include "options.h"

#include "fuse_parse.h"
#include "options_help.h"
#include "parse_num.h"

#include "read/window_cache.h"

#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CACHE "256M"
#define DEFAULT_PUSH "64M"

/* ----------------------------------------------------------------------
 * The table
 * ---------------------------------------------------------------------- */

static int set_backend(struct options *o, const char *v)
{
    return gpu_backend_parse(v, &o->backend);
}

/* An integer in [lo, hi] into an unsigned field: 0, or -1. */
static int set_unsigned(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned long long n;
    if (parse_uint(v, lo, hi, &n) != 0)
        return -1;
    *out = (unsigned)n;
    return 0;
}

/* The same into an int field (hi fits an int). */
static int set_int(const char *v, unsigned lo, unsigned hi, int *out)
{
    unsigned n;
    if (set_unsigned(v, lo, hi, &n) != 0)
        return -1;
    *out = (int)n;
    return 0;
}

static int set_device(struct options *o, const char *v)
{
    return set_int(v, 0, 1023, &o->device);
}

static int set_cache_size(struct options *o, const char *v)
{
    return parse_size(v, (size_t)1 << 20, SIZE_MAX, &o->cache_bytes);
}

static int set_readahead(struct options *o, const char *v)
{
    return parse_size(v, (size_t)4 << 10, (size_t)1 << 30, &o->readahead_bytes);
}

static int set_push_ahead(struct options *o, const char *v)
{
    return parse_size(v, 0, (size_t)1 << 30, &o->push_ahead_bytes);
}

static int set_push_threads(struct options *o, const char *v)
{
    return set_unsigned(v, 1, 16, &o->push_threads);
}

static int set_threads(struct options *o, const char *v)
{
    return set_unsigned(v, 1, 1024, &o->threads);
}

static int set_gpu_window(struct options *o, const char *v)
{
    return parse_size(v, WINDOW_MIN_BYTES, WINDOW_MAX_BYTES, &o->gpu_window_bytes);
}

static int set_gpu_ahead(struct options *o, const char *v)
{
    return set_int(v, 0, 1024, &o->gpu_ahead);
}

static int set_max_read(struct options *o, const char *v)
{
    return set_unsigned(v, 4096, 1u << 20, &o->max_read);
}

/* libfuse reads its own numbers with sscanf("%u"), which takes "-1" as
 * 4294967295: the ones it reads are checked here and passed on. */
static int check_u16(struct options *o, const char *v)
{
    unsigned long long n;
    (void)o;
    return parse_uint(v, 1, 65535, &n);
}

static int check_u32(struct options *o, const char *v)
{
    unsigned long long n;
    (void)o;
    return parse_uint(v, 0, UINT_MAX, &n);
}

static int check_threads(struct options *o, const char *v)
{
    unsigned long long n;
    (void)o;
    return parse_uint(v, 1, 65536, &n);
}

static int check_idle_threads(struct options *o, const char *v)
{
    unsigned long long n;
    (void)o;
    return parse_uint(v, 0, 65536, &n);
}

static int set_dtype(struct options *o, const char *v)
{
    return dtype_parse(v, &o->dtype);
}

static int set_nonempty(const char *v, bool *given)
{
    if (*v == '\0')
        return -1;
    *given = true;
    return 0;
}

static int set_fsname(struct options *o, const char *v)
{
    return set_nonempty(v, &o->fsname_given);
}

static int set_subtype(struct options *o, const char *v)
{
    return set_nonempty(v, &o->subtype_given);
}

static int set_quiet(struct options *o, const char *v)
{
    (void)v;
    o->verbosity = VERBOSITY_QUIET;
    return 0;
}

static int set_verbose(struct options *o, const char *v)
{
    (void)v;
    o->verbosity = VERBOSITY_VERBOSE;
    return 0;
}

/* One option. `expect` completes "want ..." in the error line; a row with
 * `arg` NULL is a flag, which either calls `set` or, when `set` is NULL,
 * sets the bool at offset `flag` of struct options. `libfuse`: the option
 * is also libfuse's (it stays in the arguments for the session). `help`
 * NULL: not listed in --help (libfuse's own options, listed by libfuse). */
struct option_row {
    const char *name;
    const char *arg;
    int (*set)(struct options *o, const char *value);
    size_t flag;
    const char *expect;
    bool libfuse;
    const char *help;
};

#define FLAG(field) NULL, offsetof(struct options, field)

static const struct option_row rows[] = {
    {"backend", "auto|cpu|hip|cuda", set_backend, 0, "auto, cpu, hip or cuda", false,
     "GPU decoder (default auto: HIP, else CUDA, else CPU)"},
    {"device", "N", set_device, 0, "a GPU ordinal from 0 to 1023", false,
     "GPU ordinal (default 0)"},
    {"cache_size", "SIZE", set_cache_size, 0, "a size of at least 1M, e.g. 256M", false,
     "memory for decoded windows, the GPU runtime's own included; K/M/G/T suffixes "
     "(default " DEFAULT_CACHE ")"},
    {"threads", "N", set_threads, 0, "an integer from 1 to 1024", false,
     "CPU decode threads (default: one per CPU)"},
    {"readahead", "SIZE", set_readahead, 0, "a size from 4K to 1G, e.g. 1M", false,
     "kernel read-ahead for the mount (default: the kernel's, usually 128K; needs root)"},
    {"push_ahead", "SIZE", set_push_ahead, 0, "a size from 0 to 1G, e.g. 64M", false,
     "decode this far ahead of a sequential reader into the page cache (default " DEFAULT_PUSH
     "; 0: off)"},
    {"push_threads", "N", set_push_threads, 0, "an integer from 1 to 16", false,
     "threads decoding ahead into the page cache (default: a quarter of the CPUs, 2 to 4)"},
    {"gpu_window", "SIZE", set_gpu_window, 0, "a size from 128K to 1G, e.g. 8M", false,
     "size of one decoded window, GPU or CPU (default 8M, at most a quarter of cache_size)"},
    {"gpu_ahead", "N", set_gpu_ahead, 0, "an integer from 0 to 1024", false,
     "windows decoded ahead of a sequential reader (default 3)"},
    {"dtype", "f32|f16|bf16", set_dtype, 0, "f32, f16 or bf16", false,
     "element type of the tensor files and views (default f32); f16 and bf16 as torch's .to() "
     "converts, bf16 .npy as <u2 bits"},
    {"quiet", NULL, set_quiet, 0, NULL, false, "log warnings only"},
    {"verbose", NULL, set_verbose, 0, NULL, false, "log each open too"},
    {"nodefault_permissions", NULL, FLAG(nodefault_permissions), NULL, false,
     "with allow_other, do not add default_permissions"},
    {"max_read", "N", set_max_read, 0, "an integer from 4096 to 1048576", true,
     "largest read request in bytes (libfuse's option, checked here)"},
    {"max_threads", "N", check_threads, 0, "an integer from 1 to 65536", true, NULL},
    {"max_idle_threads", "N", check_idle_threads, 0, "an integer from 0 to 65536", true, NULL},
    {"max_background", "N", check_u16, 0, "an integer from 1 to 65535", true, NULL},
    {"congestion_threshold", "N", check_u16, 0, "an integer from 1 to 65535", true, NULL},
    {"max_readahead", "N", check_u32, 0, "an integer from 0 to 4294967295", true, NULL},
    {"allow_other", NULL, FLAG(allow_other), NULL, true, NULL},
    {"default_permissions", NULL, FLAG(default_permissions), NULL, true, NULL},
    {"fsname", "NAME", set_fsname, 0, "a non-empty name", true, NULL},
    {"subtype", "NAME", set_subtype, 0, "a non-empty name", true, NULL},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* fuse_opt keys: row i as "name=" is KEY_VALUE + i, as a bare "name"
 * KEY_BARE + i. */
enum { KEY_VALUE = 1000, KEY_BARE = 2000 };

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gguffs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (gguffs --help lists the options)\n", stderr);
    va_end(ap);
}

/* The gguffs options as "backend=, device=, ..., nodefault_permissions". */
static void list_names(char *dst, size_t n)
{
    size_t o = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < N_ROWS && o < n; i++) {
        if (rows[i].help == NULL)
            continue;
        o += (size_t)snprintf(dst + o, n - o, "%s%s%s", o ? ", " : "", rows[i].name,
                              rows[i].arg ? "=" : "");
    }
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct options *o = data;
    (void)outargs;

    if (key == FUSE_OPT_KEY_NONOPT) {
        if (o->n_positional++ == 0) {
            o->model = arg;
            return 0;
        }
        if (o->n_positional == 2) {
            o->mountpoint_arg = arg;
            return 1; /* for fuse_parse_cmdline() */
        }
        if (o->extra_positional == NULL)
            o->extra_positional = arg;
        return 0;
    }
    if (key >= KEY_VALUE && key < KEY_VALUE + (int)N_ROWS) {
        const struct option_row *r = &rows[key - KEY_VALUE];
        const char *v = arg + strlen(r->name) + 1;
        if (r->arg == NULL) {
            usage_error("-o %s: %s takes no value", arg, r->name);
            o->bad = true;
        } else if (r->set(o, v) != 0) {
            usage_error("-o %s: bad value '%s', want %s", arg, v, r->expect);
            o->bad = true;
        }
        return r->libfuse ? 1 : 0;
    }
    if (key >= KEY_BARE && key < KEY_BARE + (int)N_ROWS) {
        const struct option_row *r = &rows[key - KEY_BARE];
        if (r->arg != NULL) {
            usage_error("-o %s needs a value: -o %s=%s", arg, r->name, r->arg);
            o->bad = true;
        } else if (r->set != NULL) {
            r->set(o, "");
        } else {
            *(bool *)((char *)o + r->flag) = true;
        }
        return r->libfuse ? 1 : 0;
    }
    return 1; /* libfuse's */
}

/* ----------------------------------------------------------------------
 * --help and --version
 * ---------------------------------------------------------------------- */

static void usage(const char *prog)
{
    help_head(prog);
    for (size_t i = 0; i < N_ROWS; i++) {
        char left[64];
        if (rows[i].help == NULL)
            continue;
        snprintf(left, sizeof(left), "-o %s%s%s", rows[i].name, rows[i].arg ? "=" : "",
                 rows[i].arg ? rows[i].arg : "");
        help_option(left, rows[i].help);
    }
    help_tail();
}

/* An unknown option: gguffs' line with the list, in place of libfuse's. */
static void unknown_option(const char *what)
{
    char names[512];

    list_names(names, sizeof(names));
    fprintf(stderr,
            "gguffs: unknown option '%s'; gguffs options are %s, and libfuse's listed by "
            "gguffs --help\n",
            what, names);
}

/* Try the session and mount options on a session that is never mounted. */
static enum options_result check_session(const struct fuse_args *args)
{
    char what[256];
    int rc = fuse_parse_session(args);

    if (rc == 0)
        return OPTIONS_RUN;
    if (rc == -2) {
        fprintf(stderr, "gguffs: out of memory\n");
        return OPTIONS_FAIL;
    }
    if (fuse_parse_unknown(what, sizeof(what)) != NULL)
        unknown_option(what);
    else
        fprintf(stderr, "gguffs: %s\n", fuse_parse_message());
    return OPTIONS_USAGE;
}

/* ----------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------- */

/* fuse_opt templates from the table: "name=" and "name" for each row. */
static struct fuse_opt *make_spec(void)
{
    struct fuse_opt *spec = calloc(2 * N_ROWS + 1, sizeof(*spec));
    char *names = calloc(N_ROWS, 64);

    if (spec == NULL || names == NULL) {
        free(spec);
        free(names);
        return NULL;
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        snprintf(names + 64 * i, 64, "%s=", rows[i].name);
        spec[2 * i] = (struct fuse_opt)FUSE_OPT_KEY(names + 64 * i, KEY_VALUE + (int)i);
        spec[2 * i + 1] = (struct fuse_opt)FUSE_OPT_KEY(rows[i].name, KEY_BARE + (int)i);
    }
    return spec; /* spec[0].templ is the start of `names` */
}

static void free_spec(struct fuse_opt *spec)
{
    if (spec != NULL)
        free((char *)spec[0].templ);
    free(spec);
}

/* libfuse's command-line options: -f, -s, -d, clone_fd, max_threads... */
static enum options_result parse_cmdline(struct fuse_args *args, struct options *o)
{
    struct fuse_cmdline_opts cmd = {0};

    if (fuse_parse_cmd(args, &cmd) != 0) {
        free(cmd.mountpoint);
        /* libfuse takes the mount point's realpath() while it parses */
        const char *line = fuse_parse_message(), *why = strstr(line, "bad mount point");
        if (why != NULL && o->mountpoint_arg != NULL && (why = strstr(why, "': ")) != NULL) {
            fprintf(stderr, "gguffs: %s: mount point: %s\n", o->mountpoint_arg, why + 3);
            return OPTIONS_FAIL;
        }
        fprintf(stderr, "gguffs: %s\n", line);
        return OPTIONS_USAGE;
    }
    if (cmd.show_help || cmd.show_version) {
        free(cmd.mountpoint);
        if (cmd.show_version) {
            help_version();
        } else {
            usage(args->argv[0]);
            printf("FUSE options:\n");
            fflush(stdout);
            fuse_cmdline_help();
            fuse_lowlevel_help();
        }
        return OPTIONS_DONE;
    }
    o->mountpoint = cmd.mountpoint;
    o->foreground = cmd.foreground;
    o->singlethread = cmd.singlethread;
    o->clone_fd = cmd.clone_fd;
    o->max_idle_threads = cmd.max_idle_threads;
    o->max_threads = cmd.max_threads;
    return OPTIONS_RUN;
}

/* What gguffs always wants from libfuse, unless the user said otherwise. */
static int add_defaults(struct fuse_args *args, const struct options *o)
{
    if (o->allow_other && !o->default_permissions && !o->nodefault_permissions &&
        fuse_opt_add_arg(args, "-odefault_permissions") != 0)
        return -1;
    if (!o->subtype_given && fuse_opt_add_arg(args, "-osubtype=gguffs") != 0)
        return -1;
    /* A read-only mount (MS_RDONLY) makes the kernel refuse every write
     * path with EROFS before lookup; without it rmdir or mkdir of a name
     * answer ENOENT or EEXIST instead. Last, so it wins over an "rw". */
    return fuse_opt_add_arg(args, "-oro");
}

enum options_result options_parse(struct fuse_args *args, struct options *o,
                                  struct fuse_conn_info_opts **conn_opts)
{
    struct fuse_opt *spec = make_spec();
    enum options_result res;

    *conn_opts = NULL;
    *o = (struct options){.backend = GPU_BACKEND_AUTO,
                          .gpu_ahead = -1,
                          .dtype = DTYPE_F32,
                          .verbosity = VERBOSITY_NORMAL};
    if (spec == NULL || parse_size(DEFAULT_CACHE, 0, SIZE_MAX, &o->cache_bytes) != 0 ||
        parse_size(DEFAULT_PUSH, 0, SIZE_MAX, &o->push_ahead_bytes) != 0) {
        free_spec(spec);
        fprintf(stderr, "gguffs: out of memory\n");
        return OPTIONS_FAIL;
    }
    int rc = fuse_parse_opts(args, o, spec, opt_proc);
    free_spec(spec);
    if (rc != 0 && !o->bad)
        fprintf(stderr, "gguffs: %s\n", fuse_parse_message());
    if (rc != 0 || o->bad)
        return OPTIONS_USAGE;
    if (o->extra_positional != NULL) {
        usage_error("unexpected argument '%s' after MODEL and MOUNTPOINT", o->extra_positional);
        return OPTIONS_USAGE;
    }
    if ((res = parse_cmdline(args, o)) != OPTIONS_RUN)
        return res;
    if (o->model == NULL || o->mountpoint == NULL) {
        usage_error("need MODEL and MOUNTPOINT");
        return OPTIONS_USAGE;
    }
    if (add_defaults(args, o) != 0) {
        fprintf(stderr, "gguffs: out of memory\n");
        return OPTIONS_FAIL;
    }
    *conn_opts = fuse_parse_conn(args);
    if (*conn_opts == NULL) {
        fprintf(stderr, "gguffs: %s\n", fuse_parse_message());
        return OPTIONS_USAGE;
    }
    return check_session(args);
}

int options_add_fsname(struct fuse_args *args, const struct options *o, const char *path)
{
    if (o->fsname_given)
        return 0;
    /* libfuse splits -o at commas and takes a backslash as an escape. */
    size_t n = strlen(path);
    char *arg = malloc(strlen("-ofsname=") + 2 * n + 1), *p;
    if (arg == NULL)
        return -1;
    p = arg + sprintf(arg, "-ofsname=");
    for (size_t i = 0; i < n; i++) {
        if (path[i] == ',' || path[i] == '\\')
            *p++ = '\\';
        *p++ = path[i];
    }
    *p = '\0';
    int rc = fuse_opt_add_arg(args, arg);
    free(arg);
    return rc;
}

void options_free(struct options *o)
{
    free(o->mountpoint);
    o->mountpoint = NULL;
}
