#!/usr/bin/env bash
# Unmounting while readers hold tensor files open and read.
#
# umount -l (and fusermount3 -u -z) detach the mount at once; readers keep
# their open files and read correct bytes until they close them, and the
# daemon exits when the last one is closed. A plain fusermount3 -u refuses
# (EBUSY) while files are open and changes nothing; it succeeds once they are
# closed. Nothing may hang: every step is bounded by `timeout`.
. "$SRCDIR/tests/lib/common.sh"

model=$WORK/model.gguf
random_model "$model" 12 --tensors 24 --max-elements 131072

# start_readers MNT NAME SECONDS: 4 readers holding every file open.
start_readers() {
    bg_start "$WORK/hold-$2" env GGUFFS_STRESS_THREADS=4 timeout $(($3 + 90)) \
        "$STRESS" hold "$model" "$1" "$3"
    wait_holding "$1" 60 || fail "$2: the readers did not open every file: $(cat "$WORK/hold-$2")"
    kill -0 "$BG" 2>/dev/null || fail "$2: the readers ended early: $(cat "$WORK/hold-$2")"
}

# Lazy detach: umount -l, then fusermount3 -u -z.
for how in "umount -l" "fusermount3 -u -z"; do
    name=${how// /}
    mnt=$WORK/mnt-$name
    gguffs_mount "$model" "$mnt"
    pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
    start_readers "$mnt" "$name" 6
    reader=$BG
    echo "== $how $mnt with readers running"
    read -ra cmd <<<"$how"
    timeout 10 "${cmd[@]}" "$mnt" || fail "$how $mnt failed or hung"
    wait_unmounted "$mnt" 5 || fail "$how: $mnt still mounted"
    no_fusermount "$mnt" || fail "$how: a fusermount3 for $mnt is still running"
    # The readers go on through their open files, then close them.
    bg_wait "$reader" 60 || fail "$how: readers still blocked 60 s later"
    cat "$WORK/hold-$name"
    [ "$BG_RC" -eq 0 ] || fail "$how: readers saw wrong bytes (status $BG_RC)"
    wait_gone "$pid" 20 || fail "$how: the daemon still runs 20 s after the last file closed"
    echo "$how: detached at once, readers finished, daemon exited"
done

# Plain fusermount3 -u while files are open, then again once they are closed.
mnt=$WORK/mnt-plain
gguffs_mount "$model" "$mnt"
pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
start_readers "$mnt" plain 6
reader=$BG
echo "== fusermount3 -u $mnt with readers running"
timeout 10 fusermount3 -u "$mnt" 2>"$WORK/fusermount.err"
rc=$?
[ $rc -ne 124 ] || fail "fusermount3 -u hung"
if [ $rc -eq 0 ]; then
    # The kernel let it go (no file was open at that instant after all).
    wait_unmounted "$mnt" 5 || fail "fusermount3 -u returned 0 but $mnt is still mounted"
    echo "fusermount3 -u: unmounted at once"
else
    grep -qi busy "$WORK/fusermount.err" ||
        fail "fusermount3 -u failed for another reason than EBUSY: $(cat "$WORK/fusermount.err")"
    expect_alive "$pid" "$mnt"
    echo "fusermount3 -u: refused while busy, mount intact"
fi
bg_wait "$reader" 60 || fail "fusermount3 -u: readers still blocked 60 s later"
cat "$WORK/hold-plain"
[ "$BG_RC" -eq 0 ] || fail "fusermount3 -u: readers saw wrong bytes (status $BG_RC)"
if mountpoint -q "$mnt"; then
    timeout 10 fusermount3 -u "$mnt" || fail "fusermount3 -u failed with no file open"
    wait_unmounted "$mnt" 5 || fail "$mnt still mounted after fusermount3 -u"
fi
wait_gone "$pid" 20 || fail "the daemon still runs 20 s after fusermount3 -u"
no_fusermount "$mnt" || fail "a fusermount3 for $mnt is still running"
echo "unmount: passed"
