/* fuse_parse.c - see fuse_parse.h. */
#include "fuse_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What libfuse logged during the last call. Owned by this file; used only
 * before the fork, on one thread. */
static struct {
    char text[1024];
    size_t len;
} captured;

static void capture(enum fuse_log_level level, const char *fmt, va_list ap)
{
    (void)level;
    if (captured.len + 1 < sizeof(captured.text)) {
        int n =
            vsnprintf(captured.text + captured.len, sizeof(captured.text) - captured.len, fmt, ap);
        if (n > 0)
            captured.len += (size_t)n;
        if (captured.len >= sizeof(captured.text))
            captured.len = sizeof(captured.text) - 1;
    }
}

static void capture_start(void)
{
    captured.len = 0;
    captured.text[0] = '\0';
    fuse_set_log_func(capture);
}

static void capture_stop(void)
{
    fuse_set_log_func(NULL); /* libfuse's default: stderr */
}

int fuse_parse_opts(struct fuse_args *args, void *data, const struct fuse_opt *spec,
                    fuse_opt_proc_t proc)
{
    capture_start();
    int rc = fuse_opt_parse(args, data, spec, proc);
    capture_stop();
    return rc;
}

int fuse_parse_cmd(struct fuse_args *args, struct fuse_cmdline_opts *cmd)
{
    capture_start();
    int rc = fuse_parse_cmdline(args, cmd);
    capture_stop();
    return rc;
}

struct fuse_conn_info_opts *fuse_parse_conn(struct fuse_args *args)
{
    capture_start();
    struct fuse_conn_info_opts *c = fuse_parse_conn_info_opts(args);
    capture_stop();
    return c;
}

int fuse_parse_session(const struct fuse_args *args)
{
    struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
    static const struct fuse_lowlevel_ops no_ops;

    for (int i = 0; i < args->argc; i++) {
        if (fuse_opt_add_arg(&copy, args->argv[i]) != 0) {
            fuse_opt_free_args(&copy);
            return -2;
        }
    }
    capture_start();
    struct fuse_session *se = fuse_session_new(&copy, &no_ops, sizeof(no_ops), NULL);
    capture_stop();
    fuse_opt_free_args(&copy);
    if (se == NULL)
        return -1;
    fuse_session_destroy(se);
    return 0;
}

const char *fuse_parse_message(void)
{
    char *s = captured.text, *nl = strchr(s, '\n');
    if (nl != NULL)
        *nl = '\0';
    if (strncmp(s, "fuse: ", 6) == 0)
        s += 6;
    return *s ? s : "libfuse refused the options";
}

const char *fuse_parse_unknown(char *buf, size_t len)
{
    const char *s = strstr(captured.text, "unknown option");
    const char *q = s ? strchr(s, '`') : NULL, *e = q ? strrchr(q, '\'') : NULL;

    if (e == NULL || e <= q + 1)
        return NULL;
    q++;
    if (strncmp(q, "-o ", 3) == 0)
        q += 3;
    snprintf(buf, len, "%.*s", (int)(e - q), q);
    return buf;
}
