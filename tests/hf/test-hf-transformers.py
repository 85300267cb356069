#!/usr/bin/env python3
"""test-hf-transformers.py - MNT/.hf/ loaded by the real consumers.

For llama (also with Llama 3's rope scaling), qwen2, qwen3 and phi3 (also
with LongRoPE, a partial rotary factor and tied embeddings): a tiny random
model made with transformers and
a tokenizer trained with the `tokenizers` library (byte-level BPE for the
qwen models, with the qwen2 and llama-bpe pre-tokenizers; a SentencePiece-
style BPE with byte fallback for llama) are written to GGUF as llama.cpp's
converter writes them (hf_gguf.py), in F32, F16, Q8_0 and Q4_0, and
mounted. Then:
  - AutoModelForCausalLM.from_pretrained(MNT/.hf): every tensor equals the
    original (bit for bit for F32; for the others, numpy's dequantization
    of what was written), and for F32 the logits are equal; with
    -o dtype=bf16, the weights equal the original's .to(torch.bfloat16);
  - AutoTokenizer.from_pretrained(MNT/.hf) encodes and decodes ASCII,
    accents, CJK, emoji, odd spaces and special tokens exactly as the
    original tokenizer.
A llama GGUF tokenizer holds scores, not merges: its meaning is
SentencePiece's (merge the adjacent pair whose token scores highest), so
the original here is the trained vocabulary with those merges, derived as
transformers' GGUF converter derives them.

Needs torch, transformers, tokenizers and numpy: this python, else
$TORCH_PYTHON, else /opt/torch/.venv/bin/python3; exits 77 when none has
them, or /dev/fuse is not usable. GGUFFS and SRCDIR come from meson.
"""
import json
import os
import subprocess
import sys
import tempfile

NEEDED = "import torch, transformers, tokenizers, numpy"


def reexec_or_skip():
    try:
        exec(NEEDED)
        return
    except ImportError:
        pass
    for py in (os.environ.get("TORCH_PYTHON"), "/opt/torch/.venv/bin/python3"):
        if py and os.access(py, os.X_OK) and os.path.realpath(py) != os.path.realpath(sys.executable) \
                and subprocess.run([py, "-c", NEEDED], capture_output=True).returncode == 0:
            os.execv(py, [py] + sys.argv)
    print("SKIP: no python with torch, transformers and tokenizers")
    sys.exit(77)


reexec_or_skip()
if not os.access("/dev/fuse", os.W_OK):
    print("SKIP: /dev/fuse is not usable here")
    sys.exit(77)

SRCDIR = os.environ["SRCDIR"]
GGUFFS = os.environ["GGUFFS"]
sys.path[:0] = [os.path.join(SRCDIR, "tests/tools"), os.path.join(SRCDIR, "tests/hf")]

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors  # noqa: E402
from tokenizers.models import BPE  # noqa: E402
from tokenizers.trainers import BpeTrainer  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

from hf_check import RE_LLAMA3, RE_QWEN2, SPM, TEMPLATE, spm_merges  # noqa: E402
from hf_gguf import dequantize, gguf_name, write_gguf  # noqa: E402

TEXT = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Hello world, hello tokenizer; numbers 12345 and 6789.",
    "café naïve résumé Ærøskøbing über straße",
    "日本語のテキストと中文的文本",
    "emoji 🦙 and 🚀 in text",
    "tabs\tand\nnew lines\n\n  indented code: def f(x): return x",
]
SAMPLES = [
    "Hello world", "  leading and  double  spaces ", "café naïve Ærø",
    "日本語のテキスト", "emoji 🦙🚀 done 🧪", "tabs\tand\nnewlines\n\n", "numbers 12345 67",
    "unseen: ÿ ĳ ⅞ 𝔘", "",
]
MOUNTS = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def mount(model, mnt, *opts):
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([GGUFFS, *opts, model, mnt], check=True)
    MOUNTS.append(mnt)


def unmount_all():
    for m in MOUNTS:
        subprocess.run(["fusermount3", "-u", m], capture_output=True)


# ------------------------------------------------------------- tokenizers

def gpt2_tokenizer(pre):
    """A byte-level BPE as Qwen2 (pre 'qwen2') or Llama 3 ('llama-bpe') has."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tk = Tokenizer(BPE(ignore_merges=pre == "llama-bpe"))
    if pre == "qwen2":
        tk.normalizer = normalizers.NFC()
    regex = RE_QWEN2 if pre == "qwen2" else RE_LLAMA3
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(TEXT, BpeTrainer(vocab_size=420, special_tokens=specials,
                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                            show_progress=False))
    j = json.loads(tk.to_str())  # the trainer may not keep ignore_merges: set it again
    j["model"]["ignore_merges"] = pre == "llama-bpe"
    tk = Tokenizer.from_str(json.dumps(j))
    add_bos = pre == "llama-bpe"
    if add_bos:
        tk.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A", pair="<|endoftext|> $A <|endoftext|> $B:1",
            special_tokens=[("<|endoftext|>", 0)])
    model = json.loads(tk.to_str())["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    tokens = [tk.id_to_token(i) for i in range(tk.get_vocab_size())]
    gg = {"model": "gpt2", "pre": pre, "tokens": tokens,
          "types": [3 if t in specials else 1 for t in tokens], "merges": merges,
          "bos": 0, "eos": 2, "unk": None, "pad": 0,
          "add_bos": True if add_bos else None, "add_eos": None, "chat_template": TEMPLATE}
    orig = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<|endoftext|>",
                                   eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   add_bos_token=add_bos, add_eos_token=False,
                                   clean_up_tokenization_spaces=False)
    return gg, orig, ["<|im_start|>user\nhi there<|im_end|>\n", "a<|endoftext|>b"]


def llama_tokenizer():
    """A SentencePiece-style BPE with byte fallback, as Llama 2 has."""
    tr = Tokenizer(BPE(unk_token="<unk>"))
    tr.normalizer = normalizers.Sequence([normalizers.Prepend(SPM), normalizers.Replace(" ", SPM)])
    tr.train_from_iterator(TEXT, BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"],
                                            show_progress=False))
    trained = [tr.id_to_token(i) for i in range(3, tr.get_vocab_size())]
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + trained
    types = [2, 3, 3] + [6] * 256 + [1] * len(trained)
    scores = [0.0] * 259 + [-float(i) for i in range(len(trained))]
    tk = Tokenizer(BPE({t: i for i, t in enumerate(tokens)},
                       [tuple(m) for m in spm_merges(tokens, scores)],
                       unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tk.add_special_tokens(["<unk>", "<s>", "</s>"])
    tk.normalizer = tr.normalizer
    tk.decoder = decoders.Sequence([decoders.Replace(SPM, " "), decoders.ByteFallback(),
                                    decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", 1)])
    gg = {"model": "llama", "tokens": tokens, "types": types, "scores": scores,
          "bos": 1, "eos": 2, "unk": 0, "pad": None, "add_bos": True, "add_eos": False,
          "chat_template": None}
    orig = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", add_bos_token=True, add_eos_token=False,
                                   clean_up_tokenization_spaces=False)
    return gg, orig, ["<s>hello</s> world", "x</s>"]


# ------------------------------------------------------------- models

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
PHI3_LONGROPE = {"rope_type": "longrope",
                 "long_factor": [1.0800000429153442, 1.5, 2.25, 3.0999999046325684],
                 "short_factor": [1.0, 1.0, 1.0499999523162842, 1.100000023841858]}
QTYPES = ("f32", "f16", "q8_0", "q4_0")
MODELS = {  # name: arch, config kwargs, tokenizer, GGUF types
    "llama": ("llama", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                            max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=10000.0,
                            tie_word_embeddings=True), llama_tokenizer, QTYPES),
    "llama3": ("llama", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                             num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                             max_position_embeddings=1024, rms_norm_eps=1e-5,
                             rope_theta=500000.0, rope_scaling=LLAMA3_ROPE,
                             tie_word_embeddings=False),
               lambda: gpt2_tokenizer("llama-bpe"), ("f32",)),
    "qwen2": ("qwen2", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2,
                            max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
                            tie_word_embeddings=False), lambda: gpt2_tokenizer("qwen2"), QTYPES),
    "qwen3": ("qwen3", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                            max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
                            tie_word_embeddings=True), lambda: gpt2_tokenizer("llama-bpe"), QTYPES),
    # Phi3Config's default pad_token_id (32000) is no row of a tiny vocabulary
    "phi3": ("phi3", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2,
                          max_position_embeddings=256, original_max_position_embeddings=256,
                          rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=16,
                          bos_token_id=1, eos_token_id=2, pad_token_id=None,
                          tie_word_embeddings=False), llama_tokenizer, QTYPES),
    "phi3l": ("phi3", dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=4,
                           max_position_embeddings=1024, original_max_position_embeddings=64,
                           rms_norm_eps=1e-5, rope_theta=10000.0, partial_rotary_factor=0.5,
                           rope_scaling=PHI3_LONGROPE, sliding_window=None,
                           bos_token_id=0, eos_token_id=2, pad_token_id=0,
                           tie_word_embeddings=True),
              lambda: gpt2_tokenizer("llama-bpe"), ("f32", "q8_0")),
}


def rope_theta(cfg):
    if getattr(cfg, "rope_theta", None) is not None:
        return float(cfg.rope_theta)
    return float(cfg.rope_parameters["rope_theta"])


def make_model(name, vocab):
    arch, kw, _, _ = MODELS[name]
    cfg = transformers.AutoConfig.for_model(arch, vocab_size=vocab, **kw)
    torch.manual_seed(len(name))
    model = AutoModelForCausalLM.from_config(cfg).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(1 + 0.1 * torch.randn_like(p) if name.endswith("norm.weight")
                    else 0.05 * torch.randn_like(p))
    c = {k: getattr(cfg, k) for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                      "num_attention_heads", "num_key_value_heads",
                                      "max_position_embeddings", "rms_norm_eps", "vocab_size")}
    c["head_dim"] = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    c["rope_theta"] = rope_theta(cfg)
    c["rope_scaling"] = kw.get("rope_scaling")
    if arch == "phi3":
        c["original_max_position_embeddings"] = cfg.original_max_position_embeddings
        c["partial_rotary_factor"] = kw.get("partial_rotary_factor", 1.0)
        c["sliding_window"] = cfg.sliding_window
    return model, c


def expected_weights(arch, model, cfg, tensors):
    """HF name -> float32 array the loaded model must hold."""
    stored = {name: (raw, q) for name, _, _, raw, q in tensors}
    sd = model.state_dict()
    out = {}
    for name, t in sd.items():
        src = "model.embed_tokens.weight" if name == "lm_head.weight" and \
            "output.weight" not in stored else name
        raw, q = stored[gguf_name(src)]
        val = dequantize(raw, q, tuple(sd[src].shape))
        n = {"q_proj": cfg["num_attention_heads"], "k_proj": cfg["num_key_value_heads"]}
        for k, heads in n.items():
            if arch == "llama" and ".%s." % k in name:
                val = val.reshape(heads, val.shape[0] // heads // 2, 2, -1).swapaxes(1, 2) \
                    .reshape(val.shape)
        out[name] = val
    return out


def check_model(arch, tag, model, cfg, tensors, hf, qtype):
    got = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    want = expected_weights(arch, model, cfg, tensors)
    gsd = got.state_dict()
    if set(gsd) != set(want):
        fail("%s: loaded tensors %s differ" % (tag, sorted(set(gsd) ^ set(want))))
    for name, w in want.items():
        g = gsd[name].numpy()
        if g.shape != w.shape or g.tobytes() != w.astype(np.float32).tobytes():
            fail("%s: %s differs" % (tag, name))
        if qtype == "f32" and not torch.equal(gsd[name], model.state_dict()[name]):
            fail("%s: %s differs from the original" % (tag, name))
    if qtype == "f32":
        # past phi3's original context too, where LongRoPE's long factors apply
        for n in sorted({40, cfg.get("original_max_position_embeddings", 0) + 40}):
            ids = torch.arange(1, n).reshape(1, -1) % cfg["vocab_size"]
            with torch.no_grad():
                if not torch.equal(got(ids).logits, model(ids).logits):
                    fail("%s: logits differ (%d tokens)" % (tag, n - 1))
    print("ok: %s model" % tag)


def check_bf16(arch, model, hf):
    got = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.bfloat16)
    for name, t in model.state_dict().items():
        if not torch.equal(got.state_dict()[name], t.to(torch.bfloat16)):
            fail("%s bf16: %s differs from .to(bfloat16)" % (arch, name))
    print("ok: %s bf16 model" % arch)


def check_tokenizer(arch, orig, hf, specials):
    tok = AutoTokenizer.from_pretrained(hf)
    for s in SAMPLES + specials:
        a, b = orig(s)["input_ids"], tok(s)["input_ids"]
        if a != b:
            fail("%s tokenizer: %r encodes as %s, want %s" % (arch, s, b, a))
        for skip in (False, True):
            da = orig.decode(a, skip_special_tokens=skip)
            db = tok.decode(b, skip_special_tokens=skip)
            if da != db:
                fail("%s tokenizer: %r decodes as %r, want %r" % (arch, s, db, da))
    print("ok: %s tokenizer (%d samples)" % (arch, len(SAMPLES) + len(specials)))


def run(work):
    for name, (arch, _, tokf, qtypes) in MODELS.items():
        gg, orig, specials = tokf()
        model, cfg = make_model(name, len(gg["tokens"]))
        state = {k: v.numpy() for k, v in model.state_dict().items()
                 if not (k == "lm_head.weight" and model.config.tie_word_embeddings)}
        for qtype in qtypes:
            path = os.path.join(work, "%s-%s.gguf" % (name, qtype))
            tensors = write_gguf(path, arch, state, cfg, gg, qtype)
            mnt = os.path.join(work, "m-%s-%s" % (name, qtype))
            mount(path, mnt)
            hf = os.path.join(mnt, ".hf")
            check_model(arch, "%s %s" % (name, qtype), model, cfg, tensors, hf, qtype)
            if qtype == "f32":
                check_tokenizer(name, orig, hf, specials)
                mount(path, mnt + "-bf16", "-o", "dtype=bf16")
                check_bf16(name, model, os.path.join(mnt + "-bf16", ".hf"))


def main():
    print("transformers %s, torch %s" % (transformers.__version__, torch.__version__))
    with tempfile.TemporaryDirectory(prefix="gguffs-hf-") as work:
        try:
            run(work)
        finally:
            unmount_all()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
