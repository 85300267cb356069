#!/usr/bin/env bash
# Split models (gguf-split's layout, written by tests/tools/gguf_writer.py):
# three shards mount as one model, by the first shard's path or a middle
# one's; every tensor file and view is byte-exact against a mount of the
# same model unsplit; .control lists the shards; a shard truncated under
# the mount is EIO with the shard named; and each broken set is refused
# with one line naming the file, exit status 1.
. "$SRCDIR/tests/fs/common.sh"

"$PYTHON" - "$W" <<'PY' || fail "cannot write the models"
import os, sys
import numpy as np
from gguf_writer import GGUFWriter, GT, GV, random_tensor_bytes, split_path, split_writers, write_split

d = sys.argv[1]
rng = np.random.default_rng(5)

def model(names):
    w = GGUFWriter()
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, "split test")
    types = [GT.Q4_0, GT.F32, GT.F16, GT.BF16, GT.Q8_0, GT.Q6_K, GT.I32]
    for i, name in enumerate(names):
        t = types[i % len(types)]
        ne = [256, 1 + i % 3]
        w.add_tensor(name, t, ne, random_tensor_bytes(t, ne[0] * ne[1], rng)
                     if t != GT.I32 else rng.integers(-9, 9, ne[0] * ne[1]).astype("<i4").tobytes())
    return w

names = ["token_embd.weight"] + ["blk.%d.w%d" % (i // 3, i % 3) for i in range(9)] + ["output.weight"]
w = model(names)
w.write(os.path.join(d, "whole.gguf"))
for sub in ("ok", "trunc"):
    os.mkdir(os.path.join(d, sub))
    write_split(w, os.path.join(d, sub, "m"), 3)
# The refusals, each in its own directory.
bad = {
    "missing": None,
    "count": {1: {"split.count": 4}},
    "number": {2: {"split.no": 1}},
    "total": {i: {"split.tensors.count": len(names) + 1} for i in range(3)},
    "total1": {2: {"split.tensors.count": len(names) + 1}},
    "nokey": {1: {"split.no": None}},
}
for sub, keys in bad.items():
    os.mkdir(os.path.join(d, sub))
    write_split(w, os.path.join(d, sub, "m"), 3, keys)
os.remove(os.path.join(d, "missing", "m-00003-of-00003.gguf"))
# split.count as a u32 in shard 2: not gguf-split's type.
os.mkdir(os.path.join(d, "type"))
for i, s in enumerate(split_writers(w, 3)):
    if i == 1:
        s.kvs = [kv for kv in s.kvs if kv[0] != b"split.count"]
        s.add_kv("split.count", GV.UINT32, 3)
    s.write(split_path(os.path.join(d, "type", "m"), i, 3))
os.mkdir(os.path.join(d, "dup"))
write_split(model(names[:5] + [names[1]] + names[6:]), os.path.join(d, "dup", "m"), 3)
PY

whole=$W/mnt-whole
gguffs_mount "$W/whole.gguf" "$whole" -o backend=cpu

# same MNT: every file of the unsplit mount but .meta/ (offsets and the
# split.* keys differ) is byte-exact in MNT, and MNT has no other file; a
# file that cannot be read there (an integer tensor's raw file in a float
# dtype) cannot be read in MNT either.
same() {
    local mnt=$1 f n=0
    while IFS= read -r f; do
        if ! cat "$whole/$f" >/dev/null 2>&1; then
            cat "$mnt/$f" >/dev/null 2>&1 && fail "$mnt/$f reads, the unsplit model's does not"
        else
            cmp -s "$whole/$f" "$mnt/$f" || fail "$mnt/$f differs from the unsplit model's"
        fi
        n=$((n + 1))
    done < <(cd "$whole" && find . -type f ! -path './.meta/*' ! -name .control)
    [ "$n" -ge 23 ] || fail "only $n files compared"
    [ "$(cd "$mnt" && find . -type f ! -path './.meta/*' | wc -l)" = $((n + 1)) ] ||
        fail "$mnt holds other files than the unsplit model"
    echo "$mnt: $n files equal to the unsplit model's"
}

first=$W/mnt-first
gguffs_mount "$W/ok/m-00001-of-00003.gguf" "$first" -o backend=cpu
same "$first"
for i in 1 2 3; do
    grep -qx "# shard $i of 3: $W/ok/m-0000$i-of-00003.gguf" "$first/.control" ||
        fail ".control does not list shard $i"
done
"$PYTHON" - "$first" <<'PY' || fail "model.json of the split model"
import json, sys
m = json.load(open(sys.argv[1] + "/.meta/model.json"))
assert len(m["tensors"]) == 11, len(m["tensors"])
assert m["metadata"]["general.name"]["value"] == "split test"
assert m["metadata"]["split.count"] == {"type": "u16", "value": 3}, m["metadata"]["split.count"]
assert [p.rsplit("/", 1)[1] for p in m["shards"]] == ["m-%05d-of-00003.gguf" % i for i in (1, 2, 3)]
assert [t["shard"] for t in m["tensors"]] == [0] * 3 + [1] * 4 + [2] * 4, [t["shard"] for t in m["tensors"]]
# Each tensor file names the shard its user.gguf.offset counts in, and the
# stored bytes are there.
import os
checked = 0
for t in m["tensors"]:
    f = os.path.join(sys.argv[1], t["name"])
    if not os.path.exists(f):
        continue
    shard = os.getxattr(f, "user.gguf.file").decode()
    assert shard == m["shards"][t["shard"]], (t["name"], shard)
    off = int(os.getxattr(f, "user.gguf.offset"))
    assert off == t["offset"], (t["name"], off, t["offset"])
    if t["type"] == "f32":
        with open(shard, "rb") as s, open(f, "rb") as g:
            s.seek(off)
            want = g.read()
            assert s.read(len(want)) == want, t["name"]
        checked += 1
assert checked > 0, "no f32 tensor to check against its shard"
PY

middle=$W/mnt-middle
# backend auto: where a GPU decodes Q4_0, its windows read the shards too
gguffs_mount "$W/ok/m-00002-of-00003.gguf" "$middle" -o dtype=bf16
whole16=$W/mnt-whole16
gguffs_mount "$W/whole.gguf" "$whole16" -o backend=cpu -o dtype=bf16
whole=$whole16 same "$middle"

# A shard truncated under the mount: its tensors fail with EIO, named.
trunc=$W/mnt-trunc
gguffs_mount "$W/trunc/m-00001-of-00003.gguf" "$trunc" -o backend=cpu
truncate -s 100 "$W/trunc/m-00003-of-00003.gguf"
cat "$trunc/output.weight" >/dev/null 2>&1 && fail "a tensor of a truncated shard was read"
grep -q "shard $W/trunc/m-00003-of-00003.gguf changed while mounted (size" "$trunc/.control" ||
    fail ".control does not name the truncated shard"
cat "$trunc/token_embd.weight" >/dev/null || fail "a tensor of an intact shard failed"

# refused DIR SHARD WANT: mounting DIR's shard SHARD fails with one line
# that names the file WANT.
refused() {
    local out=$W/out rc=0
    mkdir -p "$W/mnt-bad"
    "$GGUFFS" "$W/$1/m-0000$2-of-00003.gguf" "$W/mnt-bad" >"$out" 2>&1 || rc=$?
    mountpoint -q "$W/mnt-bad" && fusermount3 -u "$W/mnt-bad"
    [ "$rc" = 1 ] || fail "$1: exit status $rc, want 1: $(cat "$out")"
    [ "$(wc -l <"$out")" = 1 ] || fail "$1: not one line: $(cat "$out")"
    if ! grep -qF -- "$W/$1/$3" "$out" || ! grep -qE -- "$4" "$out"; then
        fail "$1: the message does not name $3 and say /$4/: $(cat "$out")"
    fi
    echo "$1: $(cat "$out")"
}
refused missing 1 m-00003-of-00003.gguf "shard 3 of 3 is missing"
refused missing 2 m-00003-of-00003.gguf "shard 3 of 3 is missing"
refused count 1 m-00002-of-00003.gguf "split keys disagree"
refused number 1 m-00003-of-00003.gguf "split keys disagree"
refused number 3 m-00003-of-00003.gguf "the name says shard 3 of 3"
refused total 1 m-00001-of-00003.gguf "hold 11 tensors, split.tensors.count says 12"
refused total1 1 m-00003-of-00003.gguf "split keys disagree"
refused type 1 m-00002-of-00003.gguf "split.count has value type 4, not u16"
refused nokey 2 m-00002-of-00003.gguf "split.no is missing"
refused dup 1 m-00002-of-00003.gguf "tensor 'blk.0.w0' is also in $W/dup/m-00001-of-00003.gguf"
echo ok
