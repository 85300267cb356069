/* daemon.c - see daemon.h. */
#define _GNU_SOURCE /* pipe2 */
#include "daemon.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_log.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

int daemon_signals_init(void)
{
    static const int unmount_on[] = {SIGINT, SIGHUP, SIGTERM};
    struct sigaction dfl = {.sa_handler = SIG_DFL}, ign = {.sa_handler = SIG_IGN};
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(unmount_on) / sizeof(unmount_on[0]); i++) {
        if (sigaction(unmount_on[i], &dfl, NULL) != 0 || sigaddset(&set, unmount_on[i]) != 0)
            return -1;
    }
    if (sigaction(SIGPIPE, &ign, NULL) != 0)
        return -1;
    return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* The write end of the pipe to the parent, until the mount is ready. */
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
        /* syslog adds its own "gguffs[pid]: " */
        const char *m = strncmp(msg, "gguffs: ", 8) == 0 ? msg + 8 : msg;
        syslog((int)level, "%s", m);
    }
    pthread_mutex_unlock(&report.lock);
}

void daemon_log_init(void)
{
    fuse_set_log_func(log_func);
}

static void report_ready(void)
{
    pthread_mutex_lock(&report.lock);
    if (report.fd >= 0) {
        char nul = '\0';
        if (write(report.fd, &nul, 1) != 1)
            syslog(LOG_WARNING, "parent gone before the mount was ready");
        close(report.fd);
        report.fd = -1;
    }
    pthread_mutex_unlock(&report.lock);
}

void daemon_report_close(void)
{
    pthread_mutex_lock(&report.lock);
    if (report.fd >= 0)
        close(report.fd);
    report.fd = -1;
    pthread_mutex_unlock(&report.lock);
}

static void ready(struct daemon_ready *r)
{
    report_ready();
    log_event("%s", r->line);
}

/* Set the mount's read-ahead, then report ready. The kernel sets the
 * read-ahead from the INIT reply, which is sent only after init() returns,
 * so this runs on its own thread: its stat() waits for that reply. */
static void *readahead_main(void *arg)
{
    struct daemon_ready *r = arg;
    struct stat st;
    char path[128], val[32];

    if (stat(r->mountpoint, &st) != 0)
        return NULL; /* the kernel refused the mount: no report, EOF says so */
    snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    int n = snprintf(val, sizeof(val), "%zu", r->readahead_bytes / 1024);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, val, (size_t)n) != n)
        log_warn("cannot set readahead (%s): %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    ready(r);
    return NULL;
}

void daemon_on_init(void *arg)
{
    struct daemon_ready *r = arg;
    pthread_t th;

    if (r->readahead_bytes == 0 || pthread_create(&th, NULL, readahead_main, r) != 0) {
        ready(r);
        return;
    }
    pthread_detach(th);
}

int daemon_detach(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0 || setsid() < 0 || chdir("/") != 0)
        return -1;
    openlog("gguffs", LOG_PID, LOG_DAEMON);
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

int daemon_fork(const char *mountpoint, int *status)
{
    int pfd[2];

    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "gguffs: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "gguffs: fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pfd[0]);
        report.fd = pfd[1];
        return 0;
    }
    close(pfd[1]);
    *status = parent_wait(pfd[0], pid, mountpoint);
    return 1;
}
