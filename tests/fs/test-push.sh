#!/usr/bin/env bash
# Decoding ahead into the page cache (-o push_ahead, on by default): every
# byte a sequential reader gets (cat, dd, mmap, a view) is the byte a mount
# that answers each request alone serves; .control counts what was pushed;
# a daemon signalled while readers race its pushes exits; bad values are
# refused.
. "$SRCDIR/tests/fs/common.sh"

"$PYTHON" - "$W/push.gguf" <<'PY' || fail "cannot write the model"
import sys
import numpy as np
from gguf_writer import GGUFWriter, GT, random_tensor_bytes
rng = np.random.default_rng(12)
w = GGUFWriter()
for name, t, ne in [("big.q4_0", GT.Q4_0, [4096, 2048]), ("mid.q8_0", GT.Q8_0, [1024, 4096]),
                    ("half.f16", GT.F16, [2048, 1536]), ("k.q6_K", GT.Q6_K, [4096, 768])]:
    w.add_tensor(name, t, ne, random_tensor_bytes(t, int(np.prod(ne)), rng))
w.write(sys.argv[1])
PY
push=$W/push ref=$W/ref
gguffs_mount "$W/push.gguf" "$push" -o backend=cpu
gguffs_mount "$W/push.gguf" "$ref" -o backend=cpu -o push_ahead=0 -o gpu_ahead=0
names="big.q4_0 mid.q8_0 half.f16 k.q6_K"

for n in $names; do
    cmp "$push/$n" "$ref/$n" || fail "cat of $n differs from the unpushed mount"
done
# Fresh runs: dd with large blocks, and an mmap reader, on a remount.
gguffs_umount "$push"
gguffs_mount "$W/push.gguf" "$push" -o backend=cpu
for n in $names; do
    dd if="$push/$n" bs=1M status=none | cmp - "$ref/$n" || fail "dd bs=1M of $n differs"
done
gguffs_umount "$push"
gguffs_mount "$W/push.gguf" "$push" -o backend=cpu -o push_ahead=16M
"$PYTHON" - "$push" "$ref" $names <<'PY' || fail "an mmap or .npy reader got other bytes"
import sys
import numpy as np
push, ref, names = sys.argv[1], sys.argv[2], sys.argv[3:]
for n in names:
    want = np.fromfile("%s/%s" % (ref, n), dtype=np.uint8)
    got = np.memmap("%s/%s" % (push, n), dtype=np.uint8, mode="r")
    if not np.array_equal(np.asarray(got), want):
        sys.exit("FAIL: mmap of %s differs" % n)
    arr = np.load("%s/.npy/%s.npy" % (push, n), mmap_mode="r")
    if arr.tobytes() != want.tobytes():
        sys.exit("FAIL: .npy of %s differs" % n)
PY

line=$(grep '^# push ahead: ' "$push/.control") || fail ".control has no push ahead line"
mib=$(sed -n 's/.* \([0-9][0-9]*\) MiB pushed into the page cache.*/\1/p' <<<"$line")
[ -n "$mib" ] && [ "$mib" -gt 0 ] || fail "nothing was pushed: $line"
grep -q '^# push ahead: up to 16 MiB ahead' <<<"$line" || fail "push_ahead=16M not shown: $line"
grep -q '^# push ahead: off' "$ref/.control" || fail "push_ahead=0 not shown as off"
# Per tensor: what was pushed is counted, within what was read; nothing
# is pushed where pushing is off.
for n in $names; do
    p=$(control_field "$push/.control" "$n" pushed) || fail "no pushed column for $n"
    b=$(control_field "$push/.control" "$n" bytes)
    [ "$p" -gt 0 ] && [ "$p" -le "$b" ] || fail "$n: pushed $p of $b bytes read"
    [ "$(control_field "$ref/.control" "$n" pushed)" = 0 ] || fail "$n: pushed with push_ahead=0"
done

# SIGTERM while readers race the pushing threads: the daemon answers what
# the stores wait for, then exits; the readers end.
pid=$(daemon_pid "$push") || fail "no daemon for $push"
readers=()
for i in 1 2 3 4; do
    (while cat "$push/big.q4_0" "$push/mid.q8_0" >/dev/null 2>&1; do :; done) &
    readers+=($!)
done
sleep 1
kill -TERM "$pid"
wait_gone "$pid" 20 || fail "the daemon did not exit within 20 s of SIGTERM while pushing"
wait_unmounted "$push" 10 || fail "$push is still mounted"
for r in "${readers[@]}"; do
    timeout 10 tail --pid="$r" -f /dev/null || fail "a reader is still blocked"
done

for v in push_ahead=2G push_ahead=-1 push_ahead=lots push_threads=0 push_threads=17; do
    "$GGUFFS" -o $v "$W/push.gguf" "$push" 2>"$W/err" && fail "-o $v accepted"
    [ $? = 2 ] || fail "-o $v: exit status not 2"
    grep -q "${v%%=*}" "$W/err" || fail "-o $v: the message does not name the option"
done
gguffs_umount "$ref"
echo "push: passed"
