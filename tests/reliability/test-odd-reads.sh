#!/usr/bin/env bash
# Odd reads. First dd and pread at odd offsets and of odd lengths, through
# the page cache and with O_DIRECT (which hands the daemon the exact offset
# and length), compared with the same bytes sliced out of a whole-file read
# and with independent references. Then zero-length reads, reads at and far
# past the end, and 1-byte reads at every position of small tensors
# (buffered and O_DIRECT) compared with a whole read and with the scalar
# reference; the same for .control.
. "$SRCDIR/tests/lib/common.sh"

basic_model
m=$W/mnt
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu

# dd_both NAME FLAGS ARGS...: dd from the mount (with FLAGS as iflag) and
# from the whole-file copy; the outputs must match.
dd_both() {
    local name=$1 flags=$2
    shift 2
    dd if="$m/$name" of="$W/a" ${flags:+iflag=$flags} "$@" status=none ||
        fail "dd $name $flags $* failed"
    dd if="$W/whole/$name" of="$W/b" "$@" status=none
    cmp -s "$W/a" "$W/b" || fail "$name: dd ${flags:-(cached)} $* differs from the whole-file read"
}

mkdir -p "$W/whole"
for r in "$W"/ref/*.weight; do
    name=$(basename "$r")
    cat "$m/$name" >"$W/whole/$name" || fail "cat $name"
    cmp -s "$r" "$W/whole/$name" || fail "$name: whole-file read differs from the reference"
done

for r in "$W"/ref/*.weight; do
    name=$(basename "$r")
    for flags in "" direct; do
        dd_both "$name" "$flags" bs=1 skip=5 count=13
        dd_both "$name" "$flags" bs=1 skip=1 count=3
        dd_both "$name" "$flags" bs=7 skip=3 count=50
        dd_both "$name" "$flags" bs=7
        dd_both "$name" "$flags" bs=4093 skip=1 count=5
        dd_both "$name" "$flags" bs=131073 skip=1 count=3
        dd_both "$name" "$flags" bs=1048577
        dd_both "$name" "$flags" bs=3 skip=100000000 # past the end: nothing
    done
    echo "$name: dd reads match"
done

echo "== random preads with O_DIRECT"
"$PYTHON" - "$m" "$W/whole" <<'PY' || fail "random O_DIRECT preads differ"
import os, random, sys
mnt, whole = sys.argv[1:]
rng = random.Random(5)
for name in sorted(os.listdir(whole)):
    data = open(os.path.join(whole, name), "rb").read()
    fd = os.open(os.path.join(mnt, name), os.O_RDONLY | os.O_DIRECT)
    try:
        for _ in range(150):
            off = rng.randrange(0, len(data) + 9)
            n = rng.choice([1, 2, 3, 5, 7, 31, 129, 4097, rng.randrange(1, 3 << 20)])
            got = os.pread(fd, n, off)
            if got != data[off:off + n]:
                sys.exit("%s: pread(%d, %d) differs" % (name, n, off))
    finally:
        os.close(fd)
print("random preads match")
PY

gguffs_umount "$m"

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
