#!/usr/bin/env bash
# Odd reads: zero-length reads, reads at and far past the end, and 1-byte
# reads at every position of small tensors (buffered and O_DIRECT) compared
# with a whole read and with the scalar reference; the same for .control.
. "$SRCDIR/tests/reliability/common.sh"

model=$WORK/model.gguf
# Small tensors of several types so that whole tensors can be read bytewise.
random_model "$model" 16 --tensors 20 --max-elements 2048
for backend in cpu default; do
    mnt=$WORK/mnt-$backend
    opts=()
    [ "$backend" = default ] || opts=(-o "backend=$backend")
    gguffs_mount "$model" "$mnt" "${opts[@]}"
    echo "== odd reads, backend $backend"
    timeout 120 "$STRESS" odd "$model" "$mnt" || fail "odd reads failed (backend $backend)"
    gguffs_umount "$mnt"
done
echo "odd-reads: passed"
