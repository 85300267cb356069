#!/usr/bin/env python3
"""make_hostile.py - write one malformed GGUF file per validation rule.

usage: make_hostile.py OUTDIR

Writes OUTDIR/NAME.gguf for each rule of docs/format.md, and OUTDIR/expect.tsv
with lines "NAME<TAB>substring the refusal message must contain". Every file
is a valid model from tests/tools/gguf_writer.py with one thing broken, either
through the writer's override fields or by patching bytes at the offsets the
writer reports in its layout.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gguf_writer import GGUFWriter, GT, GV, random_tensor_bytes  # noqa: E402


def base(alignment=None, n=2):
    """A small valid model: n f32 [8] tensors and two string keys."""
    w = GGUFWriter(version=3, alignment=alignment)
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, "hostile")
    for i in range(n):
        w.add_tensor("blk.%d.weight" % i, GT.F32, [8], random_tensor_bytes(GT.F32, 8, i))
    return w


def patched(w, patches):
    """Build w, then apply (offset or callable(layout), bytes) patches."""
    data = bytearray(w.build())
    for where, b in patches:
        off = where(w.layout) if callable(where) else where
        data[off:off + len(b)] = b
    return bytes(data)


def info_field(i, skip):
    """Offset of a field `skip` bytes past the name of tensor i's info."""
    return lambda lay, i=i, skip=skip: lay["tensor_info"][i] + 8 + len(b"blk.0.weight") + skip


def cases():
    out = {}

    def add(name, data, expect):
        out[name] = (data, expect)

    add("magic-short", b"GGU", "too short for the magic")
    add("magic-bad", patched(base(), [(0, b"GGML")]), "not a GGUF file: magic is 'GGML'")
    add("header-truncated", b"GGUF\x03\x00\x00\x00\x01\x00", "header: truncated: the file has 10 bytes")
    add("version-1", patched(base(), [(4, struct.pack("<I", 1))]), "GGUF version 1 is not supported")
    add("version-4", patched(base(), [(4, struct.pack("<I", 4))]), "unsupported GGUF version 4")
    add("big-endian", patched(base(), [(4, struct.pack(">I", 3))]),
        "big-endian GGUF is not supported")
    w = base()
    w.n_tensors_override = 1 << 40
    add("tensor-count-huge", w.build(), "tensor count 1099511627776 cannot fit in the file")
    w = base()
    w.n_kv_override = 1 << 62
    add("kv-count-huge", w.build(), "key/value count 4611686018427387904 cannot fit in the file")
    add("key-length-huge", patched(base(), [(lambda l: l["kv"][0], struct.pack("<Q", 1 << 60))]),
        "key/value 0: key length 1152921504606846976 exceeds the limit")
    add("key-length-past-end",
        patched(base(), [(lambda l: l["kv"][0], struct.pack("<Q", 1 << 20))]),
        "key/value 0: key length 1048576 exceeds the")
    w = base()
    w.add_kv_raw(b"", struct.pack("<I", GV.UINT8) + b"\x01")
    add("key-empty", w.build(), "key/value 2: empty key")
    w = base()
    w.add_kv_raw("bad.type", struct.pack("<I", 13) + bytes(8))
    add("value-type-unknown", w.build(), "key/value 2 'bad.type': value type 13 is not a GGUF")
    w = base()
    w.add_kv_raw("bad.array", struct.pack("<IIQ", GV.ARRAY, 42, 1) + bytes(8))
    add("array-type-unknown", w.build(), "array element type 42 is not a GGUF value type")
    w = base()
    w.add_kv_raw("bad.array", struct.pack("<IIQ", GV.ARRAY, GV.UINT64, 1 << 50))
    add("array-count-huge", w.build(), "array of 1125899906842624 u64 elements cannot fit")
    w = base()
    w.add_kv_raw("deep", struct.pack("<I", GV.ARRAY) + struct.pack("<IQ", GV.ARRAY, 1) * 12)
    add("array-nested-deep", w.build(), "arrays nested deeper than 8 levels")
    w = base()
    w.add_kv_raw("s", struct.pack("<IQ", GV.STRING, 1 << 61))
    add("string-length-huge", w.build(), "key/value 2 's': string value length 2305843009213693952")
    w = base()
    w.add_kv("general.name", GV.STRING, "again")
    add("key-duplicate", w.build(), "key/value 2 'general.name': duplicate key (first defined by "
        "key/value 1)")
    # ggml takes "general.alignment\0X" for its alignment (C string lookup)
    # and finds no duplicate (whole-string compare): data would be shifted.
    w = base()
    w.add_kv_raw(b"general.alignment\x00X", struct.pack("<II", GV.UINT32, 64))
    add("key-nul-alignment", w.build(), "key/value 2 'general.alignment\\x00X': key contains a "
        "NUL byte at offset 17 of 19")
    w = base(alignment=128)
    w.kvs.insert(0, (b"general.alignment\x00", struct.pack("<II", GV.UINT32, 64)))
    add("key-nul-before-alignment", w.build(), "key/value 0 'general.alignment\\x00': key "
        "contains a NUL byte")
    w = base()
    w.add_kv("general.alignment", GV.UINT64, 32)
    add("alignment-type", w.build(), "'general.alignment': must be of type u32, not u64")
    w = base()
    w.add_kv("general.alignment", GV.UINT32, 24)
    add("alignment-not-power", w.build(), "'general.alignment': alignment 24 is not a non-zero power of two")
    w = base()
    w.add_kv("general.alignment", GV.UINT32, 0)
    add("alignment-zero", w.build(), "'general.alignment': alignment 0 is not a non-zero power of two")
    w = base()
    w.add_tensor("x" * 64, GT.F32, [8])
    add("name-too-long", w.build(), "tensor 2 '" + "x" * 60 + "...': name is 64 bytes long")
    w = base()
    w.add_tensor("", GT.F32, [8])
    add("name-empty", w.build(), "tensor 2: empty tensor name")
    w = base()
    w.add_tensor(b"nul\x00name", GT.F32, [8])
    add("name-nul", w.build(), "tensor 2 'nul\\x00name': name contains a NUL byte")
    w = base()
    w.add_tensor("blk.0.weight", GT.F32, [8])
    add("name-duplicate", w.build(), "tensor 2 'blk.0.weight': duplicate tensor name (first used "
        "by tensor 0)")
    add("n-dims-5", patched(base(), [(info_field(1, 0), struct.pack("<I", 5))]),
        "tensor 1 'blk.1.weight': n_dims 5 is not in 1..4")
    add("n-dims-0", patched(base(), [(info_field(0, 0), struct.pack("<I", 0))]),
        "tensor 0 'blk.0.weight': n_dims 0 is not in 1..4")
    add("dim-zero", patched(base(), [(info_field(1, 4), struct.pack("<Q", 0))]),
        "tensor 1 'blk.1.weight': ne[0] = 0 is out of range")
    add("dim-negative", patched(base(), [(info_field(1, 4), struct.pack("<Q", 1 << 63))]),
        "ne[0] = 9223372036854775808 is out of range")
    w = base()
    w.add_tensor("big", GT.F32, [1 << 32, 1 << 31, 4], data=b"", offset=0)
    add("elements-overflow", w.build(), "tensor 2 'big': element count of shape [4294967296, "
        "2147483648, 4] overflows int64")
    w = base()
    w.add_tensor("big", GT.I8, [1 << 62], data=b"", offset=0)
    add("fp32-image-overflow", w.build(), "the FP32 image of shape [4611686018427387904]")
    w = base()
    w.add_tensor("big", GT.F64, [1 << 60], data=b"", offset=0)
    add("data-size-overflow", w.build(), "data size of 1152921504606846976 f64 elements overflows")
    w = base()
    w.add_tensor("q", GT.Q4_0, [48], data=bytes(27), offset=64)
    add("block-multiple", w.build(), "tensor 2 'q': ne[0] = 48 is not a multiple of the block "
        "size 32 of type q4_0")
    w = base()
    w.tensors[1]["offset"] = 40
    add("offset-unaligned", w.build(), "tensor 1 'blk.1.weight': data offset 40 is not a multiple "
        "of the alignment 32")
    data = base().build()
    add("tensor-info-truncated", data[:base().build().index(b"blk.1.weight") + 20],
        "tensor 1 'blk.1.weight': truncated")
    w = base(alignment=1 << 20)
    data = w.build()
    cut = w.layout["tensor_info"][1] + 60
    add("data-section-past-end", data[:cut], "data section: starts at byte 1048576")
    data = base().build()
    add("tensor-past-end", data[:-8], "tensor 1 'blk.1.weight': data at offset 32 + 32 bytes")
    w = base()
    w.tensors[1]["offset"] = (1 << 64) - 32
    add("offset-overflow", w.build()[:400], "data at offset 18446744073709551584 + 32 bytes")
    w = base()
    w.tensors[1]["offset"] = 0
    add("tensor-overlap", w.build(), "tensor 1 'blk.1.weight': data [")
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "expect.tsv"), "w") as ex:
        for name, (data, expect) in sorted(cases().items()):
            with open(os.path.join(outdir, name + ".gguf"), "wb") as f:
                f.write(data)
            ex.write("%s\t%s\n" % (name, expect))
    return 0


if __name__ == "__main__":
    sys.exit(main())
