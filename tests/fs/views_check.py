#!/usr/bin/env python3
"""views_check.py - write models for the view tests and check a mount's views.

    views_check.py write DIR          DIR/views.gguf, DIR/ints.gguf, DIR/expect.json
    views_check.py check DIR MNT      the float model's views against the raw files
    views_check.py ints DIR MNT       the integer model's headers and stored bytes

The checks are independent of gguffs: the NPY header is read with numpy's
own reader, the safetensors file by a reader written here from the
published format, the metadata against what `write` put in the GGUF. Tensor
bytes are compared with the raw tensor files of the same mount, which the
conformance tests hold to ggml's dequantization.
"""
import io
import json
import mmap
import os
import random
import struct
import sys

import numpy as np
from gguf_writer import GGUFWriter, GT, GV, TYPE_INFO, random_tensor_bytes

FLOAT_TENSORS = [  # name, type, ne (ne0 first)
    ("token_embd.weight", GT.Q4_0, [64, 5]),
    ("blk.0.attn_norm.weight", GT.F32, [7]),
    ("blk.0.attn_q.weight", GT.F16, [3, 5, 2]),
    ("blk.0.attn_k.weight", GT.BF16, [11, 3]),
    ("blk.0.ffn_up.weight", GT.Q8_0, [32, 2, 2, 2]),
    ("blk.0.ffn_down.weight", GT.Q4_K, [256, 3]),
    ("output.weight", GT.Q6_K, [256]),
    ("name with space/and slash", GT.F32, [5, 1]),
]
# Listed as raw files and in model.json, left out of .npy/ and the
# safetensors file: no decoder for an unknown type id.
EXCLUDED = [("mystery.weight", 77, [64], "type77")]
INT_TENSORS = [
    ("i8", GT.I8, [5, 3], "|i1", "I8", "<i1"),
    ("i16", GT.I16, [7], "<i2", "I16", "<i2"),
    ("i32", GT.I32, [2, 3, 2], "<i4", "I32", "<i4"),
    ("i64", GT.I64, [3], "<i8", "I64", "<i8"),
    ("f64", GT.F64, [4, 2], "<f8", "F64", "<f8"),
]
# key, GGUF type, value, expected kv/ text, expected JSON value
KVS = [
    ("general.architecture", GV.STRING, "llama", "llama\n", "llama"),
    ("general.name", GV.STRING, "views \"test\"", "views \"test\"\n", "views \"test\""),
    ("general.file_type", GV.UINT32, 2, "2\n", 2),
    ("general.tags", GV.ARRAY, (GV.STRING, ["a", "b c"]), "a\nb c\n", ["a", "b c"]),
    ("llama.u8", GV.UINT8, 255, "255\n", 255),
    ("llama.i8", GV.INT8, -128, "-128\n", -128),
    ("llama.u16", GV.UINT16, 65535, "65535\n", 65535),
    ("llama.i16", GV.INT16, -32768, "-32768\n", -32768),
    ("llama.i32", GV.INT32, -7, "-7\n", -7),
    ("llama.u64", GV.UINT64, 2**64 - 1, "18446744073709551615\n", 2**64 - 1),
    ("llama.i64", GV.INT64, -(2**63), "-9223372036854775808\n", -(2**63)),
    ("llama.rms_norm_eps", GV.FLOAT32, 1e-6, "1e-06\n", 1e-6),
    ("llama.f32_half", GV.FLOAT32, 0.5, "0.5\n", 0.5),
    ("llama.f32_nan", GV.FLOAT32, 0x7FC00000, "nan\n", "nan"),
    ("llama.f32_ninf", GV.FLOAT32, 0xFF800000, "-inf\n", "-inf"),
    ("llama.f64", GV.FLOAT64, 0.1, "0.1\n", 0.1),
    ("llama.yes", GV.BOOL, True, "true\n", True),
    ("llama.no", GV.BOOL, False, "false\n", False),
    ("tokenizer.ggml.tokens", GV.ARRAY, (GV.STRING, ["<s>", "</s>", "h\u00e9llo"]),
     "<s>\n</s>\nh\u00e9llo\n", ["<s>", "</s>", "h\u00e9llo"]),
    ("tokenizer.ggml.big", GV.ARRAY, (GV.UINT32, list(range(20000)))),
    ("tokenizer.ggml.scores", GV.ARRAY, (GV.FLOAT32, [0.25, -1.5]), "0.25\n-1.5\n", [0.25, -1.5]),
    ("tokenizer.empty", GV.ARRAY, (GV.INT32, []), "", []),
    ("nested.array", GV.ARRAY, (GV.ARRAY, [(GV.INT32, [1, 2]), (GV.STRING, ["x"])]),
     "[1, 2]\n[\"x\"]\n", [[1, 2], ["x"]]),
    ("/odd.key", GV.STRING, "multi\nline", "multi\nline\n", "multi\nline"),
]
TYPE_NAMES = {GV.UINT8: "u8", GV.INT8: "i8", GV.UINT16: "u16", GV.INT16: "i16",
              GV.UINT32: "u32", GV.INT32: "i32", GV.FLOAT32: "f32", GV.BOOL: "bool",
              GV.STRING: "str", GV.ARRAY: "arr", GV.UINT64: "u64", GV.INT64: "i64",
              GV.FLOAT64: "f64"}


def file_name(name):
    """names.h: '%', '/', control bytes and a leading '.' percent-encoded."""
    out = []
    for i, b in enumerate(name.encode()):
        if b in b"%/" or b < 0x20 or b == 0x7F or (i == 0 and b == ord(".")):
            out.append("%%%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def write(d):
    rng = np.random.default_rng(7)
    w = GGUFWriter()
    for k in KVS:
        w.add_kv(k[0], k[1], k[2])
    for name, t, ne in FLOAT_TENSORS:
        n = int(np.prod(ne))
        w.add_tensor(name, t, ne, random_tensor_bytes(t, n, rng))
    for name, t, ne, _ in EXCLUDED:
        w.add_tensor(name, t, ne)
    w.write(os.path.join(d, "views.gguf"))
    expect = {"data_offset": w.layout["data_offset"],
              "offsets": w.layout["tensor_data"]}
    wi = GGUFWriter(alignment=64)
    for name, t, ne, _, _, np_t in INT_TENSORS:
        n = int(np.prod(ne))
        data = rng.integers(-100, 100, n).astype(np_t).tobytes()
        wi.add_tensor(name, t, ne, data)
    wi.write(os.path.join(d, "ints.gguf"))
    expect["ints"] = {t["name"].decode(): [off, t["size"]]
                      for t, off in zip(wi.tensors, wi.layout["tensor_data"])}
    with open(os.path.join(d, "expect.json"), "w") as f:
        json.dump(expect, f)


def fail(msg):
    sys.exit("FAIL: " + msg)


def direct_pread(path, length, off):
    """A read the daemon sees at exactly this offset and length."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        return os.pread(fd, length, off)
    finally:
        os.close(fd)


def check_odd_reads(path, want, boundaries, rng):
    """Reads of odd offsets and lengths across each boundary, O_DIRECT."""
    n = 0
    for b in boundaries:
        for _ in range(6):
            off = max(0, b - rng.randrange(1, 300))
            ln = rng.randrange(1, 700)
            got = direct_pread(path, ln, off)
            if got != want[off:off + ln]:
                fail("%s: %d bytes at %d (boundary %d) differ" % (path, ln, off, b))
            n += 1
    return n


def check_npy(mnt, rng):
    for name, t, ne in FLOAT_TENSORS:
        raw = open(os.path.join(mnt, file_name(name)), "rb").read()
        path = os.path.join(mnt, ".npy", file_name(name) + ".npy")
        shape = tuple(reversed(ne))
        for mode in (None, "r"):
            a = np.load(path, mmap_mode=mode)
            if a.dtype != np.dtype("<f4") or a.shape != shape:
                fail("%s: dtype %s shape %s, want <f4 %s" % (path, a.dtype, a.shape, shape))
            if a.tobytes() != raw:
                fail("%s: numpy.load(mmap_mode=%s) differs from the raw file" % (path, mode))
        whole = open(path, "rb").read()
        hlen = len(whole) - len(raw)
        if hlen % 64 or whole[:8] != b"\x93NUMPY\x01\x00" or whole[hlen - 1:hlen] != b"\n":
            fail("%s: header of %d bytes is not NPY 1.0 padded to 64" % (path, hlen))
        check_odd_reads(path, whole, [hlen, len(whole)], rng)
    for name, _, _, _ in EXCLUDED:
        if os.path.exists(os.path.join(mnt, ".npy", file_name(name) + ".npy")):
            fail("%s: an .npy file for a tensor that cannot be decoded" % name)
        if not os.path.exists(os.path.join(mnt, file_name(name))):
            fail("%s: no raw file" % name)


def read_safetensors(path):
    """The published format: u64 LE N, N bytes of JSON, the data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = blob[8:8 + n]
    if header[:1] != b"{" or (8 + n) % 8:
        fail("safetensors header: starts %r, data at %d" % (header[:1], 8 + n))
    meta = json.loads(header.decode("utf-8"))
    return blob, n, meta


def check_safetensors(mnt, d, rng):
    path = os.path.join(mnt, ".safetensors", "model.safetensors")
    blob, n, meta = read_safetensors(path)
    md = meta.pop("__metadata__")
    want_md = {"format": "pt", "general.architecture": "llama", "general.name": "views \"test\"",
               "general.file_type": "2", "general.tags": "[\"a\", \"b c\"]"}
    if md != want_md:
        fail("__metadata__ %r, want %r" % (md, want_md))
    if list(meta) != [t[0] for t in FLOAT_TENSORS]:
        fail("safetensors tensors %r are not the model's, in order" % list(meta))
    data = 8 + n
    at = 0
    bounds = [8, data]
    for name, t, ne in FLOAT_TENSORS:
        e = meta[name]
        raw = open(os.path.join(mnt, file_name(name)), "rb").read()
        if e["dtype"] != "F32" or e["shape"] != list(reversed(ne)):
            fail("%s: %r" % (name, e))
        b, end = e["data_offsets"]
        if b != at or end - b != len(raw):
            fail("%s: data_offsets %r, want [%d, %d)" % (name, e["data_offsets"], at, at + len(raw)))
        if blob[data + b:data + end] != raw:
            fail("%s: safetensors bytes differ from the raw file" % name)
        at = end
        bounds.append(data + end)
    if len(blob) != data + at:
        fail("file is %d bytes, header and data say %d" % (len(blob), data + at))
    # By mmap, as loaders read it.
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        e = meta["blk.0.attn_q.weight"]
        a = np.frombuffer(mm, dtype="<f4", count=(e["data_offsets"][1] - e["data_offsets"][0]) // 4,
                          offset=data + e["data_offsets"][0]).reshape(e["shape"])
        raw = np.fromfile(os.path.join(mnt, "blk.0.attn_q.weight"), "<f4")
        if a.tobytes() != raw.tobytes():
            fail("safetensors by mmap differs")
        del a
    check_safe_open(path, mnt)
    return check_odd_reads(path, blob, bounds, rng)


def check_safe_open(path, mnt):
    """The real reader, where the safetensors package is installed."""
    try:
        from safetensors import safe_open
    except ImportError:
        print("safetensors is not installed: safe_open not tried")
        return
    with safe_open(path, framework="numpy") as f:
        for name, _, ne in FLOAT_TENSORS:
            a = f.get_tensor(name)
            raw = np.fromfile(os.path.join(mnt, file_name(name)), "<f4")
            if a.shape != tuple(reversed(ne)) or a.tobytes() != raw.tobytes():
                fail("safe_open: %s differs" % name)
    print("safe_open reads every tensor")


def check_meta(mnt, d):
    expect = json.load(open(os.path.join(d, "expect.json")))
    m = json.load(open(os.path.join(mnt, ".meta", "model.json")))
    if (m["gguf_version"], m["alignment"], m["data_offset"]) != (3, 32, expect["data_offset"]):
        fail("model.json header %r" % {k: m[k] for k in ("gguf_version", "alignment")})
    if list(m["metadata"]) != [k[0] for k in KVS]:
        fail("model.json keys %r" % list(m["metadata"]))
    for k in KVS:
        key, vt, value = k[:3]
        got = m["metadata"][key]
        if got["type"] != TYPE_NAMES[vt]:
            fail("%s: type %r" % (key, got["type"]))
        want = k[4] if len(k) > 4 else value[1]
        if vt == GV.ARRAY and got["element_type"] != TYPE_NAMES[value[0]]:
            fail("%s: element type %r" % (key, got["element_type"]))
        if vt == GV.FLOAT32 and isinstance(want, float):
            ok = np.float32(got["value"]) == np.float32(want)
        else:
            ok = got["value"] == want
        if not ok:
            fail("%s: model.json value %r, want %r" % (key, got["value"], want))
        text = open(os.path.join(mnt, ".meta", "kv", file_name(key)), encoding="utf-8").read()
        want_text = k[3] if len(k) > 4 else "".join("%d\n" % x for x in value[1])
        if text != want_text:
            fail("kv/%s: %r, want %r" % (file_name(key), text[:200], want_text[:200]))
    names = {TYPE_INFO[t][0] for _, t, _ in FLOAT_TENSORS}
    for (name, t, ne), e, off in zip(FLOAT_TENSORS, m["tensors"], expect["offsets"]):
        want = {"name": name, "type": TYPE_INFO[t][0], "shape": list(reversed(ne)), "ne": ne,
                "elements": int(np.prod(ne)), "offset": off}
        got = {k: e[k] for k in want}
        if got != want:
            fail("model.json tensor %r, want %r" % (got, want))
    for (name, t, ne, tname), e in zip(EXCLUDED, m["tensors"][len(FLOAT_TENSORS):]):
        if (e["name"], e["type"], e["ne"]) != (name, tname, ne):
            fail("model.json lists %r for %s" % (e, name))
    if len(m["tensors"]) != len(FLOAT_TENSORS) + len(EXCLUDED):
        fail("model.json lists %d tensors" % len(m["tensors"]))
    return len(names)


def check_ints(d, mnt):
    expect = json.load(open(os.path.join(d, "expect.json")))["ints"]
    for name, t, ne, descr, st, np_t in INT_TENSORS:
        path = os.path.join(mnt, ".npy", name + ".npy")
        # The header alone, by O_DIRECT: a page-cache read would take data
        # with it, and fail with it where the data cannot be served.
        pre = direct_pread(path, 10, 0)
        (dlen,) = struct.unpack("<H", pre[8:10])
        f = io.BytesIO(pre + direct_pread(path, dlen, 10))
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(f)
        hlen = f.tell()
        if shape != tuple(reversed(ne)) or dtype != np.dtype(descr) or fortran or hlen % 64:
            fail("%s: NPY header %r %r %r at %d" % (name, shape, dtype, fortran, hlen))
        n = int(np.prod(ne)) * np.dtype(np_t).itemsize
        if os.path.getsize(path) != hlen + n:
            fail("%s: NPY size %d, want %d" % (name, os.path.getsize(path), hlen + n))
        # The read path serves stored integers bit for bit.
        off, size = expect[name]
        stored = open(os.path.join(d, "ints.gguf"), "rb").read()[off:off + size]
        if direct_pread(path, n, hlen) != stored or np.load(path).tobytes() != stored:
            fail("%s: NPY data is not the stored values" % name)
    path = os.path.join(mnt, ".safetensors", "model.safetensors")
    (hlen,) = struct.unpack("<Q", direct_pread(path, 8, 0))
    meta = json.loads(direct_pread(path, hlen, 8).decode("utf-8"))
    meta.pop("__metadata__")
    at = 0
    for name, t, ne, descr, st, np_t in INT_TENSORS:
        n = int(np.prod(ne)) * np.dtype(np_t).itemsize
        want = {"dtype": st, "shape": list(reversed(ne)), "data_offsets": [at, at + n]}
        if meta[name] != want:
            fail("%s: safetensors entry %r, want %r" % (name, meta[name], want))
        off, size = expect[name]
        stored = open(os.path.join(d, "ints.gguf"), "rb").read()[off:off + size]
        if direct_pread(path, n, 8 + hlen + at) != stored:
            fail("%s: safetensors data is not the stored values" % name)
        at += n


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "write":
        write(d)
    elif cmd == "check":
        rng = random.Random(11)
        check_npy(sys.argv[3], rng)
        n = check_safetensors(sys.argv[3], d, rng)
        check_meta(sys.argv[3], d)
        print("views match: %d tensors, %d odd reads across boundaries" % (len(FLOAT_TENSORS), n))
    elif cmd == "ints":
        check_ints(d, sys.argv[3])
        print("integer views: headers and stored bytes match")


if __name__ == "__main__":
    main()
