#!/usr/bin/env bash
# MNT/.hf/: tiny llama, qwen2 and qwen3 models written as llama.cpp's
# converter writes them (tests/hf/hf_gguf.py), mounted in f32 and bf16;
# config.json, the safetensors names, shapes and bytes (llama's Q/K rows
# back in HF order), the tokenizer files; no .hf/ for a model that is not
# mapped, and .control's reason.
. "$SRCDIR/tests/fs/common.sh"
export PYTHONPATH=$SRCDIR/tests/hf:$PYTHONPATH

check=$SRCDIR/tests/hf/hf_check.py
"$PYTHON" "$check" write "$W" || fail "cannot write the models"
for m in llama llama3 qwen2 qwen3; do
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
echo ok
