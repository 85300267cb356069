#!/usr/bin/env bash
# A real mount of a small model: listing, attributes, contents through cat,
# numpy.fromfile and numpy.memmap against references computed independently
# with numpy, extended attributes, and the control file before and after.
. "$SRCDIR/tests/lib/common.sh"

basic_model
m=$W/mnt
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu

echo "== listing"
want=$(cut -f1 "$W/ref/manifest.tsv" | sort)
got=$(ls "$m")
[ "$got" = "$want" ] || fail "ls shows
$got
instead of
$want"
ls -a "$m" | grep -qx '.control' || fail "ls -a does not show .control"
ls "$m" | grep -q '^\.' && fail "plain ls shows a dot file"
# readdir order is the file's tensor order
[ "$(ls -U "$m" | tr '\n' ' ')" = "$(cut -f1 "$W/ref/manifest.tsv" | tr '\n' ' ')" ] ||
    fail "ls -U order is not the model's tensor order: $(ls -U "$m" | tr '\n' ' ')"

echo "== attributes"
[ "$(stat -c %a "$m")" = 555 ] || fail "root mode is $(stat -c %a "$m"), not 555"
mtime=$(stat -c %y "$W/basic.gguf")
while IFS=$'\t' read -r name type n shape; do
    f=$m/$name
    [ "$(stat -c %s "$f")" = $((n * 4)) ] || fail "$name: size $(stat -c %s "$f"), want $((n * 4))"
    [ "$(stat -c %a "$f")" = 444 ] || fail "$name: mode $(stat -c %a "$f")"
    [ "$(stat -c %F "$f")" = "regular file" ] || fail "$name: not a regular file"
    [ "$(stat -c %h "$f")" = 1 ] || fail "$name: nlink $(stat -c %h "$f")"
    [ "$(stat -c %y "$f")" = "$mtime" ] || fail "$name: mtime $(stat -c %y "$f"), model's is $mtime"
    "$PYTHON" - "$f" "$name" "$type" "$shape" <<'PY' || fail "$name: extended attributes"
import os, sys
f, name, typ, shape = sys.argv[1:]
x = {k: os.getxattr(f, k).decode() for k in os.listxattr(f)}
assert x["user.gguf.name"] == name, x
assert x["user.gguf.type"] == typ, x
assert x["user.gguf.shape"] == shape, x
assert int(x["user.gguf.offset"]) > 0, x
assert os.path.isabs(x["user.gguf.file"]) and os.path.isfile(x["user.gguf.file"]), x
PY
done <"$W/ref/manifest.tsv"

echo "== control file before any read"
cat "$m/.control" >"$W/control0" || fail "cannot read .control"
head -1 "$W/control0" | grep -q '^# ' || fail ".control does not start with '#' lines"
grep -qx $'tensor\ttype\telements\tshape\tpath\treason\treads\tbytes\tpushed' "$W/control0" ||
    fail ".control has no header row"
grep -q "^# model: .*basic.gguf" "$W/control0" || fail ".control does not name the model"
while IFS=$'\t' read -r name type n shape; do
    [ "$(control_field "$W/control0" "$name" path)" = unread ] || fail "$name: not unread at start"
    [ "$(control_field "$W/control0" "$name" type)" = "$type" ] || fail "$name: type in .control"
    [ "$(control_field "$W/control0" "$name" elements)" = "$n" ] || fail "$name: elements"
    [ "$(control_field "$W/control0" "$name" shape)" = "$shape" ] || fail "$name: shape"
done <"$W/ref/manifest.tsv"

echo "== contents"
for r in "$W"/ref/*.weight; do
    name=$(basename "$r")
    cat "$m/$name" >"$W/cat.out" || fail "cat $name failed"
    cmp "$r" "$W/cat.out" || fail "$name: cat differs from the reference"
done
"$PYTHON" - "$m" "$W/ref" <<'PY' || fail "numpy reads differ from the references"
import os, sys
import numpy as np
mnt, ref = sys.argv[1:]
for name in sorted(os.listdir(ref)):
    if name == "manifest.tsv":
        continue
    want = np.fromfile(os.path.join(ref, name), dtype="<f4")
    a = np.fromfile(os.path.join(mnt, name), dtype="<f4")
    m = np.memmap(os.path.join(mnt, name), dtype="<f4", mode="r")
    for how, got in (("fromfile", a), ("memmap", m)):
        if got.tobytes() != want.tobytes():
            sys.exit("%s: numpy.%s differs" % (name, how))
    # A strided walk through the map touches pages out of order.
    idx = np.arange(len(want))[::-997]
    assert m[idx].tobytes() == want[idx].tobytes(), name
print("numpy.fromfile and numpy.memmap match for", len(os.listdir(ref)) - 1, "tensors")
PY

echo "== undecodable tensors fail with EIO and say why"
for name in no_decoder.weight mystery.weight; do
    err=$(cat "$m/$name" 2>&1 >/dev/null) && fail "reading $name succeeded"
    echo "$err" | grep -q "Input/output error" || fail "$name: '$err' is not EIO"
done

echo "== control file after the reads"
cat "$m/.control" >"$W/control1"
while IFS=$'\t' read -r name type n shape; do
    path=$(control_field "$W/control1" "$name" path)
    reads=$(control_field "$W/control1" "$name" reads)
    bytes=$(control_field "$W/control1" "$name" bytes)
    reason=$(control_field "$W/control1" "$name" reason)
    case $type in
    f32) want=passthrough ;;
    q8_1 | type77) want=error ;;
    *) want=cpu ;;
    esac
    [ "$path" = "$want" ] || fail "$name: path '$path', want '$want'"
    [ "$reads" -ge 1 ] || fail "$name: reads $reads"
    if [ "$want" = error ]; then
        [ "$bytes" = 0 ] || fail "$name: failed reads counted $bytes bytes"
    else
        [ "$bytes" -ge $((n * 4)) ] || fail "$name: bytes $bytes < $((n * 4))"
        [ "$reason" = - ] || fail "$name: reason '$reason'"
    fi
done <"$W/ref/manifest.tsv"
[ "$(control_field "$W/control1" no_decoder.weight reason)" = "type q8_1 has no FP32 decoder" ] ||
    fail "no_decoder.weight: reason '$(control_field "$W/control1" no_decoder.weight reason)'"
[ "$(control_field "$W/control1" mystery.weight reason)" = "unknown type id 77" ] ||
    fail "mystery.weight: reason '$(control_field "$W/control1" mystery.weight reason)'"

echo "== statfs"
stat -f -c '%b %c' "$m" >/dev/null || fail "statfs failed"

gguffs_umount "$m"
mountpoint -q "$m" && fail "$m still mounted"
echo "basic: passed"
