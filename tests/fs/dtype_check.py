#!/usr/bin/env python3
"""dtype_check.py - the output dtypes (-o dtype=f16|bf16) against a
reference computed here.

    dtype_check.py write DIR                 DIR/dtype.gguf (and its layout.json)
    dtype_check.py check DIR F32MNT MNT f16|bf16
    dtype_check.py ints DIR F32MNT           integer tensors in an f32 mount

The reference is numpy bit arithmetic on the f32 mount's bytes (which the
conformance tests hold to ggml's dequantization), written from the rules
PyTorch's CPU conversion follows: round to nearest even; f16 overflow to
+-inf; NaN -> 0x7E00 | sign (f16), 0x7FC0 (bf16). numpy's own float16
cast is not used. Every tensor file, .npy file and the safetensors file is
checked: sizes (elements x 2), bytes, NPY descr (<f2; <u2 for bf16, as the
bf16 bit patterns), safetensors dtype. A tensor stored in the mount's dtype
is its stored bytes; integer and f64 tensors keep theirs everywhere.
"""
import json
import os
import struct
import sys

import numpy as np
from gguf_writer import GGUFWriter, GT, random_tensor_bytes

# The values the issue names, as f32 bits.
SPECIAL = [
    0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FA5A5A5, 0xFFFFFFFF, 0x7FBFFFFF,  # NaN
    0x7F800000, 0xFF800000,  # +-inf
    0x00000000, 0x80000000,  # +-0
    0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00400000,  # f32 subnormals
    0x33000000, 0x33000001, 0x33800000, 0x33C00000, 0x387FC000, 0x387FE000, 0x38800000,  # f16 subnormal range
    0xB3C00000, 0xB87FE000, 0x387FF000,
    0x3F801000, 0x3F803000, 0xBF801000, 0xBF803000,  # f16 ties, down and up to even
    0x3F808000, 0x3F818000, 0xBF808000, 0xBF818000,  # bf16 ties, down and up to even
    0x3F801001, 0x3F807FFF,  # just past / before ties
    0x477FE000, 0x477FE001, 0x477FEFFF, 0x477FF000, 0xC77FF000, 0x477FF001, 0x47800000,  # 65504..65536
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,  # bf16 overflow edge
]
# name, type, ne
TENSORS = [
    ("special", GT.F32, [len(SPECIAL)]),
    ("random_f32", GT.F32, [4096, 3]),
    ("q4_0", GT.Q4_0, [64, 3]),
    ("q8_0", GT.Q8_0, [32, 5]),
    ("q6_k", GT.Q6_K, [256, 2]),
    ("stored_f16", GT.F16, [100, 3]),
    ("stored_bf16", GT.BF16, [77, 2]),
]
INTS = [("i8", GT.I8, [9], "|i1", "I8"), ("i16", GT.I16, [3, 3], "<i2", "I16"),
        ("i32", GT.I32, [5], "<i4", "I32"), ("i64", GT.I64, [2, 2], "<i8", "I64"),
        ("f64", GT.F64, [6], "<f8", "F64")]


def fail(msg):
    sys.exit("FAIL: " + msg)


def random_f32_bits(rng, n):
    """Values over the whole range, every rounding case likely: random
    exponents and mantissas, exact ties and NaN payloads mixed in."""
    u = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    ties = rng.random(n) < 0.2
    u[ties] = (u[ties] & ~np.uint32(0x1FFF)) | np.uint32(0x1000)
    ties = rng.random(n) < 0.2
    u[ties] = (u[ties] & ~np.uint32(0xFFFF)) | np.uint32(0x8000)
    near = rng.random(n) < 0.3  # exponents around f16's range
    exp = rng.integers(100, 145, int(near.sum())).astype(np.uint32)
    u[near] = (u[near] & np.uint32(0x807FFFFF)) | (exp << np.uint32(23))
    return u


def write(d):
    rng = np.random.default_rng(3)
    w = GGUFWriter()
    for name, t, ne in TENSORS:
        n = int(np.prod(ne))
        if name == "special":
            data = np.array(SPECIAL, "<u4").tobytes()
        elif name == "random_f32":
            data = random_f32_bits(rng, n).astype("<u4").tobytes()
        else:
            data = random_tensor_bytes(t, n, rng)
        w.add_tensor(name, t, ne, data)
    for name, t, ne, descr, _ in INTS:
        n = int(np.prod(ne))
        w.add_tensor(name, t, ne, rng.integers(-2**15, 2**15, n).astype(descr).tobytes())
    w.write(os.path.join(d, "dtype.gguf"))
    layout = {t["name"].decode(): (off, t["size"])
              for t, off in zip(w.tensors, w.layout["tensor_data"])}
    with open(os.path.join(d, "layout.json"), "w") as f:
        json.dump(layout, f)


def ref_f16(u):
    u = u.astype(np.uint32)
    sign = ((u >> 16) & 0x8000).astype(np.uint32)
    a = u & 0x7FFFFFFF
    out = np.zeros(len(u), np.uint32)
    nan = a > 0x7F800000
    inf = ~nan & (a >= 0x477FF000)  # 65520 and up: +-inf
    norm = ~nan & ~inf & (a >= 0x38800000)  # 2^-14 and up: normal f16
    sub = ~nan & ~inf & ~norm
    an = a[norm].astype(np.uint64)
    r = an + 0xFFF + ((an >> 13) & 1)  # round to nearest even at bit 13
    out[norm] = ((r >> 13) - (112 << 10)).astype(np.uint32)
    # Below 2^-14: the result counts 2^-24 units. The value is
    # m * 2^(e-150) with the implicit bit in m; shift right by 126-e, RNE.
    asub = a[sub].astype(np.uint64)
    e = (asub >> 23).astype(np.int64)
    m = (asub & 0x7FFFFF) | np.where(e > 0, 1 << 23, 0).astype(np.uint64)
    shift = (126 - np.maximum(e, 1)).astype(np.uint64)  # e=0: subnormal f32, exponent 1
    shift = np.minimum(shift, 63)
    q = m >> shift
    rem = m - (q << shift)
    half = np.uint64(1) << (shift - np.uint64(1))
    up = (rem > half) | ((rem == half) & ((q & 1) == 1))
    out[sub] = (q + up).astype(np.uint32)
    out[inf] = 0x7C00
    out[nan] = 0x7E00
    return (out | sign).astype(np.uint16)


def ref_bf16(u):
    u = u.astype(np.uint64)
    out = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    out[(u & 0x7FFFFFFF) > 0x7F800000] = 0x7FC0
    return out.astype(np.uint16)


def self_check():
    """The reference agrees with numpy's own casts where those are defined
    the same way (finite values and infinities)."""
    rng = np.random.default_rng(1)
    u = np.concatenate([np.array(SPECIAL, np.uint32), random_f32_bits(rng, 1 << 18)])
    f = u.view(np.float32)
    ok = ~np.isnan(f)
    with np.errstate(over="ignore"):
        want = f[ok].astype(np.float16).view(np.uint16)
    if not np.array_equal(ref_f16(u)[ok], want):
        fail("the f16 reference disagrees with numpy's cast")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def expected(f32mnt, name, t, dt):
    stored = {GT.F16: "f16", GT.BF16: "bf16"}.get(t)
    if stored == dt:
        return STORED[name]
    u = np.frombuffer(read(os.path.join(f32mnt, name)), "<u4")
    return (ref_f16(u) if dt == "f16" else ref_bf16(u)).astype("<u2").tobytes()


def check(d, f32mnt, mnt, dt):
    self_check()
    blob = read(os.path.join(mnt, ".safetensors", "model.safetensors"))
    (n,) = struct.unpack("<Q", blob[:8])
    meta = json.loads(blob[8:8 + n])
    data = 8 + n
    descr, st = ("<f2", "F16") if dt == "f16" else ("<u2", "BF16")
    specials = 0
    for name, t, ne in TENSORS:
        want = expected(f32mnt, name, t, dt)
        n_el = int(np.prod(ne))
        raw = read(os.path.join(mnt, name))
        if len(raw) != n_el * 2 or os.path.getsize(os.path.join(mnt, name)) != n_el * 2:
            fail("%s: %d bytes, want %d" % (name, len(raw), n_el * 2))
        if raw != want:
            bad = np.flatnonzero(np.frombuffer(raw, "<u2") != np.frombuffer(want, "<u2"))
            i = int(bad[0])
            src = np.frombuffer(read(os.path.join(f32mnt, name)), "<u4")[i]
            fail("%s (%s): %d elements differ, the first [%d] 0x%08x -> 0x%04x, want 0x%04x"
                 % (name, dt, len(bad), i, src, np.frombuffer(raw, "<u2")[i],
                    np.frombuffer(want, "<u2")[i]))
        path = os.path.join(mnt, ".npy", name + ".npy")
        for mode in (None, "r"):
            a = np.load(path, mmap_mode=mode)
            if a.dtype != np.dtype(descr) or a.shape != tuple(reversed(ne)) or a.tobytes() != want:
                fail("%s: numpy.load(mmap_mode=%s): %s %s" % (path, mode, a.dtype, a.shape))
        e = meta[name]
        b, end = e["data_offsets"]
        if e["dtype"] != st or blob[data + b:data + end] != want:
            fail("%s: safetensors %r or its bytes differ" % (name, e))
        if name == "special":
            specials = len(SPECIAL)
    for name, t, ne, d_, s_ in INTS:
        path = os.path.join(mnt, ".npy", name + ".npy")
        a = np.load(path)
        if a.dtype != np.dtype(d_) or a.tobytes() != STORED[name]:
            fail("%s: .npy %s is not the stored values" % (name, a.dtype))
        e = meta[name]
        b, end = e["data_offsets"]
        if e["dtype"] != s_ or blob[data + b:data + end] != STORED[name]:
            fail("%s: safetensors %r or its bytes are not the stored values" % (name, e))
    print("%s: %d tensors match the reference (%d named cases), %d integer tensors stored"
          % (dt, len(TENSORS), specials, len(INTS)))


def check_ints_f32(mnt):
    """In an f32 mount too, integers and f64 keep their dtype and bytes."""
    blob = read(os.path.join(mnt, ".safetensors", "model.safetensors"))
    (n,) = struct.unpack("<Q", blob[:8])
    meta = json.loads(blob[8:8 + n])
    for name, t, ne, d_, s_ in INTS:
        a = np.load(os.path.join(mnt, ".npy", name + ".npy"), mmap_mode="r")
        b, end = meta[name]["data_offsets"]
        if a.dtype != np.dtype(d_) or a.tobytes() != STORED[name] or \
                blob[8 + n + b:8 + n + end] != STORED[name]:
            fail("%s: f32 mount does not serve the stored values" % name)


STORED = {}


def load_stored(d):
    """Each tensor's stored bytes, where write() put them."""
    model = read(os.path.join(d, "dtype.gguf"))
    for name, (off, size) in json.load(open(os.path.join(d, "layout.json"))).items():
        STORED[name] = model[off:off + size]


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "write":
        write(d)
        return
    load_stored(d)
    if cmd == "check":
        check(d, sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "ints":
        check_ints_f32(sys.argv[3])
        print("f32: integer and f64 tensors are their stored bytes")


if __name__ == "__main__":
    main()
