# gpu-common.sh - sourced by the GPU mount tests, after tests/lib/mount.sh.
#
# Provides WORK (a temporary directory, removed at exit after the mounts are
# gone), make_model OUT ARGS... (tests/tools/gguf_writer.py random),
# compare_mounts GOT WANT (cmp of every tensor file), q4_0_rows MNT (the
# .control rows of Q4_0 tensors: name, path, reason; tab-separated) and
# type_rows MNT TYPE,TYPE... (the same for tensors of the types listed).

set -u
: "${SRCDIR:?SRCDIR must be set (meson test sets it)}"
: "${GGUFFS:?GGUFFS must be set}"
: "${PYTHON:?PYTHON must be set}"
: "${GPU_API:?GPU_API must be set}"

# shellcheck source=../lib/mount.sh
. "$SRCDIR/tests/lib/mount.sh"

[ -w /dev/fuse ] || skip "/dev/fuse is not usable here"
WORK=$(mktemp -d /tmp/gguffs-gpu-XXXXXX) || fail "mktemp"

_gpu_exit() {
    local rc=$? mnt
    for mnt in "${GGUFFS_MOUNTS[@]}"; do
        _gguffs_unmount_one "$mnt" || echo "warning: $mnt still mounted at exit" >&2
    done
    GGUFFS_MOUNTS=()
    rm -rf "$WORK"
    exit "$rc"
}
trap _gpu_exit EXIT

make_model() {
    local out=$1
    shift
    "$PYTHON" "$SRCDIR/tests/tools/gguf_writer.py" random "$out" "$@" >/dev/null ||
        fail "gguf_writer.py random $out $* failed"
}

# Every tensor file of WANT (a backend=cpu mount) must equal GOT's.
compare_mounts() {
    local got=$1 want=$2 f n=0
    while IFS= read -r -d '' f; do
        f=${f##*/}
        if ! cmp -s "$got/$f" "$want/$f"; then
            echo "$got/.control:" >&2
            grep -F "$f" "$got/.control" >&2
            echo "first differing bytes (offset, got, want):" >&2
            cmp -l "$got/$f" "$want/$f" 2>&1 | head -5 >&2
            echo "$(cmp -l "$got/$f" "$want/$f" 2>/dev/null | wc -l) bytes differ" >&2
            fail "$got/$f differs from the CPU's $want/$f"
        fi
        n=$((n + 1))
    done < <(find "$want" -maxdepth 1 -type f ! -name .control -print0)
    [ "$n" -gt 0 ] || fail "no tensor files in $want"
    echo "  $n tensor files identical to the CPU's"
}

q4_0_rows() {
    awk -F'\t' '$2 == "q4_0" { print $1 "\t" $5 "\t" $6 }' "$1/.control"
}

type_rows() {
    awk -F'\t' -v types=",$2," 'index(types, "," $2 ",") { print $1 "\t" $5 "\t" $6 }' "$1/.control"
}
