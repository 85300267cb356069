#!/bin/bash
# test-gpu-fallback.sh - reads stay correct when the GPU path cannot be had:
# a forced backend (cuda, hip) on a machine without it, a stub libcuda, and
# a code-object override (Q4_0_DEQUANT_FATBIN / Q4_0_DEQUANT_HSACO) that is
# missing or garbage. Each mount is compared with a backend=cpu mount, and
# its .control must say cpu-fallback, with the reason, for the Q4_0 tensors.
. "$(dirname "$0")/gpu-common.sh"

make_model "$WORK/m.gguf" --seed 3 --types q4_0,f32 --tensors 6 --max-elements 300000
gguffs_mount "$WORK/m.gguf" "$WORK/cpu" -o backend=cpu

n=0
# expect_fallback MNT WANT: Q4_0 rows say cpu-fallback, reasons hold WANT.
expect_fallback() {
    local mnt=$1 want=$2 rows name path reason shown=""
    compare_mounts "$mnt" "$WORK/cpu"
    rows=$(q4_0_rows "$mnt")
    [ -n "$rows" ] || fail "no Q4_0 tensor in the model"
    while IFS=$'\t' read -r name path reason; do
        [ "$path" = "cpu-fallback" ] || fail "$mnt: $name: path '$path', want cpu-fallback"
        [[ "$reason" == *"$want"* ]] || fail "$mnt: $name: reason '$reason' lacks '$want'"
        shown=$reason
    done <<<"$rows"
    echo "  cpu-fallback: $shown"
}

# mount_case NAME VAR=VALUE gguffs-options...: mount with VAR in gguffs' environment.
mount_case() {
    local name=$1
    local -x "$2"
    shift 2
    n=$((n + 1))
    gguffs_mount "$WORK/m.gguf" "$WORK/$name" "$@"
}

for b in cuda hip; do
    probe=$("$GPU_API" probe $b) || fail "gpu_api probe $b failed"
    echo "backend=$b: $probe"
    if [[ "$probe" == ok* ]]; then
        echo "  a $b GPU is here: the forced-backend fallback is not testable"
        has_gpu=1
    else
        has_gpu=0
        mount_case forced-$b GGUFFS_CASE=forced -o backend=$b
        expect_fallback "$WORK/forced-$b" "$b: "
    fi
    var=Q4_0_DEQUANT_FATBIN
    [ $b = hip ] && var=Q4_0_DEQUANT_HSACO
    printf 'this is not a code object\n' >"$WORK/garbage.$b"
    for file in "$WORK/missing.$b" "$WORK/garbage.$b"; do
        mount_case "bad-$b-${file##*/}" "$var=$file" -o backend=$b
        # without the runtime, its own reason comes first
        if [ $has_gpu = 1 ]; then want="$var"; else want="$b: "; fi
        [ $has_gpu = 1 ] && [[ $file == *garbage* ]] && want="loading $file"
        expect_fallback "$WORK/bad-$b-${file##*/}" "$want"
    done
done

# The stub libcuda (what a machine without the driver has) must read as no GPU.
stub=""
for d in "${CUDA_HOME:-/usr/local/cuda}/lib64/stubs" /usr/local/cuda/targets/x86_64-linux/lib/stubs; do
    [ -f "$d/libcuda.so" ] && stub="$d/libcuda.so" && break
done
if [ -n "$stub" ]; then
    mkdir -p "$WORK/stub" && ln -sf "$stub" "$WORK/stub/libcuda.so.1"
    mount_case stub-cuda "LD_LIBRARY_PATH=$WORK/stub${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" -o backend=cuda
    expect_fallback "$WORK/stub-cuda" "cuda: stub driver (no GPU)"
else
    echo "  no stub libcuda.so found: stub-driver case not run"
fi
echo "PASS ($n fallback mounts)"
