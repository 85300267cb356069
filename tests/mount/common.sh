# common.sh - sourced by the mount tests: environment checks, a work
# directory ($W) and the basic test model with its references.
set -u
: "${GGUFFS:?GGUFFS must be set (meson test sets it)}"
: "${PYTHON:?PYTHON must be set}"
: "${SRCDIR:?SRCDIR must be set}"

# shellcheck source=../lib/mount.sh
. "$SRCDIR/tests/lib/mount.sh"

[ -c /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable here"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed"
"$PYTHON" -c 'import numpy' 2>/dev/null || skip "$PYTHON has no numpy"

MODEL_PY=$SRCDIR/tests/mount/model.py
W=$(gguffs_workdir)

# basic_model: $W/basic.gguf and its references in $W/ref.
basic_model() {
    "$PYTHON" "$MODEL_PY" basic "$W/basic.gguf" "$W/ref" || fail "model.py basic failed"
}

