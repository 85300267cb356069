#!/usr/bin/env python3
"""hf_gguf.py - write a Hugging Face causal LM as GGUF the way llama.cpp's
convert_hf_to_gguf.py does, for the .hf/ tests.

    from hf_gguf import write_gguf, forward_permute, dequantize, QUANTS
    write_gguf(path, arch, state, cfg, tok, qtype="f32")

state: {HF tensor name: float32 numpy array in torch order}.
cfg:   hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
       num_key_value_heads, head_dim, max_position_embeddings, rms_norm_eps,
       rope_theta, vocab_size (as config.json holds them); phi3 also
       original_max_position_embeddings, partial_rotary_factor,
       sliding_window and rope_scaling (longrope: long_factor, short_factor).
tok:   model ("gpt2" | "llama"), tokens, types, and scores (llama) or merges
       ("left right" strings, gpt2), pre (gpt2), ids bos/eos/unk/pad (or
       None), add_bos, add_eos (None: key absent), chat_template (or None).

The conventions (llama.cpp's): tensor names of gguf-py's tensor_mapping;
shapes with ne[0] the contiguous dimension (torch shape reversed); for arch
llama the rows of each head of Q and K interleaved (LlamaModel.permute);
1-D tensors (norms, biases) kept F32; 2-D weights in qtype when their rows
split into 32-element blocks; rms_norm_eps stored as f32; no output.weight
when the embeddings are tied (lm_head.weight absent from state). phi3
(Phi3MiniModel) keeps HF's fused qkv_proj and gate_up_proj as attn_qkv and
ffn_up, and stores LongRoPE's factors as the tensors rope_factors_long and
rope_factors_short (first, as generate_extra_tensors yields them) with the
attention factor in rope.scaling.attn_factor.
"""

import math
import re

import numpy as np

from gguf_writer import GGUFWriter, GT, GV

QUANTS = {"f32": GT.F32, "f16": GT.F16, "q8_0": GT.Q8_0, "q4_0": GT.Q4_0}

_GLOBAL = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
_BLOCK = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "self_attn.qkv_proj.weight": "attn_qkv.weight",  # phi3
    "mlp.gate_up_proj.weight": "ffn_up.weight",  # phi3: gate rows, then up rows
}


def gguf_name(hf):
    if hf in _GLOBAL:
        return _GLOBAL[hf]
    m = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", hf)
    return "blk.%s.%s" % (m.group(1), _BLOCK[m.group(2)])


def forward_permute(w, n):
    """llama.cpp's LlamaModel.permute: the rows of each of n heads interleaved."""
    return w.reshape(n, 2, w.shape[0] // n // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# ------------------------------------------------------------- quantization
# ggml's reference quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref).

def _q8_0(x):
    b = x.reshape(-1, 32).astype(np.float32)
    amax = np.abs(b).max(axis=1)
    d = (amax / 127).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.round(b * idv[:, None]).astype(np.int8)
    out = np.zeros((b.shape[0], 34), np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def _q4_0(x):
    b = x.reshape(-1, 32).astype(np.float32)
    idx = np.abs(b).argmax(axis=1)
    mx = b[np.arange(b.shape[0]), idx]
    d = (mx / -8).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, (b * idv[:, None] + np.float32(8.5)).astype(np.int8)).astype(np.uint8)
    out = np.zeros((b.shape[0], 18), np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def quantize(x, qtype):
    x = np.ascontiguousarray(x, np.float32)
    if qtype == "f32":
        return x.astype("<f4").tobytes()
    if qtype == "f16":
        return x.astype("<f2").tobytes()
    return (_q8_0 if qtype == "q8_0" else _q4_0)(x)


def dequantize(raw, qtype, shape):
    """ggml's CPU dequantization of `raw` (float32, in `shape`)."""
    if qtype == "f32":
        return np.frombuffer(raw, "<f4").reshape(shape).copy()
    if qtype == "f16":
        return np.frombuffer(raw, "<f2").astype(np.float32).reshape(shape)
    size = 34 if qtype == "q8_0" else 18
    blk = np.frombuffer(raw, np.uint8).reshape(-1, size)
    d = blk[:, :2].copy().view("<f2").astype(np.float32)
    if qtype == "q8_0":
        q = blk[:, 2:].view(np.int8).astype(np.float32)
    else:
        qs = blk[:, 2:]
        q = np.concatenate([(qs & 15), (qs >> 4)], axis=1).astype(np.int32) - 8
        q = q.astype(np.float32)
    return (q * d).astype(np.float32).reshape(shape)


def stored_type(hf_name, arr, qtype):
    if arr.ndim < 2 or arr.shape[-1] % 32 != 0:
        return "f32"
    return qtype


# ------------------------------------------------------------- the file

def _add_config(w, arch, cfg):
    a = arch
    w.add_kv("general.architecture", GV.STRING, arch)
    w.add_kv("general.name", GV.STRING, "hf-test-" + arch)
    w.add_kv(a + ".context_length", GV.UINT32, cfg["max_position_embeddings"])
    w.add_kv(a + ".embedding_length", GV.UINT32, cfg["hidden_size"])
    w.add_kv(a + ".block_count", GV.UINT32, cfg["num_hidden_layers"])
    w.add_kv(a + ".feed_forward_length", GV.UINT32, cfg["intermediate_size"])
    w.add_kv(a + ".attention.head_count", GV.UINT32, cfg["num_attention_heads"])
    w.add_kv(a + ".attention.head_count_kv", GV.UINT32, cfg["num_key_value_heads"])
    w.add_kv(a + ".rope.freq_base", GV.FLOAT32, cfg["rope_theta"])
    w.add_kv(a + ".attention.layer_norm_rms_epsilon", GV.FLOAT32, cfg["rms_norm_eps"])
    if cfg.get("head_dim") and cfg["head_dim"] != cfg["hidden_size"] // cfg["num_attention_heads"]:
        w.add_kv(a + ".attention.key_length", GV.UINT32, cfg["head_dim"])
        w.add_kv(a + ".attention.value_length", GV.UINT32, cfg["head_dim"])
    if arch == "llama":
        w.add_kv(a + ".vocab_size", GV.UINT32, cfg["vocab_size"])
        w.add_kv(a + ".rope.dimension_count", GV.UINT32,
                 cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"])
    if arch == "phi3":
        w.add_kv(a + ".rope.scaling.original_context_length", GV.UINT32,
                 cfg["original_max_position_embeddings"])
        w.add_kv(a + ".rope.dimension_count", GV.UINT32, phi3_rope_dims(cfg))
        w.add_kv(a + ".attention.sliding_window", GV.UINT32, cfg.get("sliding_window") or 0)
        if (cfg.get("rope_scaling") or {}).get("long_factor"):
            w.add_kv(a + ".rope.scaling.attn_factor", GV.FLOAT32, phi3_attn_factor(cfg))


def phi3_rope_dims(cfg):
    """Phi3MiniModel: int(partial_rotary_factor * n_embd) // n_head."""
    return int(cfg.get("partial_rotary_factor", 1.0) * cfg["hidden_size"]) // cfg["num_attention_heads"]


def phi3_attn_factor(cfg):
    """Phi3MiniModel's attention factor for su/longrope."""
    scale = cfg["max_position_embeddings"] / cfg["original_max_position_embeddings"]
    if scale <= 1.0:
        return 1.0
    return math.sqrt(1 + math.log(scale) / math.log(cfg["original_max_position_embeddings"]))


def _add_tokenizer(w, tok):
    w.add_kv("tokenizer.ggml.model", GV.STRING, tok["model"])
    if tok.get("pre"):
        w.add_kv("tokenizer.ggml.pre", GV.STRING, tok["pre"])
    w.add_kv("tokenizer.ggml.tokens", GV.ARRAY, (GV.STRING, tok["tokens"]))
    if "scores" in tok:
        w.add_kv("tokenizer.ggml.scores", GV.ARRAY, (GV.FLOAT32, [float(s) for s in tok["scores"]]))
    w.add_kv("tokenizer.ggml.token_type", GV.ARRAY, (GV.INT32, tok["types"]))
    if "merges" in tok:
        w.add_kv("tokenizer.ggml.merges", GV.ARRAY, (GV.STRING, tok["merges"]))
    for key, name in (("bos", "bos_token_id"), ("eos", "eos_token_id"),
                      ("unk", "unknown_token_id"), ("pad", "padding_token_id")):
        if tok.get(key) is not None:
            w.add_kv("tokenizer.ggml." + name, GV.UINT32, tok[key])
    for key in ("add_bos", "add_eos"):
        if tok.get(key) is not None:
            w.add_kv("tokenizer.ggml.%s_token" % key, GV.BOOL, tok[key])
    if tok.get("chat_template"):
        w.add_kv("tokenizer.chat_template", GV.STRING, tok["chat_template"])


def llama3_rope_factors(cfg):
    """LlamaModel.generate_extra_tensors: rope_freqs for rope_type llama3."""
    rs = cfg["rope_scaling"]
    dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    freqs = 1.0 / (cfg["rope_theta"] ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / float(freq)
        if wavelen < old / hi:
            out.append(1)
        elif wavelen > old / lo:
            out.append(factor)
        else:
            smooth = (old / wavelen - lo) / (hi - lo)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, np.float32)


def gguf_tensors(arch, state, cfg, qtype="f32"):
    """[(gguf name, ggml type, ne, raw bytes, stored qtype)] in llama.cpp's order."""
    out = []
    if (cfg.get("rope_scaling") or {}).get("rope_type") == "llama3":
        f = llama3_rope_factors(cfg)
        out.append(("rope_freqs.weight", GT.F32, [len(f)], f.tobytes(), "f32"))
    rs = cfg.get("rope_scaling") or {}
    if arch == "phi3" and rs.get("long_factor"):
        for key in ("long_factor", "short_factor"):
            f = np.array(rs[key], np.float32)
            out.append(("rope_factors_%s.weight" % key.split("_")[0], GT.F32, [len(f)], f.tobytes(), "f32"))
    for hf, arr in state.items():
        arr = np.asarray(arr, np.float32)
        if arch == "llama" and (".q_proj." in hf or ".k_proj." in hf):
            n = cfg["num_attention_heads"] if ".q_proj." in hf else cfg["num_key_value_heads"]
            arr = forward_permute(arr, n)
        q = stored_type(hf, arr, qtype)
        out.append((gguf_name(hf), QUANTS[q], list(arr.shape[::-1]), quantize(arr, q), q))
    return out


def write_gguf(path, arch, state, cfg, tok, qtype="f32", extra_kv=()):
    w = GGUFWriter(version=3)
    _add_config(w, arch, cfg)
    _add_tokenizer(w, tok)
    for key, vt, val in extra_kv:
        w.add_kv(key, vt, val)
    tensors = gguf_tensors(arch, state, cfg, qtype)
    for name, gt, ne, raw, _ in tensors:
        w.add_tensor(name, gt, ne, raw)
    w.write(path)
    return tensors
