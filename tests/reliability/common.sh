# common.sh - sourced by the reliability tests, after tests/lib/mount.sh.
#
# Provides: WORK (a temporary directory removed at exit), STRESS (the stress
# and checking tool), random_model, daemon_pid, wait_unmounted, wait_gone,
# no_fusermount, expect_alive, and `bg_start`/`bg_wait` for bounded
# background jobs. Background jobs still running at exit are killed, then
# mount.sh's own exit handler unmounts what it mounted.

set -u
: "${SRCDIR:?SRCDIR must be set (meson test sets it)}"
: "${BUILDDIR:?BUILDDIR must be set}"
: "${GGUFFS:?GGUFFS must be set}"
: "${PYTHON:?PYTHON must be set}"
STRESS=${STRESS:-$BUILDDIR/tests/reliability/stress}

# shellcheck source=../lib/mount.sh
. "$SRCDIR/tests/lib/mount.sh"

[ -x "$STRESS" ] || fail "no stress tool at $STRESS (build it first)"
[ -w /dev/fuse ] || skip "/dev/fuse is not usable here"

WORK=$(mktemp -d /tmp/reliability-XXXXXX)
BG_PIDS=""

# Chain our cleanup in front of the EXIT handler mount.sh installed.
_rel_arg2() { printf '%s' "$2"; }
_rel_prev_exit=$(trap -p EXIT)
_rel_prev_exit=${_rel_prev_exit:+$(eval "_rel_arg2 ${_rel_prev_exit#trap }")}
_rel_exit() {
    local rc=$? p m
    for p in $BG_PIDS; do
        kill -TERM "$p" 2>/dev/null # timeout(1) passes it on
    done
    # Unmount before removing WORK, which holds the mount points.
    for m in "${GGUFFS_MOUNTS[@]}"; do
        _gguffs_unmount_one "$m" || echo "warning: $m still mounted at exit" >&2
    done
    rm -rf --one-file-system "$WORK" 2>/dev/null
    (exit "$rc")
    eval "${_rel_prev_exit:-exit $rc}"
    exit "$rc"
}
trap _rel_exit EXIT

GGUF_WRITER="$SRCDIR/tests/tools/gguf_writer.py"

# random_model OUT SEED [gguf_writer random options...]
random_model() {
    local out=$1 seed=$2
    shift 2
    "$PYTHON" "$GGUF_WRITER" random "$out" --seed "$seed" "$@" ||
        fail "gguf_writer.py random $out --seed $seed $* failed"
}

# The pid of the gguffs daemon serving MNT: a gguffs process whose command
# line names MNT and that holds /dev/fuse open.
daemon_pid() {
    local mnt=$1 exe p fd
    exe=$(readlink -f "$GGUFFS")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
        tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$mnt" || continue
        for fd in "$p"/fd/*; do
            if [ "$(readlink "$fd" 2>/dev/null)" = /dev/fuse ]; then
                echo "${p#/proc/}"
                return 0
            fi
        done
    done
    return 1
}

# wait_unmounted MNT SECONDS: true once MNT is no longer a mount point.
wait_unmounted() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        mountpoint -q "$1" || return 0
        sleep 0.1
    done
    return 1
}

# wait_gone PID SECONDS: true once the process has exited.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# No fusermount3 left running for MNT (a hung unmount helper).
no_fusermount() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = fusermount3 ] || continue
        tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" && return 1
    done
    return 0
}

# expect_alive PID MNT: the daemon runs and the mount answers.
expect_alive() {
    kill -0 "$1" 2>/dev/null || fail "the daemon (pid $1) died"
    mountpoint -q "$2" || fail "$2 is no longer mounted"
    timeout 10 ls "$2" >/dev/null || fail "ls $2 failed or hung"
}

# bg_start OUTFILE CMD...: run CMD in the background, output to OUTFILE;
# sets BG (its pid). Killed at exit if still running.
bg_start() {
    local out=$1
    shift
    "$@" >"$out" 2>&1 &
    BG=$!
    BG_PIDS="$BG_PIDS $BG"
}

# bg_wait PID SECONDS: wait for a background job at most SECONDS; sets
# BG_RC to its exit status, or returns 1 if it is still running.
bg_wait() {
    wait_gone "$1" "$2" || return 1
    wait "$1"
    # shellcheck disable=SC2034 # read by the tests
    BG_RC=$?
    return 0
}
