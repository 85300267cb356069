#!/bin/sh
# One malformed GGUF file per validation rule (make_hostile.py), each given to
# the real gguffs binary: it must exit non-zero, say "gguffs: FILE: " and name
# the problem, and leave nothing mounted.
#
# env: GGUFFS (the binary), PYTHON (python3 with numpy), SRCDIR.
set -u
: "${GGUFFS:?GGUFFS is not set}" "${PYTHON:?PYTHON is not set}" "${SRCDIR:?SRCDIR is not set}"
if [ ! -x "$GGUFFS" ]; then
    echo "SKIP: no gguffs binary at $GGUFFS"
    exit 77
fi

work=$(mktemp -d /tmp/gguffs-hostile-XXXXXX) || exit 1
mnt="$work/mnt"
mkdir -p "$mnt"
cleanup() {
    if mountpoint -q "$mnt"; then
        fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$PYTHON" "$SRCDIR/tests/hostile/make_hostile.py" "$work/files" || exit 1

failures=0
count=0
tab=$(printf '\t')
while IFS="$tab" read -r name expect; do
    file="$work/files/$name.gguf"
    count=$((count + 1))
    timeout 30 "$GGUFFS" "$file" "$mnt" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    msg=$(head -n 1 "$work/err")
    problem=""
    if [ "$rc" -eq 0 ]; then
        problem="exit status 0"
    elif [ "$rc" -eq 124 ]; then
        problem="timed out"
    fi
    case "$msg" in
    "gguffs: $file: "*) ;;
    *) problem="${problem:+$problem; }message does not start with 'gguffs: $file: '" ;;
    esac
    case "$msg" in
    *"$expect"*) ;;
    *) problem="${problem:+$problem; }message lacks '$expect'" ;;
    esac
    if mountpoint -q "$mnt"; then
        problem="${problem:+$problem; }left $mnt mounted"
        fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
    fi
    if [ -n "$problem" ]; then
        echo "FAIL $name: $problem"
        echo "     stderr: $msg"
        failures=$((failures + 1))
    else
        echo "ok   $name: $msg"
    fi
done <"$work/files/expect.tsv"

echo "$count hostile files, $failures failures"
[ "$count" -gt 30 ] && [ "$failures" -eq 0 ]
