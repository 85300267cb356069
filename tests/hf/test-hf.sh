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

# not_mapped NAME WHY: NAME.gguf mounts without .hf/, and .control says why
not_mapped() {
    gguffs_mount "$W/$1.gguf" "$W/$1"
    [ ! -e "$W/$1/.hf" ] || fail "$1: has .hf/ though it should not"
    grep -qxF "# hf: not mapped: $2" "$W/$1/.control" ||
        fail "$1: .control does not say: not mapped: $2"
}
not_mapped falcon "architecture 'falcon'"
not_mapped extra "tensor 'blk.0.mystery.weight'"
not_mapped rope "tensor 'rope_freqs.weight': not Llama 3's rope factors"
not_mapped phi3rope "tensor 'rope_factors_long.weight': not LongRoPE factors"
not_mapped phi3ffn "tensor 'blk.0.ffn_up.weight': not the size of its fused HF tensor"
echo ok
