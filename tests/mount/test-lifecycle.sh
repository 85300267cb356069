#!/usr/bin/env bash
# The life of a mount: bad models and bad options are refused before
# anything is mounted; gguffs returns only once the mount answers; options
# reach the kernel; unmounting and SIGTERM/SIGINT/SIGHUP (with files open)
# end the daemon and leave nothing mounted; -f stays in the foreground.
. "$SRCDIR/tests/lib/common.sh"

basic_model
m=$W/mnt
mkdir -p "$m"

# daemon_of MNT: pid of the gguffs process serving MNT.
daemon_of() {
    local p exe
    exe=$(readlink -f "$GGUFFS")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
        tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1" || continue
        echo "${p#/proc/}"
        return 0
    done
    return 1
}

# gone PID MNT: within 10 s the mount is gone and the process has exited.
gone() {
    local i
    for ((i = 0; i < 100; i++)); do
        if ! mountpoint -q "$2" && ! kill -0 "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

no_fusermount() {
    ! pgrep -x fusermount3 >/dev/null || ! pgrep -ax fusermount3 | grep -qF -- "$1"
}

echo "== bad models are refused, nothing is mounted"
printf 'GGUF\003\000\000\000garbage' >"$W/garbage.gguf"
head -c 200 "$W/basic.gguf" >"$W/truncated.gguf"
: >"$W/empty.gguf"
for bad in "$W/garbage.gguf" "$W/truncated.gguf" "$W/empty.gguf" "$W/missing.gguf" "$W"; do
    "$GGUFFS" "$bad" "$m" 2>"$W/err" && fail "gguffs accepted $bad"
    rc=$?
    [ $rc = 1 ] || fail "$bad: exit status $rc, want 1"
    grep -q "^gguffs: $bad: ." "$W/err" || fail "$bad: message '$(cat "$W/err")'"
    mountpoint -q "$m" && fail "$bad: something got mounted"
    daemon_of "$m" >/dev/null && fail "$bad: a gguffs process is left"
    echo "refused: $(cat "$W/err")"
done

echo "== bad mount points are refused"
# A missing one is refused by libfuse's own parser ("fuse: bad mount point").
for bad in "$W/no-such-dir" "$W/basic.gguf"; do
    "$GGUFFS" "$W/basic.gguf" "$bad" 2>"$W/err" && fail "gguffs mounted on $bad"
    grep -q "$bad.*: ." "$W/err" || fail "$bad: message '$(cat "$W/err")'"
    mountpoint -q "$bad" && fail "$bad: something got mounted"
    echo "refused: $(cat "$W/err")"
done

echo "== bad options are refused"
for args in "-o backend=vulkan" "-o readahead=much" "-o cache_size=lots" "-o cache_size=512K" "-o device=-1"; do
    # shellcheck disable=SC2086
    "$GGUFFS" $args "$W/basic.gguf" "$m" 2>"$W/err" && fail "gguffs accepted $args"
    rc=$?
    [ $rc = 2 ] || fail "$args: exit status $rc, want 2 (a usage error)"
    grep -q "^gguffs: " "$W/err" || fail "$args: message '$(cat "$W/err")'"
    mountpoint -q "$m" && fail "$args: something got mounted"
    echo "refused: $(cat "$W/err")"
done
"$GGUFFS" "$W/basic.gguf" 2>"$W/err" && fail "gguffs ran without a mount point"
[ $? = 2 ] || fail "no mount point: not a usage error"
"$GGUFFS" "$W/basic.gguf" "$m" "$m" 2>"$W/err" && fail "gguffs took three arguments"
[ $? = 2 ] || fail "three arguments: not a usage error"

echo "== --help and --version"
"$GGUFFS" --help >"$W/help" || fail "--help failed"
grep -q "backend=auto|cpu|hip|cuda" "$W/help" || fail "--help does not describe -o backend"
grep -q "cache_size" "$W/help" || fail "--help does not describe -o cache_size"
grep -q -- "-f" "$W/help" || fail "--help does not show libfuse's options"
"$GGUFFS" --version >"$W/version" 2>&1 || fail "--version failed"
grep -q "^gguffs version " "$W/version" || fail "--version: $(cat "$W/version")"
grep -qi "fuse.*version" "$W/version" || fail "--version does not give libfuse's version"

echo "== usable as soon as gguffs returns"
GGUFFS_MOUNTS+=("$m")
"$GGUFFS" -o backend=cpu "$W/basic.gguf" "$m" || fail "mount failed"
# no waiting: the first access must already see the model
[ "$(ls "$m" | wc -l)" = "$(wc -l <"$W/ref/manifest.tsv")" ] || fail "listing incomplete right after mount"
head -c 1 "$m/.control" >/dev/null || fail ".control unreadable right after mount"
pid=$(daemon_of "$m") || fail "no daemon for $m"
[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] || fail "the daemon did not start its own session"
[ "$(readlink "/proc/$pid/cwd")" = / ] || fail "the daemon's cwd is $(readlink "/proc/$pid/cwd")"
[ "$(readlink "/proc/$pid/fd/2")" = /dev/null ] || fail "the daemon keeps stderr open"
fusermount3 -u "$m" || fail "fusermount3 -u failed"
gone "$pid" "$m" || fail "the daemon did not exit after fusermount3 -u"
echo "clean unmount: daemon exited"

echo "== signals with files open"
for sig in TERM INT HUP; do
    gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu
    pid=$(daemon_of "$m") || fail "no daemon for $m"
    exec 3<"$m/token_embd.weight" 4<"$m/.control"
    head -c 100000 <&3 >/dev/null
    kill -"$sig" "$pid"
    gone "$pid" "$m" || fail "SIG$sig: the mount or the daemon is still there"
    exec 3<&- 4<&-
    no_fusermount "$m" || fail "SIG$sig: fusermount3 left running"
    echo "SIG$sig: mount gone, daemon exited"
done

echo "== -f stays in the foreground"
"$GGUFFS" -f -o backend=cpu "$W/basic.gguf" "$m" 2>"$W/fg.err" &
fg=$!
for ((i = 0; i < 100; i++)); do
    mountpoint -q "$m" && break
    sleep 0.1
done
mountpoint -q "$m" || fail "-f: not mounted after 10 s"
cmp -s "$m/output_norm.weight" "$W/ref/output_norm.weight" || fail "-f: wrong contents"
# (SIGTERM: a job started with & in a script ignores SIGINT, and libfuse
# leaves ignored signals alone.)
kill -TERM $fg
gone $fg "$m" || fail "-f: still mounted or running 10 s after SIGTERM"
wait $fg || fail "-f: exit status $? after SIGTERM ($(cat "$W/fg.err"))"

echo "== options reach the kernel"
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu -o allow_other
grep " $m fuse" /proc/mounts | grep -q default_permissions ||
    fail "allow_other without default_permissions: $(grep " $m " /proc/mounts)"
grep " $m fuse" /proc/mounts | grep -q allow_other || fail "allow_other not passed on"
gguffs_umount "$m"
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu,allow_other,nodefault_permissions
grep " $m fuse" /proc/mounts | grep -q default_permissions && fail "nodefault_permissions ignored"
gguffs_umount "$m"
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu -o max_read=65536 -o threads=1 -o cache_size=1G
grep " $m fuse" /proc/mounts | grep -q max_read=65536 || fail "max_read not passed on"
cmp -s "$m/token_embd.weight" "$W/ref/token_embd.weight" || fail "max_read=65536: wrong contents"
gguffs_umount "$m"
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu -o readahead=1M
dev=$(stat -c %d "$m")
ra=$(cat "/sys/class/bdi/$((dev >> 8)):$((dev & 255))/read_ahead_kb") || fail "no bdi for $m"
[ "$ra" = 1024 ] || fail "readahead=1M: read_ahead_kb is $ra"
cmp -s "$m/token_embd.weight" "$W/ref/token_embd.weight" || fail "readahead=1M: wrong contents"
gguffs_umount "$m"
echo "lifecycle: passed"
