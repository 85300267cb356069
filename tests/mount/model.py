#!/usr/bin/env python3
"""model.py - models for the mount tests, with independent FP32 references.

    model.py basic OUT REFDIR   a model of F32, F16, BF16, Q8_0 and Q4_0
                                tensors (one Q4_0 tensor over 1 MiB of FP32),
                                one tensor of a type with no FP32 decoder
                                (q8_1: ggml has none either) and one of an unknown type id (77).
                                REFDIR/<file name> holds the expected FP32
                                bytes of each decodable tensor, computed here
                                with numpy from the block layout (not by
                                gguffs' code); REFDIR/manifest.tsv lists
                                file name, type, elements, shape.
    model.py names OUT          tensors whose names need the file name mapping.

The reference decoders are the textbook formulas (int to float, then one
fp32 multiply), valid for finite scales; the data here has finite scales of
both signs, zeros and subnormals. NaN and Inf scales are covered against
ggml itself by the conformance tests.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gguf_writer import GGUFWriter, GT, GV  # noqa: E402


def finite_f16(n, rng):
    """fp16 scales: finite, both signs, with zeros and subnormals mixed in."""
    v = (np.exp2(rng.uniform(-16, 4, n)) * rng.choice([-1.0, 1.0], n)).astype(np.float16)
    bits = v.view(np.uint16).copy()
    special = np.array([0x0000, 0x8000, 0x0001, 0x83FF, 0x7BFF, 0xFBFF], dtype=np.uint16)
    pick = rng.random(n) < 0.1
    bits[pick] = rng.choice(special, int(pick.sum()))
    return bits


def f32_tensor(n, rng):
    vals = (rng.standard_normal(n) * 8).astype(np.float32)
    vals[: min(n, 2)] = [-0.0, 0.0][: min(n, 2)]
    return vals.astype("<f4").tobytes(), vals


def f16_tensor(n, rng):
    bits = finite_f16(n, rng)
    return bits.astype("<u2").tobytes(), bits.view(np.float16).astype(np.float32)


def bf16_tensor(n, rng):
    f = (rng.standard_normal(n) * 100).astype(np.float32)
    bits = (f.view(np.uint32) >> 16).astype(np.uint16)
    ref = (bits.astype(np.uint32) << 16).view(np.float32)
    return bits.astype("<u2").tobytes(), ref


def q8_0_tensor(n, rng):
    nb = n // 32
    d = finite_f16(nb, rng)
    qs = rng.integers(-128, 128, (nb, 32)).astype(np.int8)
    raw = np.zeros((nb, 34), dtype=np.uint8)
    raw[:, 0:2] = d.astype("<u2").view(np.uint8).reshape(nb, 2)
    raw[:, 2:] = qs.view(np.uint8)
    df = d.view(np.float16).astype(np.float32)
    ref = qs.astype(np.float32) * df[:, None]
    return raw.tobytes(), ref.reshape(-1)


def q4_0_tensor(n, rng):
    nb = n // 32
    d = finite_f16(nb, rng)
    qs = rng.integers(0, 256, (nb, 16)).astype(np.uint8)
    qs[rng.random((nb, 16)) < 0.05] = 0x88  # nibble 8: -0.0 with a negative scale
    raw = np.zeros((nb, 18), dtype=np.uint8)
    raw[:, 0:2] = d.astype("<u2").view(np.uint8).reshape(nb, 2)
    raw[:, 2:] = qs
    df = d.view(np.float16).astype(np.float32)
    lo = ((qs & 15).astype(np.int32) - 8).astype(np.float32) * df[:, None]
    hi = ((qs >> 4).astype(np.int32) - 8).astype(np.float32) * df[:, None]
    return raw.tobytes(), np.concatenate([lo, hi], axis=1).reshape(-1)


BUILDERS = {GT.F32: f32_tensor, GT.F16: f16_tensor, GT.BF16: bf16_tensor,
            GT.Q8_0: q8_0_tensor, GT.Q4_0: q4_0_tensor}
TYPE_NAMES = {GT.F32: "f32", GT.F16: "f16", GT.BF16: "bf16", GT.Q8_0: "q8_0",
              GT.Q4_0: "q4_0"}

BASIC = [
    ("token_embd.weight", GT.Q4_0, [4096, 96]),  # 1.5 MiB of FP32
    ("blk.0.attn_norm.weight", GT.F32, [1001, 3]),
    ("blk.0.attn_q.weight", GT.F16, [4000]),
    ("blk.0.attn_k.weight", GT.BF16, [77, 5]),
    ("blk.0.attn_v.weight", GT.Q8_0, [4096, 3]),
    ("blk.0.ffn_up.weight", GT.Q4_0, [64, 3, 2, 2]),
    ("output_norm.weight", GT.F32, [1]),
]


def basic(out, refdir):
    rng = np.random.default_rng(20240601)
    w = GGUFWriter(version=3)
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, "mount-test")
    os.makedirs(refdir, exist_ok=True)
    rows = []
    for name, t, ne in BASIC:
        n = int(np.prod(ne))
        raw, ref = BUILDERS[t](n, rng)
        w.add_tensor(name, t, ne, raw)
        ref.astype("<f4").tofile(os.path.join(refdir, name))
        rows.append("%s\t%s\t%d\t%s" % (name, TYPE_NAMES[t], n, ",".join(map(str, ne))))
    w.add_tensor("no_decoder.weight", GT.Q8_1, [256])
    w.add_tensor("mystery.weight", 77, [64], b"\x00" * 64)
    rows.append("no_decoder.weight\tq8_1\t256\t256")
    rows.append("mystery.weight\ttype77\t64\t64")
    w.write(out)
    with open(os.path.join(refdir, "manifest.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


# Tensor names and the file names docs/usage.md promises for them.
NAMES = [
    ("plain.weight", "plain.weight"),
    ("a/b/c", "a%2Fb%2Fc"),
    ("100%", "100%25"),
    (".hidden", "%2Ehidden"),
    ("..", "%2E."),
    (".", "%2E"),
    (".control", "%2Econtrol"),
    ("tab\there", "tab%09here"),
    ("caf\u00e9", "caf\u00e9"),
    ("%2F", "%252F"),
]


def names(out):
    rng = np.random.default_rng(7)
    w = GGUFWriter(version=3)
    for i, (name, _) in enumerate(NAMES):
        raw, _ = f32_tensor(8 + i, rng)
        w.add_tensor(name, GT.F32, [8 + i], raw)
    w.write(out)


def main(argv):
    if len(argv) == 4 and argv[1] == "basic":
        basic(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "names":
        names(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
