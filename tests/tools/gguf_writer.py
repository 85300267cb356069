#!/usr/bin/env python3
"""gguf_writer.py - write GGUF model files (versions 2 and 3) for the gguffs tests.

Module:
    from gguf_writer import GGUFWriter, GT, GV, random_tensor_bytes
    w = GGUFWriter(version=3, alignment=None)
    w.add_kv("general.name", GV.STRING, "demo")
    w.add_kv("some.list", GV.ARRAY, (GV.UINT8, [1, 2, 3]))
    w.add_kv("nested", GV.ARRAY, (GV.ARRAY, [(GV.INT32, [1]), (GV.STRING, ["a"])]))
    w.add_tensor("blk.0.attn_q.weight", GT.Q4_0, [64, 2], data)   # ne[0] first
    w.write(path)            # or w.build() -> bytes (w.layout tells where things are)

Split models in gguf-split's layout (PREFIX-%05d-of-%05d.gguf):
    paths = write_split(w, "dir/model", 3)     # w's tensors in 3 shards
    write_split(w, "dir/model", 3, keys={1: {"split.no": 2}})   # a bad shard

Models too large to build in memory: add_tensor(..., deferred=True) records
a tensor without its data, and write_stream(f, fill) writes the header, then
calls fill(f, tensor) to write each tensor's bytes (tensor["size"] of them).
header_bytes(n_tensors, n_kv) and enc_str() serve tests that write
deliberately truncated files by hand.

An array value is a pair (element type, list of elements); an element of an
array of arrays is itself such a pair, to any depth.

The file layout is the one ggml writes: header, key/values, tensor infos, zero
padding up to the next multiple of the alignment, then each tensor's data
padded to the alignment. general.alignment (u32) is written when an alignment
is given to the constructor.

CLI:
    gguf_writer.py sample OUT                 the small demo model
    gguf_writer.py random OUT --seed N [--types q4_0,f16,...] [--alignment A]
                   [--max-elements N] [--tensors N] [--version 2|3] [--nested]

`random` writes random shapes (1-4 dims, ne0 a multiple of the block size),
random valid blocks of every requested type with the hard cases mixed in, and
metadata of every GGUF type. Nested arrays (--nested) are valid GGUF but ggml's
own reader refuses them, so they are off by default.
"""

import argparse
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32


class GT:
    """ggml tensor type ids (ggml.h, enum ggml_type)."""

    F32 = 0
    F16 = 1
    Q4_0 = 2
    Q4_1 = 3
    Q5_0 = 6
    Q5_1 = 7
    Q8_0 = 8
    Q8_1 = 9
    Q2_K = 10
    Q3_K = 11
    Q4_K = 12
    Q5_K = 13
    Q6_K = 14
    Q8_K = 15
    IQ2_XXS = 16
    IQ2_XS = 17
    IQ3_XXS = 18
    IQ1_S = 19
    IQ4_NL = 20
    IQ3_S = 21
    IQ2_S = 22
    IQ4_XS = 23
    I8 = 24
    I16 = 25
    I32 = 26
    I64 = 27
    F64 = 28
    IQ1_M = 29
    BF16 = 30
    TQ1_0 = 34
    TQ2_0 = 35
    MXFP4 = 39


# id -> (ggml name, elements per block, bytes per block)
TYPE_INFO = {
    GT.F32: ("f32", 1, 4),
    GT.F16: ("f16", 1, 2),
    GT.Q4_0: ("q4_0", 32, 18),
    GT.Q4_1: ("q4_1", 32, 20),
    GT.Q5_0: ("q5_0", 32, 22),
    GT.Q5_1: ("q5_1", 32, 24),
    GT.Q8_0: ("q8_0", 32, 34),
    GT.Q8_1: ("q8_1", 32, 36),
    GT.Q2_K: ("q2_K", 256, 84),
    GT.Q3_K: ("q3_K", 256, 110),
    GT.Q4_K: ("q4_K", 256, 144),
    GT.Q5_K: ("q5_K", 256, 176),
    GT.Q6_K: ("q6_K", 256, 210),
    GT.Q8_K: ("q8_K", 256, 292),
    GT.IQ2_XXS: ("iq2_xxs", 256, 66),
    GT.IQ2_XS: ("iq2_xs", 256, 74),
    GT.IQ3_XXS: ("iq3_xxs", 256, 98),
    GT.IQ1_S: ("iq1_s", 256, 50),
    GT.IQ4_NL: ("iq4_nl", 32, 18),
    GT.IQ3_S: ("iq3_s", 256, 110),
    GT.IQ2_S: ("iq2_s", 256, 82),
    GT.IQ4_XS: ("iq4_xs", 256, 136),
    GT.I8: ("i8", 1, 1),
    GT.I16: ("i16", 1, 2),
    GT.I32: ("i32", 1, 4),
    GT.I64: ("i64", 1, 8),
    GT.F64: ("f64", 1, 8),
    GT.IQ1_M: ("iq1_m", 256, 56),
    GT.BF16: ("bf16", 1, 2),
    GT.TQ1_0: ("tq1_0", 256, 54),
    GT.TQ2_0: ("tq2_0", 256, 66),
    GT.MXFP4: ("mxfp4", 32, 17),
}

# The types gguffs decodes (and `random` writes by default).
SUPPORTED_TYPES = [
    GT.F32, GT.F16, GT.BF16, GT.Q4_0, GT.Q4_1, GT.Q5_0, GT.Q5_1, GT.Q8_0,
    GT.Q2_K, GT.Q3_K, GT.Q4_K, GT.Q5_K, GT.Q6_K, GT.Q8_K, GT.IQ4_NL, GT.IQ4_XS,
]

# Byte offsets, inside one block, of the fp16 scale fields. The hard cases
# (negative, subnormal, +-0, +-Inf, NaN) are planted there.
FP16_FIELDS = {
    GT.Q4_0: [0], GT.Q4_1: [0, 2], GT.Q5_0: [0], GT.Q5_1: [0, 2], GT.Q8_0: [0],
    GT.Q8_1: [0, 2], GT.Q2_K: [80, 82], GT.Q3_K: [108], GT.Q4_K: [0, 2],
    GT.Q5_K: [0, 2], GT.Q6_K: [208], GT.IQ2_XXS: [0], GT.IQ2_XS: [0],
    GT.IQ3_XXS: [0], GT.IQ1_S: [0], GT.IQ4_NL: [0], GT.IQ3_S: [0], GT.IQ2_S: [0],
    GT.IQ4_XS: [0], GT.TQ1_0: [52], GT.TQ2_0: [64],
}
FP32_FIELDS = {GT.Q8_K: [0]}


def type_by_name(name):
    for tid, (tname, _, _) in TYPE_INFO.items():
        if tname.lower() == name.lower():
            return tid
    raise ValueError("unknown ggml type %r" % name)


def tensor_nbytes(type_id, ne):
    _, belems, bbytes = TYPE_INFO[type_id]
    n = 1
    for x in ne:
        n *= x
    if ne[0] % belems:
        raise ValueError("ne0 %d is not a multiple of the block size %d" % (ne[0], belems))
    return n // belems * bbytes


class GV:
    """GGUF metadata value types (gguf.h, enum gguf_type)."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


_SCALAR_FMT = {
    GV.UINT8: "<B", GV.INT8: "<b", GV.UINT16: "<H", GV.INT16: "<h",
    GV.UINT32: "<I", GV.INT32: "<i", GV.FLOAT32: "<f", GV.BOOL: "<B",
    GV.UINT64: "<Q", GV.INT64: "<q", GV.FLOAT64: "<d",
}

_GV_NAMES = {
    "u8": GV.UINT8, "uint8": GV.UINT8, "i8": GV.INT8, "int8": GV.INT8,
    "u16": GV.UINT16, "uint16": GV.UINT16, "i16": GV.INT16, "int16": GV.INT16,
    "u32": GV.UINT32, "uint32": GV.UINT32, "i32": GV.INT32, "int32": GV.INT32,
    "f32": GV.FLOAT32, "float32": GV.FLOAT32, "bool": GV.BOOL,
    "str": GV.STRING, "string": GV.STRING, "arr": GV.ARRAY, "array": GV.ARRAY,
    "u64": GV.UINT64, "uint64": GV.UINT64, "i64": GV.INT64, "int64": GV.INT64,
    "f64": GV.FLOAT64, "float64": GV.FLOAT64,
}


def _vtype(v):
    if isinstance(v, str):
        return _GV_NAMES[v.lower()]
    return int(v)


def enc_str(s):
    """A GGUF string: u64 length, then the bytes (no NUL)."""
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def enc_value(vtype, value):
    """The encoded value of type `vtype`, without its own type tag.

    An array is (element type, items); its encoding is the element type (u32),
    the count (u64) and each item encoded the same way, so an array of arrays
    nests naturally. A float given as an int is taken as raw bits."""
    vtype = _vtype(vtype)
    if vtype == GV.STRING:
        return enc_str(value)
    if vtype == GV.ARRAY:
        etype, items = value
        etype = _vtype(etype)
        parts = [struct.pack("<IQ", etype, len(items))]
        parts += [enc_value(etype, it) for it in items]
        return b"".join(parts)
    if vtype == GV.BOOL:
        return struct.pack("<B", 1 if value else 0)
    if vtype in (GV.FLOAT32, GV.FLOAT64) and isinstance(value, (int, np.integer)) \
            and not isinstance(value, bool):
        return struct.pack("<I" if vtype == GV.FLOAT32 else "<Q", int(value))
    if vtype in _SCALAR_FMT:
        return struct.pack(_SCALAR_FMT[vtype], value)
    raise ValueError("unknown GGUF value type %d" % vtype)


def align_up(x, a):
    return (x + a - 1) // a * a


def header_bytes(n_tensors, n_kv, version=3, magic=GGUF_MAGIC):
    """The 24-byte GGUF header."""
    return magic + struct.pack("<IQQ", version, n_tensors, n_kv)


class GGUFWriter:
    """Collects key/values and tensors, then writes one GGUF file.

    Fields a test may override before build() to make a malformed file:
    magic, version, n_tensors_override, n_kv_override, data_pad_override."""

    def __init__(self, version=3, alignment=None):
        self.magic = GGUF_MAGIC
        self.version = version
        self.alignment = alignment
        self.kvs = []  # (key bytes, encoded "type tag + value")
        self.tensors = []  # dicts: name, type, ne, data, offset (None: computed)
        self.n_tensors_override = None
        self.n_kv_override = None
        self.data_pad_override = None
        self.layout = {}
        if alignment is not None:
            self.add_kv("general.alignment", GV.UINT32, alignment)

    def add_kv(self, key, vtype, value):
        vtype = _vtype(vtype)
        self.add_kv_raw(key, struct.pack("<I", vtype) + enc_value(vtype, value))

    def add_kv_raw(self, key, raw):
        """A key with its type tag and value given as raw bytes."""
        kb = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        self.kvs.append((kb, bytes(raw)))

    def add_tensor(self, name, type_id, ne, data=None, offset=None, n_dims=None, deferred=False):
        """Add a tensor; ne = [ne0, ne1, ...] with ne0 contiguous. data is the
        raw block bytes (zeros when None). offset (relative to the data
        section) and n_dims override the computed values for malformed files.
        deferred: no data now; write_stream() asks for it."""
        ne = [int(x) for x in ne]
        nb = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        if deferred:
            self.tensors.append(dict(name=nb, type=int(type_id), ne=ne, data=None,
                                     size=tensor_nbytes(type_id, ne), offset=offset,
                                     n_dims=n_dims))
            return
        if data is None:
            data = bytes(tensor_nbytes(type_id, ne)) if type_id in TYPE_INFO else b""
        data = bytes(data)
        if type_id in TYPE_INFO and offset is None and n_dims is None:
            want = tensor_nbytes(type_id, ne)
            if len(data) != want:
                raise ValueError("tensor %r: %d data bytes, expected %d" % (name, len(data), want))
        self.tensors.append(dict(name=nb, type=int(type_id), ne=ne, data=data, size=len(data),
                                 offset=offset, n_dims=n_dims))

    def _align(self):
        return self.alignment if self.alignment is not None else DEFAULT_ALIGNMENT

    def _header(self):
        n_t = len(self.tensors) if self.n_tensors_override is None else self.n_tensors_override
        n_kv = len(self.kvs) if self.n_kv_override is None else self.n_kv_override
        return header_bytes(n_t, n_kv, self.version, self.magic)

    def _place_tensors(self):
        """Data-section offsets: each tensor at the next multiple of the alignment."""
        a, pos, offs = max(self._align(), 1), 0, []
        for t in self.tensors:
            offs.append(pos if t["offset"] is None else t["offset"])
            pos = align_up(pos + t["size"], a)
        return offs

    def _prefix(self, lay):
        """Header, key/values, tensor infos and the padding before the data;
        fills lay and returns (bytes, data-section offsets of the tensors)."""
        out = bytearray(self._header())
        lay.update({"kv": [], "tensor_info": [], "tensor_data": []})
        for kb, raw in self.kvs:
            lay["kv"].append(len(out))
            out += enc_str(kb) + raw
        offs = self._place_tensors()
        for t, off in zip(self.tensors, offs):
            lay["tensor_info"].append(len(out))
            nd = len(t["ne"]) if t["n_dims"] is None else t["n_dims"]
            out += enc_str(t["name"]) + struct.pack("<I", nd)
            out += b"".join(struct.pack("<Q", x & (2**64 - 1)) for x in t["ne"])
            out += struct.pack("<IQ", t["type"] & 0xFFFFFFFF, off)
        a = max(self._align(), 1)
        pad = align_up(len(out), a) - len(out)
        if self.data_pad_override is not None:
            pad = self.data_pad_override
        out += bytes(pad)
        lay["data_offset"] = len(out)
        return out, offs

    def write_stream(self, f, fill):
        """Write the file to f (opened "wb"), calling fill(f, tensor) to
        write each tensor's tensor["size"] bytes; for models too large to
        build in memory. Tensors are placed in order, as build() does."""
        lay = {}
        out, offs = self._prefix(lay)
        f.write(out)
        a, pos = max(self._align(), 1), 0
        for t, off in zip(self.tensors, offs):
            if off != pos:
                raise ValueError("write_stream places tensors in order; no offset overrides")
            lay["tensor_data"].append(lay["data_offset"] + off)
            start = f.tell()
            if t["data"] is None:
                fill(f, t)
            else:
                f.write(t["data"])
            if f.tell() - start != t["size"]:
                raise ValueError("tensor %r: %d bytes written, expected %d"
                                 % (t["name"], f.tell() - start, t["size"]))
            pos = align_up(off + t["size"], a)
            f.write(bytes(pos - off - t["size"]))
        self.layout = lay

    def build(self):
        lay = {}
        out, offs = self._prefix(lay)
        if any(t["data"] is None for t in self.tensors):
            raise ValueError("build() needs every tensor's data; use write_stream()")
        a, data_offset = max(self._align(), 1), lay["data_offset"]
        for t, off in zip(self.tensors, offs):
            lay["tensor_data"].append(data_offset + off)
            end = data_offset + off + len(t["data"])
            if t["offset"] is not None and end > len(out) + (1 << 30):
                continue  # a deliberately absurd offset: no data to place
            if len(out) < end:
                out += bytes(end - len(out))
            out[data_offset + off:end] = t["data"]
        out += bytes(align_up(len(out) - data_offset, a) + data_offset - len(out))
        self.layout = lay
        return bytes(out)

    def write(self, path):
        data = self.build()
        with open(path, "wb") as f:
            f.write(data)
        return data


# ---------------------------------------------------------------- split models

SPLIT_KEYS = ("split.no", "split.count", "split.tensors.count")


def split_writers(w, n_shards, keys=None):
    """gguf-split's layout of the model in w: n_shards writers, the tensors
    cut in order into runs of nearly equal length. The first shard holds w's
    key/values, every shard then split.no (u16, 0-based), split.count (u16)
    and split.tensors.count (i32, the total). keys = {shard: {key: value}}
    replaces a split key's value in a shard (None leaves the key out)."""
    n = len(w.tensors)
    cuts = [n * i // n_shards for i in range(n_shards + 1)]
    out = []
    for i in range(n_shards):
        s = GGUFWriter(version=w.version)
        s.alignment = w.alignment
        if i == 0:
            s.kvs = list(w.kvs)
        elif w.alignment is not None:
            s.add_kv("general.alignment", GV.UINT32, w.alignment)
        vals = {"split.no": i, "split.count": n_shards, "split.tensors.count": n}
        vals.update((keys or {}).get(i, {}))
        for k, vt in zip(SPLIT_KEYS, (GV.UINT16, GV.UINT16, GV.INT32)):
            if vals[k] is not None:
                s.add_kv(k, vt, vals[k])
        s.tensors = [dict(t) for t in w.tensors[cuts[i]:cuts[i + 1]]]
        out.append(s)
    return out


def split_path(prefix, i, n_shards):
    """gguf-split's name of shard i (0-based) of n_shards."""
    return "%s-%05d-of-%05d.gguf" % (prefix, i + 1, n_shards)


def write_split(w, prefix, n_shards, keys=None):
    """Write split_writers(w, n_shards, keys) to their gguf-split names;
    returns the paths."""
    paths = []
    for i, s in enumerate(split_writers(w, n_shards, keys)):
        paths.append(split_path(prefix, i, n_shards))
        s.write(paths[-1])
    return paths


# ---------------------------------------------------------------- random data

_F16_SPECIALS = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x7D55,
                 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0200, 0x7BFF, 0xFBFF]
_F32_SPECIALS = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,
                 0xFFC00000, 0x7F800001, 0x7FA5A5A5, 0xFFC12345, 0x00000001,
                 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x7F7FFFFF, 0xFF7FFFFF]
_BF16_SPECIALS = [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0x7FA5,
                  0x0001, 0x8001, 0x007F, 0x807F, 0x7F7F, 0xFF7F]


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _plant(values, specials, rng, frac):
    """Put every special once (when there is room) and more at random."""
    n = len(values)
    if n == 0:
        return values
    sp = np.array(specials, dtype=values.dtype)
    if n >= 2 * len(sp):
        pos = rng.choice(n, size=len(sp), replace=False)
        values[pos] = sp
    mask = rng.random(n) < frac
    values[mask] = rng.choice(sp, size=int(mask.sum()))
    return values


def _random_f16_bits(n, rng, frac=0.15):
    """fp16 scales: mostly finite of either sign, some random bits, specials planted."""
    mag = np.exp2(rng.uniform(-12, 3, n)) * rng.choice([-1.0, 1.0], n)
    bits = mag.astype(np.float16).view(np.uint16).copy()
    rand = rng.random(n) < 0.05
    bits[rand] = rng.integers(0, 1 << 16, int(rand.sum()), dtype=np.uint32).astype(np.uint16)
    return _plant(bits, _F16_SPECIALS, rng, frac)


def _random_f32_bits(n, rng, frac=0.1):
    vals = (rng.standard_normal(n) * np.exp2(rng.uniform(-8, 8, n))).astype(np.float32)
    bits = vals.view(np.uint32).copy()
    rand = rng.random(n) < 0.05
    bits[rand] = rng.integers(0, 1 << 32, int(rand.sum()), dtype=np.uint64).astype(np.uint32)
    return _plant(bits, _F32_SPECIALS, rng, frac)


def _random_bf16_bits(n, rng, frac=0.1):
    bits = (_random_f32_bits(n, rng, 0.0) >> 16).astype(np.uint16)
    return _plant(bits, _BF16_SPECIALS, rng, frac)


def random_tensor_bytes(type_id, n_elements, rng=None):
    """Random valid data for n_elements of type_id (a multiple of its block
    size): random quant bits, nibble 8 (0x88 bytes) planted, and fp16/fp32
    scales that include negative, subnormal, +-0, +-Inf and NaN values. Plain
    F16/BF16/F32 data carries the same special values."""
    rng = _rng(rng)
    _, belems, bbytes = TYPE_INFO[type_id]
    if n_elements % belems:
        raise ValueError("%d elements is not a multiple of the block size %d" % (n_elements, belems))
    nblocks = n_elements // belems
    if type_id == GT.F32:
        return _random_f32_bits(n_elements, rng).astype("<u4").tobytes()
    if type_id == GT.F16:
        return _random_f16_bits(n_elements, rng).astype("<u2").tobytes()
    if type_id == GT.BF16:
        return _random_bf16_bits(n_elements, rng).astype("<u2").tobytes()
    blocks = rng.integers(0, 256, (nblocks, bbytes), dtype=np.uint16).astype(np.uint8)
    eights = rng.random((nblocks, bbytes)) < 0.04
    blocks[eights] = 0x88
    for off in FP16_FIELDS.get(type_id, []):
        b = _random_f16_bits(nblocks, rng).astype("<u2").view(np.uint8).reshape(nblocks, 2)
        blocks[:, off:off + 2] = b
    for off in FP32_FIELDS.get(type_id, []):
        b = _random_f32_bits(nblocks, rng).astype("<u4").view(np.uint8).reshape(nblocks, 4)
        blocks[:, off:off + 4] = b
    return blocks.tobytes()


def weight_like_bytes(type_id, n_elements, rng=None, center=0.0):
    """Data that looks like trained weights rather than test cases: plain
    types hold center + N(0, 0.02); quantized blocks hold random quant bits
    with small finite scales. For demos; tests use random_tensor_bytes."""
    rng = _rng(rng)
    _, belems, bbytes = TYPE_INFO[type_id]
    vals = (center + 0.02 * rng.standard_normal(n_elements)).astype(np.float32)
    if type_id == GT.F32:
        return vals.astype("<f4").tobytes()
    if type_id == GT.F16:
        return vals.astype("<f2").tobytes()
    if type_id == GT.BF16:
        return (vals.view(np.uint32) >> 16).astype("<u2").tobytes()
    nblocks = n_elements // belems
    blocks = rng.integers(0, 256, (nblocks, bbytes), dtype=np.uint16).astype(np.uint8)
    for off in FP16_FIELDS.get(type_id, []):
        d = (rng.uniform(0.5, 1.5, nblocks) * 0.004).astype("<f2")
        blocks[:, off:off + 2] = d.view(np.uint8).reshape(nblocks, 2)
    for off in FP32_FIELDS.get(type_id, []):
        d = (rng.uniform(0.5, 1.5, nblocks) * 0.004).astype("<f4")
        blocks[:, off:off + 4] = d.view(np.uint8).reshape(nblocks, 4)
    return blocks.tobytes()


# ---------------------------------------------------------------- models

def sample_writer():
    """The small demo model: a few tensors of common types, with metadata."""
    rng = np.random.default_rng(1234)
    w = GGUFWriter(version=3)
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, "gguffs-sample")
    w.add_kv("general.file_type", GV.UINT32, 2)
    w.add_kv("llama.context_length", GV.UINT32, 128)
    w.add_kv("llama.embedding_length", GV.UINT32, 64)
    w.add_kv("llama.block_count", GV.UINT32, 1)
    w.add_kv("llama.rope.freq_base", GV.FLOAT32, 10000.0)
    w.add_kv("llama.attention.layer_norm_rms_epsilon", GV.FLOAT32, 1e-5)
    w.add_kv("tokenizer.ggml.model", GV.STRING, "llama")
    w.add_kv("tokenizer.ggml.tokens", GV.ARRAY, (GV.STRING, ["<unk>", "<s>", "</s>", "hello"]))
    w.add_kv("tokenizer.ggml.scores", GV.ARRAY, (GV.FLOAT32, [0.0, 0.0, 0.0, -1.5]))
    w.add_kv("tokenizer.ggml.token_type", GV.ARRAY, (GV.INT32, [2, 3, 3, 1]))
    w.add_kv("tokenizer.ggml.add_bos_token", GV.BOOL, True)
    tensors = [
        ("token_embd.weight", GT.Q4_0, [64, 16]),
        ("blk.0.attn_norm.weight", GT.F32, [64]),
        ("blk.0.attn_q.weight", GT.F16, [64, 64]),
        ("blk.0.attn_k.weight", GT.BF16, [64, 32]),
        ("blk.0.attn_v.weight", GT.Q8_0, [64, 32]),
        ("blk.0.attn_output.weight", GT.Q4_1, [64, 64]),
        ("blk.0.ffn_gate.weight", GT.Q5_0, [64, 32]),
        ("blk.0.ffn_up.weight", GT.Q5_1, [64, 32]),
        ("blk.0.ffn_down.weight", GT.Q4_K, [256, 8]),
        ("blk.0.ffn_norm.weight", GT.F32, [64]),
        ("output_norm.weight", GT.F32, [64]),
        ("output.weight", GT.Q6_K, [256, 4]),
    ]
    for name, tid, ne in tensors:
        n = int(np.prod(ne))
        center = 1.0 if name.endswith("norm.weight") else 0.0
        w.add_tensor(name, tid, ne, weight_like_bytes(tid, n, rng, center))
    return w


_KINDS = ["attn_q", "attn_k", "attn_v", "attn_output", "attn_norm", "ffn_up",
          "ffn_down", "ffn_gate", "ffn_norm"]


def _random_shape(rng, belems, max_elements):
    """1-4 dims, ne0 a multiple of belems, product <= max(max_elements, belems)."""
    n_dims = int(rng.integers(1, 5))
    budget = max(max_elements, belems)
    rest = [int(rng.integers(1, 5)) for _ in range(1, n_dims)]
    if belems * int(np.prod(rest)) > budget:
        rest = [1] * len(rest)
    top = max(budget // (belems * int(np.prod(rest))), 1)
    return [belems * int(rng.integers(1, top + 1))] + rest


def _random_metadata(w, rng, nested):
    """One key of every GGUF value type, arrays of every element type."""
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, "gguffs-random \u00e9\u4e2d")
    ints = {GV.UINT8: (0, 255), GV.INT8: (-128, 127), GV.UINT16: (0, 65535),
            GV.INT16: (-32768, 32767), GV.UINT32: (0, 2**32 - 1),
            GV.INT32: (-2**31, 2**31 - 1), GV.UINT64: (0, 2**64 - 1),
            GV.INT64: (-2**63, 2**63 - 1)}
    names = {v: k for k, v in _GV_NAMES.items() if len(k) <= 4}
    for vt, (lo, hi) in ints.items():
        vals = [lo, hi] + [int(x) for x in rng.integers(lo, hi, 3, dtype=np.int64 if lo < 0 else np.uint64, endpoint=True)]
        w.add_kv("test.%s" % names[vt], vt, vals[2])
        w.add_kv("test.%s_array" % names[vt], GV.ARRAY, (vt, vals))
    f32 = [float(x) for x in rng.standard_normal(4).astype(np.float32)]
    w.add_kv("test.f32", GV.FLOAT32, f32[0])
    w.add_kv("test.f32_array", GV.ARRAY, (GV.FLOAT32, f32 + [0x7FC00000, 0x80000000]))
    w.add_kv("test.f64", GV.FLOAT64, float(rng.standard_normal()))
    w.add_kv("test.f64_array", GV.ARRAY, (GV.FLOAT64, [float(x) for x in rng.standard_normal(3)]))
    w.add_kv("test.bool", GV.BOOL, bool(rng.integers(0, 2)))
    w.add_kv("test.bool_array", GV.ARRAY, (GV.BOOL, [True, False, True]))
    w.add_kv("test.string", GV.STRING, "seed-dependent %d" % int(rng.integers(0, 1000)))
    w.add_kv("test.string_empty", GV.STRING, "")
    w.add_kv("test.string_array", GV.ARRAY, (GV.STRING, ["a", "", "\u00fcnicode", "x" * 70]))
    w.add_kv("test.empty_array", GV.ARRAY, (GV.UINT32, []))
    if nested:
        w.add_kv("test.nested_array", GV.ARRAY,
                 (GV.ARRAY, [(GV.UINT8, [1, 2]), (GV.STRING, ["x"]),
                             (GV.ARRAY, [(GV.FLOAT64, [1.5])]), (GV.INT64, [])]))


def random_writer(seed, types=None, alignment=None, max_elements=4096, n_tensors=None,
                  version=3, nested=False):
    """A random model: every type in `types` at least once, random shapes."""
    rng = np.random.default_rng(seed)
    types = list(types) if types else list(SUPPORTED_TYPES)
    w = GGUFWriter(version=version, alignment=alignment)
    _random_metadata(w, rng, nested)
    if n_tensors is None:
        n_tensors = len(types) + int(rng.integers(0, 4))
    chosen = types + [types[int(i)] for i in rng.integers(0, len(types), max(n_tensors - len(types), 0))]
    for i, tid in enumerate(chosen[:max(n_tensors, 0)]):
        ne = _random_shape(rng, TYPE_INFO[tid][1], max_elements)
        name = "blk.%d.%s.weight" % (i, _KINDS[int(rng.integers(0, len(_KINDS)))])
        w.add_tensor(name, tid, ne, random_tensor_bytes(tid, int(np.prod(ne)), rng))
    return w


def _main(argv):
    ap = argparse.ArgumentParser(description="Write GGUF files for the gguffs tests.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="the small demo model")
    s.add_argument("out")
    r = sub.add_parser("random", help="a random model of every supported type")
    r.add_argument("out")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--types", default=None, help="comma-separated ggml type names")
    r.add_argument("--alignment", type=int, default=None, help="general.alignment (u32)")
    r.add_argument("--max-elements", type=int, default=4096, help="elements per tensor, at most")
    r.add_argument("--tensors", type=int, default=None, help="number of tensors")
    r.add_argument("--version", type=int, default=3, choices=[2, 3])
    r.add_argument("--nested", action="store_true", help="add an array of arrays (ggml refuses these)")
    a = ap.parse_args(argv)
    if a.cmd == "sample":
        sample_writer().write(a.out)
        return 0
    types = [type_by_name(t) for t in a.types.split(",")] if a.types else None
    random_writer(a.seed, types, a.alignment, a.max_elements, a.tensors, a.version,
                  a.nested).write(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
