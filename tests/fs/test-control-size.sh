#!/usr/bin/env bash
# .control reports the size of the text an open would read now, and the
# open that follows a stat reads exactly that: cp, tar and rsync copy the
# whole text, find does not call it empty, file calls it text.
. "$SRCDIR/tests/fs/common.sh"

model=$W/many.gguf
many_tensors "$model" 50
mnt=$W/mnt
gguffs_mount "$model" "$mnt" -o backend=cpu
cat "$mnt/blk.3.w" >/dev/null

size=$(stat -c %s "$mnt/.control")
[ "$size" -gt 0 ] || fail ".control reports size $size"
cat "$mnt/.control" >"$W/cat"
[ "$(stat -c %s "$W/cat")" = "$size" ] ||
    fail ".control: stat says $size bytes, cat read $(stat -c %s "$W/cat")"
[ -z "$(find "$mnt" -maxdepth 1 -name .control -empty)" ] || fail "find calls .control empty"

cp "$mnt/.control" "$W/cp" || fail "cp .control failed"
cmp "$W/cat" "$W/cp" || fail "cp copied other bytes than cat read"

mkdir "$W/x"
tar -C "$mnt" -cf "$W/c.tar" .control 2>"$W/tar.err" || fail "tar failed: $(cat "$W/tar.err")"
[ ! -s "$W/tar.err" ] || fail "tar warned: $(cat "$W/tar.err")"
tar -C "$W/x" -xf "$W/c.tar" || fail "tar -x failed"
cmp "$W/cat" "$W/x/.control" || fail "tar stored other bytes than cat read"

if command -v rsync >/dev/null; then
    rsync "$mnt/.control" "$W/rsync" || fail "rsync failed"
    cmp "$W/cat" "$W/rsync" || fail "rsync copied other bytes"
fi
if command -v file >/dev/null; then
    file -b "$mnt/.control" | grep -qi text || fail "file says: $(file -b "$mnt/.control")"
fi

# A read between stat and open changes the text; the size follows it.
cat "$mnt/blk.9.w" >/dev/null
size2=$(stat -c %s "$mnt/.control")
[ "$size2" -gt "$size" ] || fail "size did not follow the report: $size -> $size2"
[ "$(cat "$mnt/.control" | wc -c)" = "$size2" ] || fail "read length differs from $size2"
echo ok
