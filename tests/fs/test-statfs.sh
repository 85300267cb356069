#!/usr/bin/env bash
# statfs: the model's decoded size as used, nothing free, and sums that
# saturate instead of wrapping: two tensors of 2^61-1 elements of an unknown
# type are 2 x 2^63-4 bytes as FP32, past 2^64.
. "$SRCDIR/tests/fs/common.sh"

"$PYTHON" - "$W/small.gguf" "$W/huge.gguf" <<'PY' || fail "cannot write the models"
import sys
from gguf_writer import GGUFWriter, GT
w = GGUFWriter()
w.add_tensor("a", GT.F32, [1000])
w.add_tensor("b", GT.F32, [3000, 2])
w.write(sys.argv[1])
w = GGUFWriter()
for name in ("x", "y"):
    w.add_tensor(name, 77, [2**61 - 1])
w.write(sys.argv[2])
PY

mnt=$W/small
gguffs_mount "$W/small.gguf" "$mnt"
read -r bsize blocks free avail files <<<"$(stat -f -c '%S %b %f %a %c' "$mnt")"
want=$(((7000 * 4 + 4095) / 4096))
[ "$bsize" = 4096 ] || fail "block size $bsize"
[ "$blocks" = "$want" ] || fail "small model: $blocks blocks, want $want"
[ "$free" = 0 ] && [ "$avail" = 0 ] || fail "free $free, available $avail: want 0"
[ "$files" -ge 3 ] || fail "$files files"
df "$mnt" | tail -1 | awk '{ exit !($3 == $2 && $4 == 0) }' || fail "df: $(df "$mnt" | tail -1)"

mnt=$W/huge
gguffs_mount "$W/huge.gguf" "$mnt"
[ "$(stat -c %s "$mnt/x")" = $(((2 ** 61 - 1) * 4)) ] || fail "x: size $(stat -c %s "$mnt/x")"
blocks=$(stat -f -c %b "$mnt")
# Saturated: at least (2^64 - 1) / 4096 blocks; wrapped, it would be tiny.
[ "${#blocks}" -ge 16 ] && [ "$blocks" -ge 4503599627370495 ] ||
    fail "huge model: $blocks blocks (the sum wrapped)"
df "$mnt" >/dev/null || fail "df fails on the huge model"
echo ok
