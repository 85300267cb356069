/* rss.c - mount time and memory of a FUSE daemon, for bench/run.
 *
 *   rss mount MOUNTPOINT PROBE TIMEOUT_S -- CMD ARGS...
 *       Starts CMD (a daemon that stays in the foreground, e.g. gguffs -f)
 *       and polls, every 100 us, until MOUNTPOINT is a new mount and
 *       MOUNTPOINT/PROBE can be stat()ed. Prints
 *           mount_ms=<exec to usable, ms> pid=<daemon pid> hwm_kb=<VmHWM>
 *       and exits 0, leaving the daemon running. Exits 1 if CMD dies or
 *       the mount is not usable within TIMEOUT_S (the daemon is killed).
 *   rss mem PID
 *       Prints "hwm_kb=<VmHWM> rss_kb=<VmRSS>" of PID from /proc/PID/status.
 *
 * Polling stat() from another process is what any user of the mount sees:
 * the time includes exec, parsing the model, the mount syscall and FUSE's
 * INIT, and the first LOOKUP/GETATTR answered.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The value of `key` ("VmHWM:") in /proc/PID/status, in kB; -1 if absent. */
static long status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0) {
            v = strtol(line + klen, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static int cmd_mem(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rss mem PID\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[2]);
    long hwm = status_kb(pid, "VmHWM:"), rss = status_kb(pid, "VmRSS:");
    if (hwm < 0 || rss < 0) {
        fprintf(stderr, "rss: /proc/%d/status: no such process or no VmHWM\n", (int)pid);
        return 1;
    }
    printf("hwm_kb=%ld rss_kb=%ld\n", hwm, rss);
    return 0;
}

/* True once mnt is a different filesystem than it was (dev0) and the probe
 * answers. */
static int usable(const char *mnt, dev_t dev0, const char *probe)
{
    struct stat st;
    if (stat(mnt, &st) != 0 || st.st_dev == dev0)
        return 0;
    return stat(probe, &st) == 0;
}

static int cmd_mount(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: rss mount MOUNTPOINT PROBE TIMEOUT_S -- CMD ARGS...\n");
        return 2;
    }
    const char *mnt = argv[2];
    double timeout_ms = atof(argv[4]) * 1e3;
    char probe[4096];
    snprintf(probe, sizeof(probe), "%s/%s", mnt, argv[3]);
    struct stat st0;
    if (stat(mnt, &st0) != 0) {
        fprintf(stderr, "rss: %s: %s\n", mnt, strerror(errno));
        return 1;
    }

    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "rss: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[6], argv + 6);
        fprintf(stderr, "rss: %s: %s\n", argv[6], strerror(errno));
        _exit(127);
    }
    const struct timespec pause = {0, 100000};
    while (!usable(mnt, st0.st_dev, probe)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "rss: %s exited (status %d) before %s was usable\n", argv[6],
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), probe);
            return 1;
        }
        if (now_ms() - t0 > timeout_ms) {
            fprintf(stderr, "rss: %s not usable after %.0f s\n", probe, timeout_ms / 1e3);
            kill(pid, SIGTERM);
            return 1;
        }
        nanosleep(&pause, NULL);
    }
    double ms = now_ms() - t0;
    printf("mount_ms=%.2f pid=%d hwm_kb=%ld\n", ms, (int)pid, status_kb(pid, "VmHWM:"));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "mount") == 0)
        return cmd_mount(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "mem") == 0)
        return cmd_mem(argc, argv);
    fprintf(stderr, "usage: rss mount MOUNTPOINT PROBE TIMEOUT_S -- CMD ARGS...\n"
                    "       rss mem PID\n");
    return 2;
}
