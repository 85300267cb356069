#!/usr/bin/env bash
# The model file replaced under the mount by renaming a new file over it
# (what `cp new tmp && mv tmp model` or a package update does). The daemon
# holds the old file open, so the old inode lives on: the mount keeps serving
# the original model, byte for byte, for tensors read before and after the
# swap, cached or not. A new mount is needed to see the new file.
. "$SRCDIR/tests/lib/common.sh"

model=$WORK/model.gguf
orig=$WORK/orig.gguf
random_model "$model" 14 --tensors 16 --max-elements 65536
cp "$model" "$orig" || fail "cp failed"
mnt=$WORK/mnt
gguffs_mount "$model" "$mnt"
pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"

# Read the first half of the tensors now (they sit in the page cache).
"$STRESS" layout "$orig" | awk '{ print $3 }' >"$WORK/names" || fail "stress layout failed"
for name in $(head -n 8 "$WORK/names"); do
    timeout 10 cat "$mnt/$name" >/dev/null || fail "cannot read $name"
done

echo "== rename a different model over $model"
random_model "$WORK/new.gguf" 15 --tensors 16 --max-elements 65536
mv "$WORK/new.gguf" "$model" || fail "mv failed"
cmp -s "$model" "$orig" && fail "the new model is identical to the old one"

# Every tensor, its page cache dropped, still reads as the original model.
timeout 60 "$STRESS" verify "$orig" "$mnt" >"$WORK/verify"
rc=$?
grep -v '^ok ' "$WORK/verify" | head -5
[ $rc -eq 0 ] || fail "after the rename the mount does not serve the original data (status $rc)"
echo "verify: $(grep -c '^ok ' "$WORK/verify") tensors identical to the original model"
expect_alive "$pid" "$mnt"
timeout 10 cat "$mnt/.control" >"$WORK/control" || fail "cannot read .control"
grep -q 'model file changed' "$WORK/control" && fail ".control reports a change after a rename"

gguffs_umount "$mnt"
wait_gone "$pid" 10 || fail "the daemon did not exit after unmount"
# A new mount serves the new file.
gguffs_mount "$model" "$mnt"
timeout 60 "$STRESS" verify "$model" "$mnt" >/dev/null || fail "a new mount does not serve the new model"
gguffs_umount "$mnt"
echo "replace: passed"
