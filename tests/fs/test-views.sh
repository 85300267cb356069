#!/usr/bin/env bash
# The views of a mount: .npy/ through numpy.load (plain and mmap),
# .safetensors/model.safetensors through a reader written from the
# published format (and by mmap), .meta/ against the metadata written; odd
# offsets and lengths across segment boundaries (header/data,
# tensor/tensor) read with O_DIRECT; bytes equal to the raw tensor files.
. "$SRCDIR/tests/fs/common.sh"

check=$SRCDIR/tests/fs/views_check.py
"$PYTHON" "$check" write "$W" || fail "cannot write the models"
mnt=$W/mnt
gguffs_mount "$W/views.gguf" "$mnt" -o backend=cpu
"$PYTHON" "$check" check "$W" "$mnt" || fail "the views differ"

grep -q '^# views: .*\.npy/.*\.safetensors/model\.safetensors.*\.meta/model\.json' "$mnt/.control" ||
    fail ".control does not list the views"
[ "$(ls "$mnt" | wc -l)" = 9 ] || fail "plain ls shows $(ls "$mnt" | wc -l) entries, want the 9 tensors"
for d in .npy .safetensors .meta .meta/kv; do
    [ "$(stat -c %F "$mnt/$d")" = directory ] || fail "$d is not a directory"
done
# A tensor file's xattrs hold on its .npy too.
[ "$("$PYTHON" -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.gguf.type").decode())' \
    "$mnt/.npy/token_embd.weight.npy")" = q4_0 ] || fail "no user.gguf.type on the .npy file"

# --help shows the views, each with a line to use it.
help=$("$GGUFFS" --help) || fail "--help failed"
for want in ".npy/NAME.npy" "numpy.load('MNT/.npy/" ".safetensors/model.safetensors" \
    "safe_open('MNT/.safetensors/model.safetensors'" ".meta/model.json" "split model"; do
    grep -qF -- "$want" <<<"$help" || fail "--help does not show '$want'"
done

ints=$W/ints
gguffs_mount "$W/ints.gguf" "$ints" -o backend=cpu
"$PYTHON" "$check" ints "$W" "$ints" || fail "the integer views differ"
echo ok
