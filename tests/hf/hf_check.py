#!/usr/bin/env python3
"""hf_check.py - tiny models for the .hf/ tests and the checks of a mount.

    hf_check.py write DIR              DIR/{llama,llama3,qwen2,qwen3,phi3,phi3l}.gguf, and
                                       the unmapped falcon, extra, rope, phi3rope, phi3ffn
    hf_check.py check DIR NAME MNT DT  MNT/.hf of model NAME mounted with -o dtype=DT

The models follow llama.cpp's converter (hf_gguf.py): random weights, the
Q/K rows interleaved for llama, phi3's fused qkv_proj and gate_up_proj
(phi3l: LongRoPE factors, a partial rotary factor, tied embeddings), a
SentencePiece-style llama tokenizer and byte-level gpt2 tokenizers. The checks do not trust gguffs: safetensors is
read by a reader written here from the published format, expected tensors
are the original arrays (f32 models) or numpy's dequantization of what was
written, converted to the mount dtype with numpy bit arithmetic; the
llama merges are derived here as transformers' GGUF converter does.
"""
import json
import os
import struct
import sys

import numpy as np

from gguf_writer import GV
from hf_gguf import dequantize, quantize, write_gguf

SPM = "\u2581"
RE_LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
             r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
RE_QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+"
            r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def byte_chars():
    """GPT-2's bytes_to_unicode: the 256 byte-level symbols, in byte order."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def llama_tok():
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    pieces = [SPM, "a", "b", "c", SPM + "a", "ab", "bc", SPM + "ab", "abc", SPM + "abc", "<user>"]
    types = [2, 3, 3] + [6] * 256 + [1] * (len(pieces) - 1) + [4]
    scores = [0.0] * 259 + [-float(i) for i in range(len(pieces))]
    return {"model": "llama", "tokens": tokens + pieces, "types": types, "scores": scores,
            "bos": 1, "eos": 2, "unk": 0, "pad": None, "add_bos": True, "add_eos": False,
            "chat_template": None}


def gpt2_tok(pre, add_bos):
    tokens = byte_chars()
    merges = ["\u0120 t", "h e", "\u0120t he", "a b", "ab c"]
    tokens += ["\u0120t", "he", "\u0120the", "ab", "abc"]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    types = [1] * len(tokens) + [3, 3, 3]
    eot = len(tokens)
    return {"model": "gpt2", "pre": pre, "tokens": tokens + specials, "types": types,
            "merges": merges, "bos": eot, "eos": eot + 2, "unk": None, "pad": eot,
            "add_bos": add_bos, "add_eos": None, "chat_template": TEMPLATE}


LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
PHI3_LONGROPE = {"rope_type": "longrope",
                 "long_factor": [float(np.float32(x)) for x in (1.08, 1.5, 2.25, 3.1)],
                 "short_factor": [float(np.float32(x)) for x in (1.0, 1.0, 1.05, 1.1)]}
MODELS = {  # name: arch, config, tokenizer, qtype, tied, biases, qk norms
    "llama": ("llama", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                            max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=10000.0),
              llama_tok, "f32", True, False, False),
    "llama3": ("llama", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=1,
                             num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                             max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=500000.0,
                             rope_scaling=LLAMA3_ROPE),
               lambda: gpt2_tok("llama-bpe", True), "f16", False, False, False),
    "qwen2": ("qwen2", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                            max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=1e6),
              lambda: gpt2_tok("qwen2", None), "q8_0", False, True, False),
    "qwen3": ("qwen3", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=1,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                            max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1e6),
              lambda: gpt2_tok("llama-bpe", True), "q4_0", False, False, True),
    "phi3": ("phi3", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=4, head_dim=16,
                          max_position_embeddings=256, original_max_position_embeddings=256,
                          rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=48),
             llama_tok, "f32", False, False, False),
    "phi3l": ("phi3", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=1,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                           max_position_embeddings=1024, original_max_position_embeddings=128,
                           rms_norm_eps=1e-5, rope_theta=10000.0, partial_rotary_factor=0.5,
                           rope_scaling=PHI3_LONGROPE),
              lambda: gpt2_tok("llama-bpe", None), "q4_0", True, False, False),
}


def make_state(name):
    arch, cfg, tokf, qtype, tied, bias, qknorm = MODELS[name]
    tok = tokf()
    cfg = dict(cfg, vocab_size=len(tok["tokens"]))
    rng = np.random.default_rng(sum(map(ord, name)))
    h, hd, nq, nkv = cfg["hidden_size"], cfg["head_dim"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    f = lambda *s: rng.standard_normal(s).astype(np.float32)
    st = {"model.embed_tokens.weight": f(cfg["vocab_size"], h)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        st[p + "input_layernorm.weight"] = f(h)
        if arch == "phi3":  # HF's fused tensors: q, k, v rows; gate, up rows
            st[p + "self_attn.qkv_proj.weight"] = f((nq + 2 * nkv) * hd, h)
            st[p + "self_attn.o_proj.weight"] = f(h, nq * hd)
            st[p + "post_attention_layernorm.weight"] = f(h)
            st[p + "mlp.gate_up_proj.weight"] = f(2 * cfg["intermediate_size"], h)
            st[p + "mlp.down_proj.weight"] = f(h, cfg["intermediate_size"])
            continue
        st[p + "self_attn.q_proj.weight"] = f(nq * hd, h)
        st[p + "self_attn.k_proj.weight"] = f(nkv * hd, h)
        st[p + "self_attn.v_proj.weight"] = f(nkv * hd, h)
        if bias:
            for k, n in (("q", nq), ("k", nkv), ("v", nkv)):
                st[p + "self_attn.%s_proj.bias" % k] = f(n * hd)
        st[p + "self_attn.o_proj.weight"] = f(h, nq * hd)
        if qknorm:
            st[p + "self_attn.q_norm.weight"] = f(hd)
            st[p + "self_attn.k_norm.weight"] = f(hd)
        st[p + "post_attention_layernorm.weight"] = f(h)
        st[p + "mlp.gate_proj.weight"] = f(cfg["intermediate_size"], h)
        st[p + "mlp.up_proj.weight"] = f(cfg["intermediate_size"], h)
        st[p + "mlp.down_proj.weight"] = f(h, cfg["intermediate_size"])
    st["model.norm.weight"] = f(h)
    if not tied:
        st["lm_head.weight"] = f(cfg["vocab_size"], h)
    return arch, cfg, tok, qtype, st


def write(d):
    for name in MODELS:
        arch, cfg, tok, qtype, st = make_state(name)
        write_gguf(os.path.join(d, name + ".gguf"), arch, st, cfg, tok, qtype)
    # Not mapped: an architecture, and a tensor with no HF name.
    arch, cfg, tok, qtype, st = make_state("llama")
    write_gguf(os.path.join(d, "falcon.gguf"), "falcon", st, cfg, tok)
    # rope factors that are not Llama 3's
    import hf_gguf
    arch3, cfg3, tok3, _, st3 = make_state("llama3")
    real = hf_gguf.llama3_rope_factors
    hf_gguf.llama3_rope_factors = lambda c: real(c) * np.float32(1.5)
    write_gguf(os.path.join(d, "rope.gguf"), arch3, st3, cfg3, tok3)
    hf_gguf.llama3_rope_factors = real
    # phi3: an attention factor that is neither formula's; ffn_up rows that
    # are not twice feed_forward_length
    arch, cfg, tok, qtype, st = make_state("phi3l")
    real = hf_gguf.phi3_attn_factor
    hf_gguf.phi3_attn_factor = lambda c: 2.5
    write_gguf(os.path.join(d, "phi3rope.gguf"), arch, st, cfg, tok)
    hf_gguf.phi3_attn_factor = real
    write_gguf(os.path.join(d, "phi3ffn.gguf"), arch, st, dict(cfg, intermediate_size=64), tok)
    arch, cfg, tok, qtype, st = make_state("llama")
    st["model.layers.0.mystery.weight"] = st["model.norm.weight"]
    hf_gguf._BLOCK["mystery.weight"] = "mystery.weight"
    write_gguf(os.path.join(d, "extra.gguf"), arch, st, cfg, tok)


# ------------------------------------------------------------- checks

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} from the published format."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    expect((8 + n) % 8 == 0, "safetensors data does not start 8-byte aligned")
    head = json.loads(blob[8:8 + n])
    expect(head.pop("__metadata__", {}).get("format") == "pt", "__metadata__ format is not pt")
    data = blob[8 + n:]
    spans = sorted(tuple(v["data_offsets"]) for v in head.values())
    at = 0
    for b, e in spans:
        expect(b == at, "data ranges do not tile the data")
        at = e
    expect(at == len(data), "data ranges do not cover the data")
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in head.items()}


def to_dtype(x, dt):
    """x (float32) as the mount serves it: raw little-endian bytes."""
    if dt != "bf16":
        return quantize(x, dt)
    u = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
    return r.tobytes()


def check_weights(mnt, arch, cfg, qtype, st, dt):
    got = read_safetensors(os.path.join(mnt, ".hf/model.safetensors"))
    expect(set(got) == set(st), "names %s, want %s" % (sorted(set(got) ^ set(st)), "none"))
    from hf_gguf import gguf_tensors
    stored = {n: (raw, q) for n, _, _, raw, q in gguf_tensors(arch, st, cfg, qtype)}
    from hf_gguf import gguf_name, forward_permute
    for name, arr in st.items():
        dtype, shape, data = got[name]
        expect(dtype == {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dt], name + ": dtype " + dtype)
        expect(list(shape) == list(arr.shape), "%s: shape %s, want %s" % (name, shape, arr.shape))
        raw, q = stored[gguf_name(name)]
        if q == "f32":
            want = arr  # the original rows, un-permuted
        else:
            val = dequantize(raw, q, arr.shape)  # as stored (permuted for llama Q/K)
            n = None
            if arch == "llama" and ".q_proj." in name:
                n = cfg["num_attention_heads"]
            if arch == "llama" and ".k_proj." in name:
                n = cfg["num_key_value_heads"]
            want = val
            if n is not None:  # the inverse: rows back in HF order
                hd = arr.shape[0] // n
                want = val.reshape(n, hd // 2, 2, -1).swapaxes(1, 2).reshape(arr.shape)
                expect(np.array_equal(forward_permute(want, n), val), name + ": bad inverse")
        expect(data == to_dtype(want, dt), name + ": data differ")


def check_config(mnt, arch, cfg, tok, st, dt):
    text = open(os.path.join(mnt, ".hf/config.json")).read()
    c = json.loads(text)
    cls = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM",
           "phi3": "Phi3ForCausalLM"}
    expect(c["architectures"] == [cls[arch]] and c["model_type"] == arch, "architecture")
    keys = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "max_position_embeddings", "vocab_size"]
    if arch == "phi3":  # Phi3Config has no head_dim: hidden / heads
        expect("head_dim" not in c and "attention_bias" not in c, "phi3 head_dim, attention_bias")
        expect(c["original_max_position_embeddings"] == cfg["original_max_position_embeddings"],
               "original_max_position_embeddings")
        expect(c.get("partial_rotary_factor") == cfg.get("partial_rotary_factor"),
               "partial_rotary_factor %r" % c.get("partial_rotary_factor"))
        expect(c["sliding_window"] == cfg.get("sliding_window"), "sliding_window")
        for k in ("bos_token_id", "eos_token_id", "pad_token_id"):
            expect(k in c, k + " not written (Phi3Config's default would apply)")
    else:
        keys.append("head_dim")
    for k in keys:
        expect(c[k] == cfg[k], "config %s = %r, want %r" % (k, c[k], cfg[k]))
    expect(c["rms_norm_eps"] == cfg["rms_norm_eps"], "rms_norm_eps %r" % c["rms_norm_eps"])
    expect('"rms_norm_eps": %s' % repr(cfg["rms_norm_eps"]).replace("1e-06", "1e-06") in text,
           "rms_norm_eps not written as the shortest decimal")
    expect(float(c["rope_theta"]) == cfg["rope_theta"], "rope_theta")
    want_rs = dict(cfg["rope_scaling"]) if cfg.get("rope_scaling") else None
    if want_rs and want_rs["rope_type"] == "longrope":  # older transformers read "type"
        want_rs["type"] = "longrope"
    expect(c.get("rope_scaling") == want_rs, "rope_scaling %r, want %r" % (c.get("rope_scaling"), want_rs))
    expect(c["tie_word_embeddings"] == ("lm_head.weight" not in st), "tie_word_embeddings")
    expect(c["torch_dtype"] == {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dt],
           "torch_dtype")
    expect(c.get("bos_token_id") == tok["bos"] and c.get("eos_token_id") == tok["eos"], "bos/eos")
    expect(c.get("pad_token_id") == tok["pad"], "pad_token_id")
    g = json.load(open(os.path.join(mnt, ".hf/generation_config.json")))
    expect(g.get("bos_token_id") == tok["bos"] and g.get("eos_token_id") == tok["eos"],
           "generation_config ids")


def spm_merges(tokens, scores):
    """transformers' GGUFTokenizerSkeleton: merges from the scores."""
    vocab = {t: scores[i] for i, t in enumerate(tokens)}
    merges = []
    for merge, score in vocab.items():
        local = []
        for i in range(1, len(merge)):
            l, r = merge[:i], merge[i:]
            if l in tokens and r in tokens:
                local.append((l, r, score))
        local = sorted(local, key=lambda x: (vocab[x[0]], vocab[x[1]]), reverse=True)
        merges.extend(local)
    merges = sorted(merges, key=lambda v: v[2], reverse=True)
    return [[l, r] for l, r, _ in merges]


def check_tokenizer(mnt, tok):
    t = json.load(open(os.path.join(mnt, ".hf/tokenizer.json")))
    m = t["model"]
    expect(m["type"] == "BPE", "model type")
    expect(m["vocab"] == {s: i for i, s in enumerate(tok["tokens"])}, "vocab")
    added = [(a["id"], a["content"], a["special"]) for a in t["added_tokens"]]
    want = [(i, s, ty != 4) for i, (s, ty) in enumerate(zip(tok["tokens"], tok["types"]))
            if ty in (2, 3, 4)]
    expect(added == want, "added_tokens %s, want %s" % (added, want))
    if tok["model"] == "llama":
        expect(m["byte_fallback"] and m["fuse_unk"] and m["unk_token"] == "<unk>", "llama BPE")
        expect(m["merges"] == spm_merges(tok["tokens"], tok["scores"]), "llama merges")
        expect(t["normalizer"]["normalizers"] == [
            {"type": "Prepend", "prepend": SPM},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPM}], "llama normalizer")
        expect([d["type"] for d in t["decoder"]["decoders"]] ==
               ["Replace", "ByteFallback", "Fuse", "Strip"], "llama decoder")
    else:
        expect(not m["byte_fallback"] and m["unk_token"] is None, "gpt2 BPE")
        expect(m["merges"] == [s.split(" ") for s in tok["merges"]], "gpt2 merges")
        pre = t["pre_tokenizer"]["pretokenizers"]
        regex = RE_QWEN2 if tok["pre"] == "qwen2" else RE_LLAMA3
        expect(pre[0]["pattern"]["Regex"] == regex, "pre-tokenizer regex")
        expect(pre[1]["type"] == "ByteLevel" and not pre[1]["use_regex"], "ByteLevel step")
        expect(m["ignore_merges"] == (tok["pre"] == "llama-bpe"), "ignore_merges")
        expect((t["normalizer"] or {}).get("type") == ("NFC" if tok["pre"] == "qwen2" else None),
               "normalizer")
        expect(t["decoder"]["type"] == "ByteLevel", "gpt2 decoder")
    post = t["post_processor"]
    bos = tok["tokens"][tok["bos"]]
    if tok["add_bos"]:
        expect(post["single"][0] == {"SpecialToken": {"id": bos, "type_id": 0}}, "BOS added")
        expect(post["special_tokens"][bos]["ids"] == [tok["bos"]], "BOS id")
    else:
        expect(post is None, "nothing added")
    c = json.load(open(os.path.join(mnt, ".hf/tokenizer_config.json")))
    expect(c["tokenizer_class"] == "PreTrainedTokenizerFast", "tokenizer_class")
    expect(c["bos_token"] == bos and c["eos_token"] == tok["tokens"][tok["eos"]], "config bos/eos")
    expect(c["add_bos_token"] == bool(tok["add_bos"]), "add_bos_token")
    expect(c.get("chat_template") == tok["chat_template"], "chat_template")
    s = json.load(open(os.path.join(mnt, ".hf/special_tokens_map.json")))
    expect(s["bos_token"] == bos, "special_tokens_map")


def check(d, name, mnt, dt):
    arch, cfg, tok, qtype, st = make_state(name)
    expect(sorted(os.listdir(os.path.join(mnt, ".hf"))) == sorted([
        "config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json"]), "the .hf files")
    check_config(mnt, arch, cfg, tok, st, dt)
    check_weights(mnt, arch, cfg, qtype, st, dt)
    check_tokenizer(mnt, tok)


def main(argv):
    if argv[1] == "write":
        write(argv[2])
    else:
        check(argv[2], argv[3], argv[4], argv[5])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
