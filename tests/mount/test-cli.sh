#!/usr/bin/env bash
# The command line as a user meets it: usage errors exit 2 with one line
# and nothing forked or mounted; a FIFO, socket or device as MODEL is
# refused at once; --version and --help; the mount's identity (fsname,
# subtype) in findmnt and df; the log lines of -f, -o quiet and -o verbose.
. "$SRCDIR/tests/lib/common.sh"

basic_model
m=$W/mnt
mkdir -p "$m"

# refused STATUS WANT ARGS...: gguffs exits STATUS at once with exactly one
# line on stderr that contains WANT, and nothing is mounted.
refused() {
    local want_rc=$1 want=$2 rc
    shift 2
    timeout 10 "$GGUFFS" "$@" >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    [ "$rc" = "$want_rc" ] || fail "gguffs $*: status $rc, want $want_rc ($(cat "$W/err"))"
    [ "$(wc -l <"$W/err")" = 1 ] || fail "gguffs $*: not one line: $(cat "$W/err")"
    grep -qF -- "$want" "$W/err" || fail "gguffs $*: '$(cat "$W/err")' lacks '$want'"
    grep -q '^gguffs: ' "$W/err" || fail "gguffs $*: '$(cat "$W/err")' is not gguffs' own"
    mountpoint -q "$m" && fail "gguffs $*: something got mounted"
    echo "refused ($rc): $(cat "$W/err")"
}

echo "== usage errors: status 2, one line, before the fork"
b=$W/basic.gguf
refused 2 "threads=-1: bad value '-1', want an integer from 1 to 1024" -o threads=-1 "$b" "$m"
refused 2 "want an integer from 1 to 1024" -o threads=0 "$b" "$m"
refused 2 "want an integer from 1 to 1024" -o threads=4x "$b" "$m"
refused 2 "want an integer from 1 to 1024" -o threads=18446744073709551617 "$b" "$m"
refused 2 "want an integer from 1 to 1024" -o threads=1025 "$b" "$m"
refused 2 "want an integer from 1 to 1024" -o threads=+4 "$b" "$m"
refused 2 "threads needs a value" -o threads "$b" "$m"
refused 2 "want a GPU ordinal" -o device=-1 "$b" "$m"
refused 2 "want a GPU ordinal" -o device=4294967296 "$b" "$m"
refused 2 "want a size of at least 1M" -o cache_size=512K "$b" "$m"
refused 2 "want a size of at least 1M" -o cache_size=-1G "$b" "$m"
refused 2 "want a size of at least 1M" -o cache_size=99999999999T "$b" "$m"
refused 2 "want a size from 4K to 1G" -o readahead=much "$b" "$m"
refused 2 "want a size from 4K to 1G" -o readahead=0 "$b" "$m"
refused 2 "want an integer from 4096 to 1048576" -o max_read=-1 "$b" "$m"
refused 2 "want auto, cpu, hip or cuda" -o backend=vulkan "$b" "$m"
refused 2 "want f32, f16 or bf16" -o dtype=f64 "$b" "$m"
refused 2 "quiet takes no value" -o quiet=1 "$b" "$m"
refused 2 "unknown option 'frobnicate'; gguffs options are backend=, device=" -o frobnicate "$b" "$m"
refused 2 "unknown option 'frobnicate'" "$b" "$m" -o ro,frobnicate
refused 2 "unexpected argument 'extra'" "$b" "$m" extra
refused 2 "need MODEL and MOUNTPOINT" "$b"
# libfuse's own numbers, which its sscanf("%u") would wrap
refused 2 "want an integer from 1 to 65536" -o max_threads=-1 "$b" "$m"
refused 2 "want an integer from 1 to 65536" -o max_threads=x "$b" "$m"
refused 2 "want an integer from 1 to 65535" -o max_background=0 "$b" "$m"
refused 2 "want an integer from 0 to 4294967295" -o max_readahead=-1 "$b" "$m"
refused 2 "invalid parameter in option" -o time_gran=x "$b" "$m"
# A usage error wins over a bad model: the command line is checked first.
refused 2 "want an integer" -o threads=-1 "$W/missing.gguf" "$m"

echo "== bad model or mount point: status 1"
refused 1 "$W/missing.gguf: cannot open: No such file" "$W/missing.gguf" "$m"
refused 1 "$W/nodir: mount point: No such file or directory" "$b" "$W/nodir"
mkfifo "$W/fifo.gguf"
refused 1 "$W/fifo.gguf: is a FIFO, not a GGUF file" "$W/fifo.gguf" "$m"
refused 1 "/dev/null: is a character device, not a GGUF file" /dev/null "$m"
"$PYTHON" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
    "$W/sock.gguf" || fail "cannot make a socket"
refused 1 "$W/sock.gguf: cannot open: No such device or address" "$W/sock.gguf" "$m"

echo "== --version and --help"
"$GGUFFS" --version >"$W/version" 2>&1 || fail "--version: status $?"
head -n 1 "$W/version" | grep -q '^gguffs version [0-9]' ||
    fail "--version does not start with gguffs' own: $(head -n 1 "$W/version")"
"$GGUFFS" --help >"$W/help" || fail "--help: status $?"
for want in "Exit status: 0" "2 a usage error" "-o dtype=f32|f16|bf16" "-o quiet" "-o verbose" \
    "-o threads=N"; do
    grep -qF -- "$want" "$W/help" || fail "--help lacks '$want'"
done
awk '/^FUSE options/ { exit bad } length > 79 { bad = 1 } END { exit bad }' "$W/help" ||
    fail "--help has lines over 79 columns"

echo "== identity: fsname is the model, subtype gguffs"
mkdir -p "$W/a,b"
cp "$b" "$W/a,b/m.gguf"
gguffs_mount "$W/a,b/m.gguf" "$m" -o backend=cpu
src=$(findmnt -n -o SOURCE "$m") || fail "findmnt $m"
[ "$src" = "$W/a,b/m.gguf" ] || fail "findmnt SOURCE is '$src'"
[ "$(findmnt -n -o FSTYPE "$m")" = fuse.gguffs ] || fail "FSTYPE is $(findmnt -n -o FSTYPE "$m")"
df "$m" | tail -n 1 | grep -qF "$W/a,b/m.gguf" || fail "df: $(df "$m")"
gguffs_umount "$m"
gguffs_mount "$b" "$m" -o backend=cpu,fsname=mine,subtype=other
[ "$(findmnt -n -o SOURCE "$m")" = mine ] || fail "fsname= not kept: $(findmnt -n "$m")"
[ "$(findmnt -n -o FSTYPE "$m")" = fuse.other ] || fail "subtype= not kept"
gguffs_umount "$m"

echo "== -f logs to stderr: ready (model, tensors, backend) and unmount"
# fg_run LOG ARGS...: mount in the foreground, read a file, unmount.
fg_run() {
    local log=$1 pid i
    shift
    "$GGUFFS" -f "$@" "$b" "$m" 2>"$log" &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        mountpoint -q "$m" && break
        sleep 0.1
    done
    mountpoint -q "$m" || fail "-f $*: not mounted after 10 s ($(cat "$log"))"
    cat "$m/output_norm.weight" >/dev/null || fail "-f $*: read failed"
    fusermount3 -u "$m" || fail "-f $*: fusermount3 -u failed"
    wait "$pid" || fail "-f $*: status $?"
}
n=$(wc -l <"$W/ref/manifest.tsv")
fg_run "$W/fg.log" -o backend=cpu
cat "$W/fg.log"
grep -qx "gguffs: $b: mounted at $m: $n tensors, backend cpu" "$W/fg.log" ||
    fail "-f: no ready line with model, tensor count and backend"
grep -qx "gguffs: $b: unmounted from $m" "$W/fg.log" || fail "-f: no unmount line"
fg_run "$W/quiet.log" -o backend=cpu,quiet
[ ! -s "$W/quiet.log" ] || fail "-o quiet still logs: $(cat "$W/quiet.log")"
fg_run "$W/verbose.log" -o backend=cpu,verbose
grep -q "mounted at" "$W/verbose.log" || fail "-o verbose lost the events"
grep -q "^gguffs: open output_norm.weight (inode [0-9]*, pid [0-9]*)$" "$W/verbose.log" ||
    fail "-o verbose: no line for the open of output_norm.weight"
grep -q "gguffs: open " "$W/fg.log" && fail "an open is logged without -o verbose"

echo "== without -f the caller's terminal stays quiet on success"
"$GGUFFS" -o backend=cpu "$b" "$m" 2>"$W/bg.err" || fail "mount failed: $(cat "$W/bg.err")"
GGUFFS_MOUNTS+=("$m")
[ ! -s "$W/bg.err" ] || fail "a successful mount printed: $(cat "$W/bg.err")"
gguffs_umount "$m"
echo "cli: passed"
