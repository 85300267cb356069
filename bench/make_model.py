#!/usr/bin/env python3
"""make_model.py - write a GGUF model with the tensor shapes of llama-7B, Q4_0.

    make_model.py OUT.gguf [--layers 32] [--vocab 32000] [--seed 1]

Shapes are llama-7B's (ne[0] first, the contiguous dimension):
    token_embd.weight        4096 x vocab      Q4_0
    blk.N.attn_norm.weight   4096              F32
    blk.N.attn_{q,k,v}.weight, blk.N.attn_output.weight
                             4096 x 4096       Q4_0
    blk.N.ffn_norm.weight    4096              F32
    blk.N.ffn_{gate,up}.weight
                             4096 x 11008      Q4_0
    blk.N.ffn_down.weight    11008 x 4096      Q4_0
    output_norm.weight       4096              F32
    output.weight            4096 x vocab      Q4_0
32 layers make 3.8 GB (6.7 G elements, 27 GB as FP32). Blocks are random
and valid: every fp16 scale is a finite normal number of either sign, the
nibbles are uniform. The data is written in large chunks from a fast
generator, so the 7B model takes about as long as the disk needs.
"""
import argparse
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
ALIGNMENT = 32
T_F32, T_Q4_0 = 0, 2
V_U32, V_STRING = 4, 8
Q4_0_BLOCK_ELEMS, Q4_0_BLOCK_BYTES = 32, 18
CHUNK_BLOCKS = 1 << 20  # 18 MiB of blocks per write


def tensor_list(layers, vocab):
    """(name, type, ne) in llama.cpp's order."""
    d, ff = 4096, 11008
    out = [("token_embd.weight", T_Q4_0, [d, vocab])]
    for i in range(layers):
        b = f"blk.{i}."
        out += [
            (b + "attn_norm.weight", T_F32, [d]),
            (b + "attn_q.weight", T_Q4_0, [d, d]),
            (b + "attn_k.weight", T_Q4_0, [d, d]),
            (b + "attn_v.weight", T_Q4_0, [d, d]),
            (b + "attn_output.weight", T_Q4_0, [d, d]),
            (b + "ffn_norm.weight", T_F32, [d]),
            (b + "ffn_gate.weight", T_Q4_0, [d, ff]),
            (b + "ffn_up.weight", T_Q4_0, [d, ff]),
            (b + "ffn_down.weight", T_Q4_0, [ff, d]),
        ]
    out += [("output_norm.weight", T_F32, [d]), ("output.weight", T_Q4_0, [d, vocab])]
    return out


def nbytes(ttype, ne):
    n = int(np.prod(ne))
    if ttype == T_F32:
        return 4 * n
    return n // Q4_0_BLOCK_ELEMS * Q4_0_BLOCK_BYTES


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def header(tensors, layers):
    kv = [
        ("general.architecture", V_STRING, "llama"),
        ("general.name", V_STRING, f"bench-7b-shaped-{layers}l"),
        ("general.alignment", V_U32, ALIGNMENT),
        ("llama.block_count", V_U32, layers),
        ("llama.embedding_length", V_U32, 4096),
        ("llama.feed_forward_length", V_U32, 11008),
        ("llama.attention.head_count", V_U32, 32),
    ]
    h = bytearray(GGUF_MAGIC + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for key, vtype, val in kv:
        h += gguf_string(key) + struct.pack("<I", vtype)
        h += gguf_string(val) if vtype == V_STRING else struct.pack("<I", val)
    offset = 0
    for name, ttype, ne in tensors:
        h += gguf_string(name) + struct.pack("<I", len(ne))
        h += struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<IQ", ttype, offset)
        offset += nbytes(ttype, ne)
        offset += -offset % ALIGNMENT
    h += b"\0" * (-len(h) % ALIGNMENT)
    return bytes(h)


def q4_0_blocks(bitgen, nblocks):
    """nblocks random Q4_0 blocks as bytes."""
    raw = bitgen.random_raw(-(-nblocks * Q4_0_BLOCK_BYTES // 8)).view(np.uint8)
    blocks = raw[: nblocks * Q4_0_BLOCK_BYTES].reshape(nblocks, Q4_0_BLOCK_BYTES)
    d = blocks[:, :2].copy().view(np.uint16)
    # Sign and mantissa random, exponent 0x06..0x0d: |d| in [2^-9, 2^-1),
    # finite and normal.
    d = (d & np.uint16(0x83FF)) | (((d >> np.uint16(10)) & np.uint16(7)) + np.uint16(6)) << np.uint16(10)
    blocks[:, :2] = d.view(np.uint8).reshape(nblocks, 2)
    return blocks.tobytes()


def write_tensor(f, bitgen, ttype, ne):
    if ttype == T_F32:
        n = int(np.prod(ne))
        vals = (bitgen.random_raw(n) >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -23)
        f.write(vals.astype("<f4").tobytes())
        return
    left = nbytes(ttype, ne) // Q4_0_BLOCK_BYTES
    while left:
        n = min(left, CHUNK_BLOCKS)
        f.write(q4_0_blocks(bitgen, n))
        left -= n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.layers < 0 or a.vocab <= 0:
        sys.exit("make_model.py: --layers must be >= 0 and --vocab > 0")
    tensors = tensor_list(a.layers, a.vocab)
    bitgen = np.random.PCG64(a.seed)
    with open(a.out, "wb") as f:
        f.write(header(tensors, a.layers))
        for name, ttype, ne in tensors:
            f.write(b"\0" * (-f.tell() % ALIGNMENT))
            write_tensor(f, bitgen, ttype, ne)
    total = sum(nbytes(t, ne) for _, t, ne in tensors)
    fp32 = sum(4 * int(np.prod(ne)) for _, _, ne in tensors)
    print(f"{a.out}: {len(tensors)} tensors, {total / 1e9:.2f} GB, {fp32 / 1e9:.1f} GB as FP32")


if __name__ == "__main__":
    main()
