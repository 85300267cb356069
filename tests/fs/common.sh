# common.sh - sourced by the file-layer tests: environment checks, a work
# directory ($W) and a GGUF writer ($WRITER, tests/tools/gguf_writer.py).
set -u
: "${GGUFFS:?GGUFFS must be set (meson test sets it)}"
: "${PYTHON:?PYTHON must be set}"
: "${SRCDIR:?SRCDIR must be set}"

# shellcheck source=../lib/mount.sh
. "$SRCDIR/tests/lib/mount.sh"

[ -c /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable here"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed"
"$PYTHON" -c 'import numpy' 2>/dev/null || skip "$PYTHON has no numpy"

export PYTHONPATH=$SRCDIR/tests/tools${PYTHONPATH:+:$PYTHONPATH}
W=$(gguffs_workdir)

# many_tensors OUT N: a model of N small f32 tensors named blk.<i>.w.
many_tensors() {
    "$PYTHON" - "$1" "$2" <<'PY' || fail "cannot write $1"
import sys
from gguf_writer import GGUFWriter, GT
w = GGUFWriter()
for i in range(int(sys.argv[2])):
    w.add_tensor("blk.%d.w" % i, GT.F32, [4])
w.write(sys.argv[1])
PY
}

# daemon_pid MNT: the pid of the gguffs serving MNT.
daemon_pid() {
    pgrep -f -- "$GGUFFS .* $1\$" | head -1
}

# rss_kib PID: resident memory in KiB.
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
