#!/usr/bin/env bash
# Tensor names that cannot be file names as they are. First the documented
# mapping ('/', '%', a leading dot, "..", ".control", control bytes): each
# name appears under its mapped file name, can be read, and gives back its
# original name in user.gguf.name. Then hostile names (path separators,
# "..", leading dots, '%', control bytes, a name that mimics .control): each
# is listed under its encoded name ('%', '/', bytes < 0x20, 0x7f and a
# leading '.' written %XX, upper-case hex), reads back correctly, carries
# its raw name in user.gguf.name, and nothing appears outside the mount.
. "$SRCDIR/tests/lib/common.sh"

echo "== the documented mapping"
"$PYTHON" "$MODEL_PY" names "$W/names.gguf" || fail "model.py names failed"
m=$W/mnt
gguffs_mount "$W/names.gguf" "$m" -o backend=cpu

"$PYTHON" - "$m" "$MODEL_PY" <<'PY' || fail "name mapping"
import importlib.util, os, sys
mnt, model_py = sys.argv[1:]
spec = importlib.util.spec_from_file_location("model", model_py)
model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model)
listed = os.listdir(mnt)
want = [f for _, f in model.NAMES]
assert sorted(listed) == sorted(want + [".control", ".npy", ".safetensors", ".meta"]), (sorted(listed), sorted(want))
for i, (name, fname) in enumerate(model.NAMES):
    p = os.path.join(mnt, fname)
    assert os.path.getsize(p) == (8 + i) * 4, fname
    assert len(open(p, "rb").read()) == (8 + i) * 4, fname
    got = os.getxattr(p, "user.gguf.name").decode()
    assert got == name, (fname, got, name)
    print("%-14r -> %s" % (name, fname))
# Names that are not in the mapping's image are simply absent.
for bad in ("a/b", "%2e.", "%2fb"):
    assert not os.path.exists(os.path.join(mnt, bad)), bad
PY
# The mapped ".control" tensor is not the control file.
[ "$(stat -c %s "$m/%2Econtrol")" = $((14 * 4)) ] || fail "%2Econtrol has the wrong size"
head -1 "$m/.control" | grep -q '^# ' || fail ".control is not the control file"
ls "$m" | grep -q '^\.' && fail "a tensor file name starts with a dot"
gguffs_umount "$m"

echo "== hostile names"
model=$WORK/model.gguf
mnt=$WORK/box/mnt # box holds nothing but the mount point
"$PYTHON" - "$SRCDIR/tests/tools" "$model" <<'PY' || fail "cannot write the model with hostile names"
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/../reliability")
from gguf_writer import GGUFWriter, random_tensor_bytes, GT
from hostile_names import NAMES
rng = np.random.default_rng(19)
w = GGUFWriter()
for i, name in enumerate(NAMES):
    t = (GT.F32, GT.Q4_0, GT.F16)[i % 3]
    w.add_tensor(name, t, [64], random_tensor_bytes(t, 64, rng))
w.write(sys.argv[2])
PY
gguffs_mount "$model" "$mnt"
ls -A "$WORK/box" >"$WORK/outside.before"

timeout 60 "$PYTHON" - "$mnt" "$WORK/box" <<'PY' || fail "hostile names are not listed as documented"
import os, sys
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests", "reliability"))
from hostile_names import NAMES, encode

mnt, work = sys.argv[1], sys.argv[2]
bad = 0
def check(ok, msg):
    global bad
    if not ok:
        print("FAIL", msg)
        bad += 1

want = {encode(n): n for n in NAMES}
listed = set(os.listdir(mnt))
special = {".control", ".npy", ".safetensors", ".meta"}  # the control file, the views
check(listed == set(want) | special,
      "listing %r, expected %r" % (sorted(listed), sorted(set(want) | special)))
for e in listed:
    check("/" not in e and e not in (".", ".."), "entry %r" % e)
    check(not e.startswith(".") or e in special, "hidden entry %r" % e)
    check(all(0x20 <= ord(c) != 0x7f for c in e), "control character in %r" % e)
    p = os.path.join(mnt, e)
    check(os.path.realpath(p) == os.path.join(os.path.realpath(mnt), e), "%r resolves outside" % e)
for enc, raw in want.items():
    p = os.path.join(mnt, enc)
    st = os.stat(p)
    check(st.st_size == 64 * 4, "%r has size %d" % (enc, st.st_size))
    try:
        x = os.getxattr(p, "user.gguf.name")
        check(x == raw.encode(), "%r: user.gguf.name is %r, expected %r" % (enc, x, raw))
    except OSError as err:
        check(False, "%r: getxattr user.gguf.name: %s" % (enc, err))
# The raw names mean nothing to the mount: no directory 'a', no '../x'.
for raw in NAMES:
    if "/" in raw and not raw.startswith("../"):
        check(not os.path.exists(os.path.join(mnt, raw)), "raw path %r exists" % raw)
check(not os.path.exists(os.path.join(work, "x")), "../x escaped the mount")
# `find` sees one level of regular files beside the views.
for root, dirs, files in os.walk(mnt):
    if root == mnt:
        dirs[:] = [d for d in dirs if d not in special]
    check(root == mnt and not dirs, "directory under the mount: %s %s" % (root, dirs))
print("names: %d hostile names listed and checked, %d failures" % (len(NAMES), bad))
sys.exit(1 if bad else 0)
PY
timeout 60 "$STRESS" verify "$model" "$mnt" >"$WORK/verify" ||
    fail "tensors with hostile names do not read back: $(grep -v '^ok' "$WORK/verify")"
ls -A "$WORK/box" | diff "$WORK/outside.before" - ||
    fail "entries appeared next to the mount point"
n=$(cd "$SRCDIR/tests/reliability" && "$PYTHON" -c 'import hostile_names; print(len(hostile_names.NAMES))')
views=(-name .npy -o -name .safetensors -o -name .meta)
[ -z "$(find "$mnt" -mindepth 1 \( "${views[@]}" \) -prune -o ! -type f -print)" ] ||
    fail "find lists other than regular files"
[ "$(find "$mnt" -mindepth 1 \( "${views[@]}" \) -prune -o -type f -printf x | wc -c)" -eq $((n + 1)) ] ||
    fail "find does not list exactly $n tensor files and .control"
gguffs_umount "$mnt"
echo "names: passed"
