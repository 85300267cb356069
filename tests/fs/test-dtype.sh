#!/usr/bin/env bash
# -o dtype=f16 and -o dtype=bf16 end to end: every tensor file, .npy file
# and the safetensors file is elements x 2 bytes and holds the reference
# computed in tests/fs/dtype_check.py from the f32 mount's bytes (NaN
# payloads, +-inf, subnormals, +-0, ties both ways, 65504..65536); tensors
# stored in the mount's dtype pass through bit for bit; integer and f64
# tensors keep their dtype and stored bytes in every mount.
. "$SRCDIR/tests/fs/common.sh"

check=$SRCDIR/tests/fs/dtype_check.py
"$PYTHON" "$check" write "$W" || fail "cannot write the model"
gguffs_mount "$W/dtype.gguf" "$W/f32" -o backend=cpu
"$PYTHON" "$check" ints "$W" "$W/f32" || fail "integer tensors in the f32 mount"
for dt in f16 bf16; do
    gguffs_mount "$W/dtype.gguf" "$W/$dt" -o backend=cpu -o dtype=$dt
    "$PYTHON" "$check" check "$W" "$W/f32" "$W/$dt" $dt || fail "dtype=$dt differs from the reference"
    grep -qx "# output dtype: $dt" "$W/$dt/.control" || fail ".control does not say dtype $dt"
    [ "$(control_field "$W/$dt/.control" stored_$dt path)" = passthrough ] ||
        fail "stored_$dt was not passed through"
done
echo ok
