#!/usr/bin/env bash
# SIGTERM and SIGINT to the daemon while readers hold tensor files open and
# read: the mount goes away, the daemon exits, the readers get errors (not
# hangs, not wrong bytes), no fusermount3 is left behind, and the mount
# point can be used again.
. "$SRCDIR/tests/lib/common.sh"

model=$WORK/model.gguf
random_model "$model" 11 --tensors 24 --max-elements 131072

for sig in TERM INT; do
    mnt=$WORK/mnt-$sig
    gguffs_mount "$model" "$mnt"
    pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
    bg_start "$WORK/hold-$sig" env GGUFFS_STRESS_THREADS=4 timeout 120 "$STRESS" hold "$model" "$mnt" 60
    reader=$BG
    wait_holding "$mnt" 60 || fail "SIG$sig: the readers did not open every file: $(cat "$WORK/hold-$sig")"
    kill -0 "$reader" 2>/dev/null || fail "the readers ended early: $(cat "$WORK/hold-$sig")"
    echo "== SIG$sig to the daemon (pid $pid) with readers running"
    kill -"$sig" "$pid" || fail "cannot signal the daemon"
    wait_unmounted "$mnt" 10 || fail "SIG$sig: $mnt still mounted after 10 s"
    wait_gone "$pid" 20 || fail "SIG$sig: the daemon is still running after 20 s"
    bg_wait "$reader" 30 || fail "SIG$sig: readers still blocked 30 s after the daemon exited"
    cat "$WORK/hold-$sig"
    [ "$BG_RC" -eq 0 ] || fail "SIG$sig: readers saw wrong bytes or failed (status $BG_RC)"
    grep -q '^readers ended by an error: 4 ' "$WORK/hold-$sig" ||
        fail "SIG$sig: not every reader got an error after the daemon exited"
    no_fusermount "$mnt" || fail "SIG$sig: a fusermount3 for $mnt is still running"
    # Nothing stale is left: the directory is usable and can be mounted again.
    timeout 5 ls "$mnt" >/dev/null || fail "SIG$sig: $mnt is unusable after the daemon exited"
    gguffs_mount "$model" "$mnt"
    timeout 30 "$STRESS" verify "$model" "$mnt" >/dev/null || fail "SIG$sig: remount serves wrong data"
    gguffs_umount "$mnt"
    echo "SIG$sig: mount gone, daemon exited, readers got errors"
done

# Started with the signal ignored (nohup, `cmd &` in a script) or blocked,
# the daemon must still unmount on it: libfuse only installs its handler
# over SIG_DFL, so gguffs resets the three first.
for sig in HUP INT TERM; do
    for how in ignored blocked; do
        mnt=$WORK/mnt-$how-$sig
        mkdir -p "$mnt"
        GGUFFS_MOUNTS+=("$mnt")
        if [ $how = ignored ]; then
            (
                trap '' "$sig"
                exec "$GGUFFS" "$model" "$mnt"
            ) || fail "mount with SIG$sig $how failed"
        else
            "$PYTHON" -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [getattr(signal, "SIG" + sys.argv[1])])
os.execv(sys.argv[2], sys.argv[2:])' "$sig" "$GGUFFS" "$model" "$mnt" ||
                fail "mount with SIG$sig $how failed"
        fi
        pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
        kill -"$sig" "$pid" || fail "cannot signal the daemon"
        wait_unmounted "$mnt" 10 || fail "SIG$sig inherited $how: still mounted after 10 s"
        wait_gone "$pid" 20 || fail "SIG$sig inherited $how: the daemon is still running"
        echo "SIG$sig inherited $how: mount gone, daemon exited"
    done
done
echo "signals: passed"
