#!/usr/bin/env bash
# MNT/.hf/: tiny llama, qwen2, qwen3 and phi3 models written as llama.cpp's
# converter writes them (tests/hf/hf_gguf.py), mounted in f32 and bf16;
# config.json, the safetensors names, shapes and bytes (llama's Q/K rows
# back in HF order), the tokenizer files; no .hf/ for a model that is not
# mapped, and .control's reason.
. "$SRCDIR/tests/fs/common.sh"
export PYTHONPATH=$SRCDIR/tests/hf:$PYTHONPATH

check=$SRCDIR/tests/hf/hf_check.py
"$PYTHON" "$check" write "$W" || fail "cannot write the models"
for m in llama llama3 qwen2 qwen3 phi3 phi3l; do
    for dt in f32 bf16; do
        gguffs_mount "$W/$m.gguf" "$W/$m-$dt" -o backend=cpu,dtype=$dt
        "$PYTHON" "$check" check "$W" $m "$W/$m-$dt" $dt || fail "$m ($dt): .hf differs"
        gguffs_umount "$W/$m-$dt"
    done
done

gguffs_mount "$W/llama.gguf" "$W/ok"
grep -qx '# hf: .hf/ (LlamaForCausalLM)' "$W/ok/.control" || fail ".control does not show .hf"

gguffs_mount "$W/falcon.gguf" "$W/falcon"
[ ! -e "$W/falcon/.hf" ] || fail "an unmapped architecture has .hf"
grep -qx "# hf: not mapped: architecture 'falcon'" "$W/falcon/.control" ||
    fail ".control does not say why falcon has no .hf"

gguffs_mount "$W/extra.gguf" "$W/extra"
[ ! -e "$W/extra/.hf" ] || fail "a model with an unmapped tensor has .hf"
grep -qx "# hf: not mapped: tensor 'blk.0.mystery.weight'" "$W/extra/.control" ||
    fail ".control does not name the unmapped tensor"
gguffs_mount "$W/rope.gguf" "$W/rope"
[ ! -e "$W/rope/.hf" ] || fail "a model with unknown rope factors has .hf"
grep -qx "# hf: not mapped: tensor 'rope_freqs.weight': not Llama 3's rope factors" "$W/rope/.control" ||
    fail ".control does not say why the rope factors are not mapped"
gguffs_mount "$W/phi3rope.gguf" "$W/phi3rope"
[ ! -e "$W/phi3rope/.hf" ] || fail "a phi3 model with an unknown attention factor has .hf"
grep -qx "# hf: not mapped: tensor 'rope_factors_long.weight': not LongRoPE factors" "$W/phi3rope/.control" ||
    fail ".control does not say why phi3's rope factors are not mapped"
gguffs_mount "$W/phi3ffn.gguf" "$W/phi3ffn"
[ ! -e "$W/phi3ffn/.hf" ] || fail "a phi3 model with a mis-sized gate_up tensor has .hf"
grep -qx "# hf: not mapped: tensor 'blk.0.ffn_up.weight': not the size of its fused HF tensor" \
    "$W/phi3ffn/.control" || fail ".control does not name phi3's mis-sized fused tensor"
echo ok
