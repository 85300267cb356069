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
32 layers make 3.8 GB (6.7 G elements, 27 GB as FP32). The keys are those
llama.cpp writes for Llama 2 7B (context 4096, rms eps 1e-5, rope base
10000) and a SentencePiece-style vocabulary of --vocab tokens (<unk>, <s>,
</s>, the 256 byte tokens, then made-up pieces scored in id order), so the
mount has a .hf/ directory that transformers loads. Blocks are random
and valid: every fp16 scale is a finite normal number of either sign, the
nibbles are uniform. The data is written in large chunks from a fast
generator, so the 7B model takes about as long as the disk needs.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from gguf_writer import GGUFWriter, GT, GV, TYPE_INFO, tensor_nbytes  # noqa: E402

Q4_0_BLOCK_BYTES = TYPE_INFO[GT.Q4_0][2]
CHUNK_BLOCKS = 1 << 20  # 18 MiB of blocks per write


def tensor_list(layers, vocab):
    """(name, type, ne) in llama.cpp's order."""
    d, ff = 4096, 11008
    out = [("token_embd.weight", GT.Q4_0, [d, vocab])]
    for i in range(layers):
        b = f"blk.{i}."
        out += [
            (b + "attn_norm.weight", GT.F32, [d]),
            (b + "attn_q.weight", GT.Q4_0, [d, d]),
            (b + "attn_k.weight", GT.Q4_0, [d, d]),
            (b + "attn_v.weight", GT.Q4_0, [d, d]),
            (b + "attn_output.weight", GT.Q4_0, [d, d]),
            (b + "ffn_norm.weight", GT.F32, [d]),
            (b + "ffn_gate.weight", GT.Q4_0, [d, ff]),
            (b + "ffn_up.weight", GT.Q4_0, [d, ff]),
            (b + "ffn_down.weight", GT.Q4_0, [ff, d]),
        ]
    out += [("output_norm.weight", GT.F32, [d]), ("output.weight", GT.Q4_0, [d, vocab])]
    return out


def vocabulary(vocab):
    """(tokens, scores, types) of a llama (SentencePiece) tokenizer: the
    special and byte tokens, then distinct pieces "▁a", "b", "▁ab", ...
    (base-26 words, with and without the space mark) scored in id order."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < vocab:
        word, k = "", i // 2
        while True:
            word = letters[k % 26] + word
            k = k // 26 - 1
            if k < 0:
                break
        tokens.append(("\u2581" if i % 2 == 0 else "") + word)
        types.append(1)
        i += 1
    tokens, types = tokens[:vocab], types[:vocab]
    scores = [0.0] * min(vocab, 259) + [-float(j) for j in range(vocab - min(vocab, 259))]
    return tokens, scores, types


def writer(tensors, layers, vocab):
    """The model's header, every tensor deferred to write_stream()."""
    w = GGUFWriter(version=3)
    w.add_kv("general.architecture", GV.STRING, "llama")
    w.add_kv("general.name", GV.STRING, f"bench-7b-shaped-{layers}l")
    w.add_kv("general.alignment", GV.UINT32, 32)
    w.add_kv("llama.block_count", GV.UINT32, layers)
    w.add_kv("llama.embedding_length", GV.UINT32, 4096)
    w.add_kv("llama.feed_forward_length", GV.UINT32, 11008)
    w.add_kv("llama.attention.head_count", GV.UINT32, 32)
    w.add_kv("llama.attention.head_count_kv", GV.UINT32, 32)
    w.add_kv("llama.context_length", GV.UINT32, 4096)
    w.add_kv("llama.rope.dimension_count", GV.UINT32, 128)
    w.add_kv("llama.rope.freq_base", GV.FLOAT32, 10000.0)
    w.add_kv("llama.attention.layer_norm_rms_epsilon", GV.FLOAT32, 1e-5)
    w.add_kv("general.file_type", GV.UINT32, 2)  # MOSTLY_Q4_0
    tokens, scores, types = vocabulary(vocab)
    w.add_kv("tokenizer.ggml.model", GV.STRING, "llama")
    w.add_kv("tokenizer.ggml.tokens", GV.ARRAY, (GV.STRING, tokens))
    w.add_kv("tokenizer.ggml.scores", GV.ARRAY, (GV.FLOAT32, scores))
    w.add_kv("tokenizer.ggml.token_type", GV.ARRAY, (GV.INT32, types))
    for key, tid in (("bos", 1), ("eos", 2), ("unknown", 0)):
        if tid < vocab:
            w.add_kv(f"tokenizer.ggml.{key}_token_id", GV.UINT32, tid)
    for name, ttype, ne in tensors:
        w.add_tensor(name, ttype, ne, deferred=True)
    return w


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
    if ttype == GT.F32:
        n = int(np.prod(ne))
        vals = (bitgen.random_raw(n) >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -23)
        f.write(vals.astype("<f4").tobytes())
        return
    left = tensor_nbytes(ttype, ne) // Q4_0_BLOCK_BYTES
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
        writer(tensors, a.layers, a.vocab).write_stream(f, lambda f, t: write_tensor(f, bitgen, t["type"], t["ne"]))
    total = sum(tensor_nbytes(t, ne) for _, t, ne in tensors)
    fp32 = sum(4 * int(np.prod(ne)) for _, _, ne in tensors)
    print(f"{a.out}: {len(tensors)} tensors, {total / 1e9:.2f} GB, {fp32 / 1e9:.1f} GB as FP32")

if __name__ == "__main__":
    main()
