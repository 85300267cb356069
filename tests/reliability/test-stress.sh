#!/usr/bin/env bash
# Concurrent reads of a random model of every type, every byte checked
# against the scalar reference, with stat/readdir/control-file readers
# alongside: once with -o backend=cpu, once with the default backend.
# GGUFFS_STRESS_SECONDS (default 20) bounds each run.
. "$SRCDIR/tests/lib/common.sh"

model=$WORK/model.gguf
# ~40 tensors of every supported type, up to 256 Ki elements (1 MiB of FP32).
random_model "$model" "${GGUFFS_STRESS_MODEL_SEED:-7}" --tensors 40 --max-elements 262144

for backend in cpu default; do
    mnt=$WORK/mnt-$backend
    opts=()
    [ "$backend" = default ] || opts=(-o "backend=$backend")
    gguffs_mount "$model" "$mnt" "${opts[@]}"
    pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
    echo "== stress, backend $backend"
    secs=${GGUFFS_STRESS_SECONDS:-20}
    timeout $((secs + 150)) "$STRESS" run "$model" "$mnt"
    rc=$?
    [ $rc -eq 0 ] || fail "stress run on $mnt (backend $backend) failed with status $rc"
    expect_alive "$pid" "$mnt"
    # Every tensor was served, and no read failed.
    timeout 10 cat "$mnt/.control" >"$WORK/control-$backend" || fail "cannot read .control"
    bad=$(awk -F'\t' '!/^#/ && $5 ~ /(^|,)error(,|$)/' "$WORK/control-$backend")
    [ -z "$bad" ] || fail "the control file records failed reads: $(head -3 <<<"$bad")"
    gguffs_umount "$mnt"
    wait_gone "$pid" 10 || fail "the daemon (pid $pid) did not exit after unmount"
done
echo "stress: passed"
