#!/usr/bin/env bash
# -o dtype=f16 and -o dtype=bf16 against torch itself: each tensor file of
# the f16/bf16 mount equals torch.from_numpy(f32).to(torch.float16 /
# torch.bfloat16) of the f32 mount's file, bit for bit (torch on the CPU is
# the conversion the docs promise), but for NaN payloads. torch's own are
# not the documented rule and not always a function of the value: torch
# 2.11 on a Xeon keeps an f16 NaN's top payload bits (F16C), and gives bf16
# NaN as 0xFFFF in its vector path but 0x7FC0 in its scalar one. Where
# torch gives a NaN, the mount must give a NaN (of the same sign for f16),
# and gives 0x7E00 | sign and 0x7FC0 (docs/usage.md). The model is tests/fs/dtype_check.py's:
# NaN payloads, infinities, subnormals, ties, 65504..65536, random values,
# stored f16/bf16. Skips (77) where no python with torch is found: set
# TORCH_PYTHON, or a python3 on PATH or /opt/torch/.venv/bin/python3 that
# imports torch is used, for the whole test.
tp=
for p in ${TORCH_PYTHON:-} "${PYTHON:-python3}" python3 /opt/torch/.venv/bin/python3; do
    if "$p" -c 'import torch, numpy' 2>/dev/null; then
        tp=$p
        break
    fi
done
if [ -z "$tp" ]; then
    echo "SKIP: no python with torch and numpy (set TORCH_PYTHON)"
    exit 77
fi
PYTHON=$tp
. "$SRCDIR/tests/fs/common.sh"

"$PYTHON" "$SRCDIR/tests/fs/dtype_check.py" write "$W" || fail "cannot write the model"
gguffs_mount "$W/dtype.gguf" "$W/f32" -o backend=cpu
for dt in f16 bf16; do
    gguffs_mount "$W/dtype.gguf" "$W/$dt" -o dtype=$dt
    "$tp" - "$W" "$dt" <<'PY' || fail "dtype=$dt differs from torch"
import os, sys
import numpy as np
import torch

d, dt = sys.argv[1], sys.argv[2]
tdt = torch.float16 if dt == "f16" else torch.bfloat16
n = payloads = 0
for name in sorted(os.listdir(d + "/f32")):
    if name.startswith(".") or name.startswith("stored_"):
        continue  # .control, the views; stored f16/bf16 are passed through
    try:
        f32 = np.frombuffer(open(os.path.join(d, "f32", name), "rb").read(), "<f4")
    except OSError:
        continue  # an integer tensor: no f32 image (EIO)
    w = torch.from_numpy(f32.copy()).to(tdt).view(torch.int16).numpy().view("<u2")
    g = np.frombuffer(open(os.path.join(d, dt, name), "rb").read(), "<u2")
    differ = g != w
    if dt == "f16":
        nan_w = ((w & 0x7C00) == 0x7C00) & ((w & 0x03FF) != 0)
        same_nan = nan_w & (g == ((w & 0x8000) | 0x7E00))
    else:
        nan_w = ((w & 0x7F80) == 0x7F80) & ((w & 0x007F) != 0)
        same_nan = nan_w & (g == 0x7FC0)
    payloads += int(np.count_nonzero(same_nan & differ))
    differ &= ~same_nan
    if differ.any():
        i = int(np.flatnonzero(differ)[0])
        sys.exit("FAIL: %s: [%d] 0x%08x -> 0x%04x, torch 0x%04x"
                 % (name, i, f32.view(np.uint32)[i], g[i], w[i]))
    n += 1
print("%s: %d tensors equal torch %s's conversion (%d NaNs where torch kept a payload)"
      % (dt, n, torch.__version__, payloads))
# Where torch's own NaN comes from: one value alone (scalar path) and the
# same value in a 64-value tensor (vector path).
x = np.full(64, np.uint32(0xfff3175c), np.uint32).view(np.float32)
one = int(torch.from_numpy(x[:1].copy()).to(tdt).view(torch.int16)[0]) & 0xffff
many = int(torch.from_numpy(x.copy()).to(tdt).view(torch.int16)[0]) & 0xffff
print("%s: torch turns NaN 0xfff3175c into 0x%04x alone, 0x%04x in a vector" % (dt, one, many))
PY
done
echo ok
