#!/usr/bin/env bash
# Tensor names that cannot be file names as they are ('/', '%', a leading
# dot, "..", ".control", control bytes) appear under the documented mapping,
# can be read, and give back their original name in user.gguf.name.
. "$SRCDIR/tests/mount/common.sh"

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
echo "names: passed"
