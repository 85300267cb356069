# common.sh - sourced by every test that mounts a model (tests/mount,
# tests/reliability): the environment checks, a work directory ($W, also
# named $WORK; removed at exit after the unmounts), the stress and checking
# tool ($STRESS, where the suite provides it) and the models the tests
# share. The helpers themselves are in tests/lib/mount.sh.
#
#   basic_model             $W/basic.gguf and its references in $W/ref
#                           (tests/mount/model.py basic)
#   random_model OUT SEED [gguf_writer.py random options...]
set -u
: "${GGUFFS:?GGUFFS must be set (meson test sets it)}"
: "${PYTHON:?PYTHON must be set}"
: "${SRCDIR:?SRCDIR must be set}"

# shellcheck source=mount.sh
. "$SRCDIR/tests/lib/mount.sh"

[ -c /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable here"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed"
"$PYTHON" -c 'import numpy' 2>/dev/null || skip "$PYTHON has no numpy"
if [ -n "${STRESS:-}" ]; then
    [ -x "$STRESS" ] || fail "no stress tool at $STRESS (build it first)"
fi

MODEL_PY=$SRCDIR/tests/mount/model.py
GGUF_WRITER=$SRCDIR/tests/tools/gguf_writer.py
W=$(gguffs_workdir)
WORK=$W

basic_model() {
    "$PYTHON" "$MODEL_PY" basic "$W/basic.gguf" "$W/ref" || fail "model.py basic failed"
}

random_model() {
    local out=$1 seed=$2
    shift 2
    "$PYTHON" "$GGUF_WRITER" random "$out" --seed "$seed" "$@" ||
        fail "gguf_writer.py random $out --seed $seed $* failed"
}
