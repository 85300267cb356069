#!/usr/bin/env bash
# Held opens of .control must not hold a copy of the table each: opens
# share a snapshot while nothing was read in between, and past a cap on the
# snapshots alive a new open shares the newest one. 300 opens of a
# 20k-tensor model, each after a read that changes the report, used to keep
# 300 renderings (~1.2 MB each); the daemon must now stay within a few.
. "$SRCDIR/tests/fs/common.sh"

model=$W/many.gguf
many_tensors "$model" 20000
mnt=$W/mnt
gguffs_mount "$model" "$mnt" -o backend=cpu
pid=$(daemon_pid "$mnt")
[ -n "$pid" ] || fail "cannot find the daemon of $mnt"

"$PYTHON" - "$mnt" "$pid" <<'PY' || fail "memory grew with the opens of .control"
import os, sys
mnt, pid = sys.argv[1], sys.argv[2]

def rss():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

ctl = os.path.join(mnt, ".control")
def text(fd):
    out = b""
    while True:
        b = os.pread(fd, 1 << 20, len(out))
        if not b:
            return out
        out += b

# Warm up: one open, one read path, so first-use allocations are counted.
fd = os.open(ctl, os.O_RDONLY); one = len(text(fd)); os.close(fd)
os.pread(os.open(os.path.join(mnt, "blk.0.w"), os.O_RDONLY), 16, 0)
before = rss()
fds = []
for i in range(1, 301):
    t = os.open(os.path.join(mnt, "blk.%d.w" % i), os.O_RDONLY)
    os.pread(t, 16, 0)  # a new read: the report changed
    os.close(t)
    fds.append(os.open(ctl, os.O_RDONLY))
for fd in fds[::37]:
    s = text(fd)
    assert s.endswith(b"\n") and b"\ntensor\ttype\t" in s, "a held open reads a broken text"
after = rss()
grown = after - before
print("one rendering %d KiB; RSS %d KiB -> %d KiB with %d opens held (+%d KiB)"
      % (one // 1024, before, after, len(fds), grown))
# Unbounded: 300 renderings, ~350 MB. Bounded: the cap (8) and slack.
if grown > 16 * one // 1024 + 16384:
    sys.exit("RSS grew by %d KiB" % grown)
# The newest open still sees the reads made before it: the last tensor read.
last = text(fds[-1]).decode()
assert "blk.300.w\tf32" in last
for fd in fds:
    os.close(fd)
PY
# Once closed, a fresh open is current again.
cat "$mnt/blk.7777.w" >/dev/null
row=$(grep $'^blk.7777.w\t' "$mnt/.control") || fail "no row for blk.7777.w"
[ "$(cut -f5 <<<"$row")" != unread ] || fail ".control is stale after the opens closed: $row"
echo "ok"
