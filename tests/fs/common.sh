# common.sh - sourced by the file-layer tests: tests/lib/common.sh (the
# environment checks, the work directory $W, the mount helpers), the test
# GGUF writer on PYTHONPATH (tests/tools/gguf_writer.py) and the helpers
# below.
# shellcheck source=../lib/common.sh
. "$SRCDIR/tests/lib/common.sh"

export PYTHONPATH=$SRCDIR/tests/tools${PYTHONPATH:+:$PYTHONPATH}

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
