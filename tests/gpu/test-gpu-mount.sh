#!/bin/bash
# test-gpu-mount.sh - a Q4_0 model mounted with -o backend=cuda: every tensor
# file equal to a backend=cpu mount's, and .control saying gpu-cuda for each
# Q4_0 tensor. Skips (77) without a CUDA GPU.
. "$(dirname "$0")/gpu-common.sh"

probe=$("$GPU_API" probe cuda) || fail "gpu_api probe failed"
case "$probe" in
ok*) ;;
*) skip "no CUDA GPU here (${probe#fallback })" ;;
esac

# Shapes up to 6M elements: several pipeline chunks per tensor, odd sizes.
make_model "$WORK/m.gguf" --seed 11 --types q4_0,f32,f16 --tensors 12 --max-elements 6000000
gguffs_mount "$WORK/m.gguf" "$WORK/gpu" -o backend=cuda
gguffs_mount "$WORK/m.gguf" "$WORK/cpu" -o backend=cpu
compare_mounts "$WORK/gpu" "$WORK/cpu"

rows=$(q4_0_rows "$WORK/gpu")
[ -n "$rows" ] || fail "no Q4_0 tensor in the model"
while IFS=$'\t' read -r name path reason; do
    [ "$path" = "gpu-cuda" ] || fail "$name: path '$path' (reason '$reason'), want gpu-cuda"
done <<<"$rows"
echo "  $(wc -l <<<"$rows") Q4_0 tensors served by gpu-cuda"
grep '^# gpu' "$WORK/gpu/.control"
grep -q '^# gpu: kernel q4_0_to_fp32_kernel from embedded fatbin' "$WORK/gpu/.control" ||
    fail ".control does not say the kernel came from the embedded fatbin"

# Two readers at once on fresh mounts: concurrent GPU reads in one daemon.
for i in 1 2 3; do
    gguffs_mount "$WORK/m.gguf" "$WORK/gpu-$i" -o backend=cuda
    compare_mounts "$WORK/gpu-$i" "$WORK/cpu" &
    reader=$!
    compare_mounts "$WORK/gpu-$i" "$WORK/cpu"
    wait "$reader" || fail "the concurrent reader of gpu-$i saw different bytes"
    gguffs_umount "$WORK/gpu-$i"
done
echo "PASS"
