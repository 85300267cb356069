# mount.sh - shell helpers for tests that mount gguffs. Source it from bash.
#
#   gguffs_mount MODEL MNT [gguffs options...]
#       mkdir -p MNT, mount MODEL there and return once the mount answers
#       (mountpoint -q and a readable .control); the mount is recorded and
#       unmounted at exit. Fails the test if gguffs fails or the mount does
#       not come up in 20 s.
#   gguffs_umount MNT       unmount now (fusermount3 -u, lazily if busy)
#   gguffs_workdir          print a new temporary directory, removed at exit
#                           (after the unmounts); call it as w=$(gguffs_workdir)
#                           only from the main shell, not a subshell pipeline
#   skip "why"              print "SKIP: why" and exit 77
#   fail "why"              print "FAIL: why" and exit 1
#
# For tests that hold a mount under faults:
#   daemon_pid MNT          pid of the gguffs daemon serving MNT
#   wait_unmounted MNT S    true once MNT is no longer a mount point (S s)
#   wait_gone PID S         true once PID has exited (S s)
#   no_fusermount MNT       no fusermount3 left running for MNT
#   expect_alive PID MNT    the daemon runs and the mount answers
#   bg_start OUT CMD...     CMD in the background (pid in BG), killed at exit
#   bg_wait PID S           wait at most S s; BG_RC is its status
#
# Needs GGUFFS (the binary). The EXIT trap installed here kills background
# jobs, then unmounts every mount made with gguffs_mount that is still
# there, then removes the work directories. tests/lib/common.sh adds the
# environment checks and models that mount tests share.

GGUFFS_MOUNTS=()
GGUFFS_WORKDIRS=()

skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# _gguffs_unmount_one MNT: unmount and wait (at most 10 s) until it is gone.
_gguffs_unmount_one() {
    local mnt=$1 i
    mountpoint -q "$mnt" 2>/dev/null || return 0
    fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null ||
        umount -l "$mnt" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        mountpoint -q "$mnt" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

gguffs_mount() {
    local model=$1 mnt=$2 i
    shift 2
    : "${GGUFFS:?GGUFFS must name the gguffs binary}"
    mkdir -p "$mnt" || fail "cannot create $mnt"
    GGUFFS_MOUNTS+=("$mnt")
    "$GGUFFS" "$@" "$model" "$mnt" || fail "gguffs $* $model $mnt failed (status $?)"
    for ((i = 0; i < 200; i++)); do
        if mountpoint -q "$mnt" && head -c 1 "$mnt/.control" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    fail "$mnt did not become usable within 20 s"
}

gguffs_umount() {
    _gguffs_unmount_one "$1" || fail "$1 is still mounted 10 s after unmounting"
}

# A directory for this test's files; its removal is recorded in a file the
# exit handler reads, because $(...) runs in a subshell.
_GGUFFS_WORKLIST=$(mktemp /tmp/gguffs-test-dirs.XXXXXX)

gguffs_workdir() {
    local d
    d=$(mktemp -d /tmp/gguffs-test.XXXXXX) || fail "mktemp failed"
    echo "$d" >>"$_GGUFFS_WORKLIST"
    echo "$d"
}

# control_field FILE NAME COLUMN: one field of a tensor's row in a copy of
# .control, by the header's column name; fails if the tensor has no row.
control_field() {
    awk -F'\t' -v n="$2" -v c="$3" '
        /^#/ { next }
        !h { for (i = 1; i <= NF; i++) col[$i] = i; h = 1; next }
        $1 == n { print $col[c]; found = 1 }
        END { exit !found }' "$1"
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

wait_unmounted() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        mountpoint -q "$1" || return 0
        sleep 0.1
    done
    return 1
}

wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

no_fusermount() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = fusermount3 ] || continue
        tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" && return 1
    done
    return 0
}

expect_alive() {
    kill -0 "$1" 2>/dev/null || fail "the daemon (pid $1) died"
    mountpoint -q "$2" || fail "$2 is no longer mounted"
    timeout 10 ls "$2" >/dev/null || fail "ls $2 failed or hung"
}

BG_PIDS=""
# wait_holding MNT SECONDS: wait until a `stress` process holds every file
# of MNT open and has stopped opening more (it opens each file twice, once
# with O_DIRECT; a loaded machine may take seconds to get there), then a
# moment for reads to be in flight. 1 if it does not within SECONDS.
wait_holding() {
    local mnt=$1 want p i fds last=-1
    want=$(ls "$mnt" | wc -l)
    for ((i = 0; i < $2 * 3; i++)); do # every 0.3 s
        for p in $(pgrep -f "^$STRESS hold "); do
            fds=$(ls -l "/proc/$p/fd" 2>/dev/null | grep -o " $mnt/.*")
            if (($(sort -u <<<"$fds" | grep -c .) >= want)); then
                (($(grep -c . <<<"$fds") == last)) && { sleep 0.5; return 0; }
                last=$(grep -c . <<<"$fds")
            fi
        done
        sleep 0.3
    done
    return 1
}

bg_start() {
    local out=$1
    shift
    "$@" >"$out" 2>&1 &
    BG=$!
    BG_PIDS="$BG_PIDS $BG"
}

bg_wait() {
    wait_gone "$1" "$2" || return 1
    wait "$1"
    # shellcheck disable=SC2034 # read by the tests
    BG_RC=$?
    return 0
}

# Does not call exit, so a handler that chains this one still runs to its
# end; the shell then exits with the status that triggered the trap.
_gguffs_exit() {
    local mnt d p
    for p in $BG_PIDS; do
        kill -TERM "$p" 2>/dev/null # timeout(1) passes it on
    done
    for mnt in "${GGUFFS_MOUNTS[@]}"; do
        _gguffs_unmount_one "$mnt" || echo "warning: $mnt still mounted at exit" >&2
    done
    if [ -f "$_GGUFFS_WORKLIST" ]; then
        while read -r d; do
            case $d in /tmp/gguffs-test.*) rm -rf --one-file-system "$d" ;; esac
        done <"$_GGUFFS_WORKLIST"
        rm -f "$_GGUFFS_WORKLIST"
    fi
}
trap _gguffs_exit EXIT
