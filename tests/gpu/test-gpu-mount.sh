#!/bin/bash
# test-gpu-mount.sh - models mounted with -o backend=cuda: every tensor file
# equal to a backend=cpu mount's, and .control saying gpu-cuda for each
# tensor of a type with a GPU kernel: a Q4_0 model (read by concurrent
# readers too), a Q4_K_M-style mix (Q4_K, Q6_K, F32: llama.cpp's most used
# quantization) and a model of every GPU type. Skips (77) without a CUDA GPU.
# gpu-mount-simulated runs it against tests/gpu/sim's libcuda.so.1, whose
# device is the host.
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

# expect_gpu MNT TYPES: every tensor of TYPES (comma-separated) says gpu-cuda.
expect_gpu() {
    local rows name path reason
    rows=$(type_rows "$1" "$2")
    [ -n "$rows" ] || fail "no tensor of $2 in the model"
    while IFS=$'\t' read -r name path reason; do
        [ "$path" = "gpu-cuda" ] || fail "$name: path '$path' (reason '$reason'), want gpu-cuda"
    done <<<"$rows"
    echo "  $(wc -l <<<"$rows") tensors of $2 served by gpu-cuda"
}

expect_gpu "$WORK/gpu" q4_0
grep '^# gpu' "$WORK/gpu/.control"
grep -q '^# gpu: kernels q4_0_to_fp32_kernel, .*q6_k_to_fp32_kernel from embedded fatbin' \
    "$WORK/gpu/.control" || fail ".control does not say the kernels came from the embedded fatbin"

# Q4_K_M-style: Q4_K and Q6_K weights, F32 norms. Every quantized tensor on
# the GPU, every file bit-identical to the CPU's.
make_model "$WORK/km.gguf" --seed 12 --types q4_K,q6_K,f32 --tensors 10 --max-elements 6000000
gguffs_mount "$WORK/km.gguf" "$WORK/km-gpu" -o backend=cuda
gguffs_mount "$WORK/km.gguf" "$WORK/km-cpu" -o backend=cpu
compare_mounts "$WORK/km-gpu" "$WORK/km-cpu"
expect_gpu "$WORK/km-gpu" q4_K,q6_K

# Every GPU type, with F16 beside them.
gpu_types=q4_0,q4_1,q5_0,q5_1,q8_0,q4_K,q5_K,q6_K
make_model "$WORK/all.gguf" --seed 13 --types "$gpu_types,f16" --tensors 12 \
    --max-elements 3000000
gguffs_mount "$WORK/all.gguf" "$WORK/all-gpu" -o backend=cuda
gguffs_mount "$WORK/all.gguf" "$WORK/all-cpu" -o backend=cpu
compare_mounts "$WORK/all-gpu" "$WORK/all-cpu"
expect_gpu "$WORK/all-gpu" "$gpu_types"

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
