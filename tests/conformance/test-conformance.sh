#!/bin/bash
# test-conformance.sh - gguffs against ggml's own CPU reference.
#
#   test-conformance.sh dequant   our type table vs ggml's type traits, our
#                                 decoders vs ggml's on random blocks and on
#                                 blocks that reach every IQ grid entry
#   test-conformance.sh quantized our decoders vs ggml's on data ggml's own
#                                 quantizers wrote (its IQ1/IQ2 setup takes
#                                 ~20 s, hence a test of its own)
#   test-conformance.sh mount     models written by ggml's GGUF writer and by
#                                 tests/tools/gguf_writer.py, mounted with
#                                 gguffs, every tensor file vs ggml's to_float
#
# Needs GGML_CHECK and FETCH_GGML (set by meson), and for `mount` GGUFFS,
# PYTHON and SRCDIR. Skips (77) when ggml cannot be fetched.
set -u

mode=${1:-}
note() { echo "test-conformance: $*"; }
die() { echo "test-conformance: FAIL: $*" >&2; exit 1; }

libdir=$("$FETCH_GGML")
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: ggml's libggml-base.so could not be fetched (npm or registry unreachable)"
    exit 77
fi
[ $rc -eq 0 ] || die "fetch-ggml failed ($rc)"
note "ggml from $libdir"

check_dequant() {
    "$GGML_CHECK" "$libdir" types || die "the type table differs from ggml's type traits"
    "$GGML_CHECK" "$libdir" grids >/dev/null || die "the IQ grids differ from ggml's"
    "$GGML_CHECK" "$libdir" dequant all 3000 7 || die "decoders differ from ggml"
    # Every vector level capped through the environment, as the daemon sees it.
    for level in scalar sse4.1 avx2 avx512; do
        GGUFFS_SIMD=$level "$GGML_CHECK" "$libdir" dequant all 500 11 >/dev/null ||
            die "decoders differ from ggml with GGUFFS_SIMD=$level"
    done
    note "all decoders bit-identical to ggml"
}

# check_control CONTROL SAMES: each tensor ggml_check found identical is in
# the control file with its type and element count, and the path it must
# have taken under backend=cpu: F32 passes through, everything else is
# decoded on the CPU.
check_control() {
    local control=$1 sames=$2 tag file type n want got
    while IFS=$'\t' read -r tag file type n; do
        [ "$tag" = same ] || continue
        case $type in
        f32) want=passthrough ;;
        *) want=cpu ;;
        esac
        got=$(control_field "$control" "$file" path) || fail ".control has no row for $file"
        [ "$got" = "$want" ] || fail "$file ($type): .control path '$got', want '$want'"
        [ "$(control_field "$control" "$file" type)" = "$type" ] ||
            fail "$file: .control type is not $type"
        [ "$(control_field "$control" "$file" elements)" = "$n" ] ||
            fail "$file: .control elements is not $n"
    done <"$sames"
}

# mount_and_compare MODEL NAME: mount, compare every tensor, check .control.
mount_and_compare() {
    local model=$1 name=$2 mnt=$W/mnt-$2
    gguffs_mount "$model" "$mnt" -o backend=cpu
    "$GGML_CHECK" "$libdir" compare "$model" "$mnt" >"$W/$name.out" ||
        { cat "$W/$name.out"; fail "$name: the mount differs from ggml"; }
    tail -n 1 "$W/$name.out"
    cat "$mnt/.control" >"$W/$name.control" || fail "$name: cannot read .control"
    check_control "$W/$name.control" "$W/$name.out"
    gguffs_umount "$mnt"
}

check_mount() {
    : "${GGUFFS:?}" "${PYTHON:?}" "${SRCDIR:?}"
    . "$SRCDIR/tests/lib/mount.sh"
    [ -e /dev/fuse ] || skip "/dev/fuse is missing"
    W=$(gguffs_workdir)
    "$GGML_CHECK" "$libdir" write "$W/ggml.gguf" 3 || fail "ggml could not write a model"
    "$PYTHON" "$SRCDIR/tests/tools/gguf_writer.py" random "$W/ours.gguf" --seed 5 ||
        fail "gguf_writer.py random failed"
    mount_and_compare "$W/ggml.gguf" ggml-written
    mount_and_compare "$W/ours.gguf" writer-random
    # The daemon's scalar path too (the vector level is chosen in the daemon).
    export GGUFFS_SIMD=scalar
    mount_and_compare "$W/ggml.gguf" ggml-written-scalar
    unset GGUFFS_SIMD
    grep -q "^same	dir%2Fslash.weight	" "$W/ggml-written.out" ||
        fail "the tensor named dir/slash.weight was not compared under its encoded name"
    note "every tensor of both models identical to ggml's to_float"
}

check_quantized() {
    "$GGML_CHECK" "$libdir" quantized 4 3 || die "decoders differ from ggml on data ggml quantized"
    note "all decoders bit-identical to ggml on ggml-quantized data"
}

case "$mode" in
dequant) check_dequant ;;
quantized) check_quantized ;;
mount) check_mount ;;
*) die "usage: $0 dequant|quantized|mount" ;;
esac
