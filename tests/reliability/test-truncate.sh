#!/usr/bin/env bash
# The model file truncated under the mount (truncate -s). Tensor data is
# preaded, never mapped, so the daemon cannot die of SIGBUS: reads of the
# tensors cut off fail with EIO (Python: OSError errno 5; dd: an error), the
# control file says the model file changed, and the daemon goes on answering
# (stat, readdir, the control file, and reads: EIO for any read that needs
# the changed file, since its bytes can no longer be trusted; never wrong
# bytes).
. "$SRCDIR/tests/lib/common.sh"

model=$WORK/model.gguf
orig=$WORK/orig.gguf
random_model "$model" 13 --tensors 16 --max-elements 65536
cp "$model" "$orig" || fail "cp failed"
mnt=$WORK/mnt
gguffs_mount "$model" "$mnt"
pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"

# Cut the file halfway through the data of the middle tensor (by offset).
"$STRESS" layout "$orig" | sort -n >"$WORK/layout" || fail "stress layout failed"
n=$(wc -l <"$WORK/layout")
read -r moff mbytes mname < <(sed -n "$((n / 2 + 1))p" "$WORK/layout")
cut=$((moff + mbytes / 2))
# Read one early tensor before the cut, so it sits in the page cache.
read -r _ _ first < <(head -1 "$WORK/layout")
timeout 10 cat "$mnt/$first" >/dev/null || fail "cannot read $first before the cut"

echo "== truncate -s $cut $model (in the middle of $mname)"
truncate -s "$cut" "$model" || fail "truncate failed"

timeout 60 "$STRESS" verify "$orig" "$mnt" >"$WORK/verify"
rc=$?
[ $rc -le 1 ] || fail "stress verify failed with status $rc"
affected=0
while read -r off nbytes name; do
    status=$(awk -v n="$name" '$2 == n { print $1 }' "$WORK/verify")
    if [ $((off + nbytes)) -gt "$cut" ]; then
        affected=$((affected + 1))
        [ "$status" = eio ] || fail "tensor $name (cut off) read as '$status', expected EIO"
    else
        case $status in
        ok | eio) ;;
        *) fail "tensor $name (before the cut) read as '$status'" ;;
        esac
    fi
done <"$WORK/layout"
echo "verify: $(grep -c '^ok' "$WORK/verify") ok, $(grep -c '^eio' "$WORK/verify") EIO, $affected cut off"

# Python and dd see EIO on a cut-off tensor.
"$PYTHON" - "$mnt/$mname" <<'PY' || fail "Python did not get EIO reading $mname"
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    while os.read(fd, 1 << 20):
        pass
except OSError as e:
    print("python: %s: %s" % (sys.argv[1], e))
    sys.exit(0 if e.errno == errno.EIO else 1)
print("python: %s: read without error" % sys.argv[1])
sys.exit(1)
PY
timeout 20 dd if="$mnt/$mname" of=/dev/null bs=64k 2>"$WORK/dd.err" &&
    fail "dd of a cut-off tensor succeeded"
grep -q 'Input/output error' "$WORK/dd.err" || fail "dd did not report EIO: $(cat "$WORK/dd.err")"
echo "dd: $(grep -m1 'Input/output error' "$WORK/dd.err")"

# The daemon is alive and answering, and says why.
expect_alive "$pid" "$mnt"
timeout 10 stat "$mnt/$first" >/dev/null || fail "stat after the cut failed"
timeout 10 cat "$mnt/.control" >"$WORK/control" || fail "cannot read .control after the cut"
row=$(awk -F'\t' -v n="$mname" '$1 == n' "$WORK/control")
[ -n "$row" ] || fail "no row for $mname in .control"
grep -q 'model file changed' <<<"$row" || fail ".control does not say why $mname failed: $row"
echo "control: $row"
gguffs_umount "$mnt"
wait_gone "$pid" 10 || fail "the daemon did not exit after unmount"
echo "truncate: passed"
