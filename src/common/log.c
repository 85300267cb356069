/* log.c - see log.h. */
#include "common/log.h"

#include <fuse_log.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int verbosity = VERBOSITY_NORMAL;

void log_set_verbosity(enum log_verbosity v)
{
    atomic_store(&verbosity, (int)v);
}

static void emit(enum fuse_log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    fuse_log(level, "gguffs: %s\n", line);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(FUSE_LOG_WARNING, fmt, ap);
    va_end(ap);
}

void log_event(const char *fmt, ...)
{
    if (atomic_load(&verbosity) < VERBOSITY_NORMAL)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(FUSE_LOG_NOTICE, fmt, ap);
    va_end(ap);
}

void log_detail(const char *fmt, ...)
{
    if (atomic_load(&verbosity) < VERBOSITY_VERBOSE)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(FUSE_LOG_INFO, fmt, ap);
    va_end(ap);
}
