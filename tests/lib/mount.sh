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
# Needs GGUFFS (the binary). The EXIT trap installed here unmounts every
# mount made with gguffs_mount that is still there; scripts that want their
# own exit handler should chain it (see tests/reliability/common.sh).

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

# Does not call exit, so a handler that chains this one still runs to its
# end; the shell then exits with the status that triggered the trap.
_gguffs_exit() {
    local mnt d
    for mnt in "${GGUFFS_MOUNTS[@]}"; do
        _gguffs_unmount_one "$mnt" || echo "warning: $mnt still mounted at exit" >&2
    done
    if [ -f "$_GGUFFS_WORKLIST" ]; then
        while read -r d; do
            case $d in /tmp/gguffs-test.*) rm -rf "$d" ;; esac
        done <"$_GGUFFS_WORKLIST"
        rm -f "$_GGUFFS_WORKLIST"
    fi
}
trap _gguffs_exit EXIT
