#!/usr/bin/env bash
# Resource bounds: headers that declare 2^40 tensors or key-value pairs,
# 2^60-byte strings, 2^60-element arrays, absurd dimensions, or a NUL in a
# tensor name are refused at once, without allocating what they declare:
# gguffs runs under `ulimit -v` 200 MB and `timeout 5`, must exit with an
# error (not a signal, not the timeout) that names the file, and must mount
# nothing. A valid model still mounts under the same limit.
. "$SRCDIR/tests/lib/common.sh"

mnt=$WORK/mnt
mkdir -p "$mnt"
"$PYTHON" - "$WORK" "$SRCDIR/tests/tools" <<'PY' || fail "cannot write the hostile files"
import os, struct, sys
work = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from gguf_writer import GV, enc_str as key, header_bytes as head
u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)
STRING, ARRAY, UINT64 = GV.STRING, GV.ARRAY, GV.UINT64
pad = bytes(256)
files = {
    "tensors-2e40": head(1 << 40, 0) + pad,
    "tensors-max": head(2**64 - 1, 0) + pad,
    "kv-2e40": head(0, 1 << 40) + pad,
    "key-len-2e60": head(0, 1) + u64(1 << 60) + b"general" + pad,
    "string-value-2e60": head(0, 1) + key(b"a") + u32(STRING) + u64(1 << 60) + pad,
    "array-2e60-u64": head(0, 1) + key(b"a") + u32(ARRAY) + u32(UINT64) + u64(1 << 60) + pad,
    "array-2e40-strings": head(0, 1) + key(b"a") + u32(ARRAY) + u32(STRING) + u64(1 << 40) + pad,
    "array-2e40-arrays": head(0, 1) + key(b"a") + u32(ARRAY) + u32(ARRAY) + u64(1 << 40) + pad,
    "tensor-name-2e60": head(1, 0) + u64(1 << 60) + b"t" + pad,
    "tensor-dims-2e31": head(1, 0) + key(b"t") + u32(1 << 31) + pad,
    "tensor-ne-overflow": head(1, 0) + key(b"t") + u32(2) + u64(1 << 62) + u64(1 << 62)
                          + u32(0) + u64(0) + pad,
    "tensor-name-nul": head(1, 0) + key(b"a\0b") + u32(1) + u64(4) + u32(0) + u64(0)
                       + bytes(32 - (24 + 8 + 3 + 4 + 8 + 4 + 8) % 32) + bytes(16),
}
for name, data in files.items():
    with open(os.path.join(work, name + ".gguf"), "wb") as f:
        f.write(data)
PY

# Under ASan the shadow memory alone exceeds any `ulimit -v`: there, rely on
# the timeout and on ASan's own report of a huge allocation.
limit=204800
if ldd "$GGUFFS" 2>/dev/null | grep -q libasan; then
    limit=unlimited
    echo "gguffs is built with ASan: no ulimit -v (ASan reports huge allocations itself)"
fi

# run_limited MODEL: gguffs MODEL MNT under the limits; sets RC and ERR.
run_limited() {
    ERR=$WORK/err
    (ulimit -v "$limit" && exec timeout 5 "$GGUFFS" -o backend=cpu "$1" "$mnt") \
        >"$WORK/out" 2>"$ERR"
    RC=$?
}

n=0
for f in "$WORK"/*.gguf; do
    run_limited "$f"
    msg=$(head -c 300 "$ERR")
    if mountpoint -q "$mnt"; then
        fusermount3 -u "$mnt"
        fail "$(basename "$f"): mounted"
    fi
    [ $RC -ne 124 ] || fail "$(basename "$f"): not refused within 5 s"
    if [ $RC -eq 0 ] || [ $RC -ge 128 ]; then
        fail "$(basename "$f"): exit status $RC: $msg"
    fi
    grep -qF "$f" "$ERR" || fail "$(basename "$f"): the message does not name the file: $msg"
    grep -qi 'memory' "$ERR" && fail "$(basename "$f"): refused for lack of memory: $msg"
    echo "$(basename "$f"): refused (status $RC): $msg"
    n=$((n + 1))
done

# Sparse files cost no disk and defeat "the file cannot hold that many"
# checks: 2^28 tensor infos or key/value pairs fit in 1 TiB of zeros. The
# parser may reserve address space for the declared count, but must refuse at
# the first empty name without touching it. (The whole file is mapped, so no
# `ulimit -v` here: the peak RSS of gguffs is measured instead.)
"$PYTHON" - "$WORK" "$GGUFFS" "$mnt" "$limit" "$SRCDIR/tests/tools" <<'PY' || fail "a sparse hostile file was not refused cheaply"
import os, resource, subprocess, sys
work, gguffs, mnt, limit = sys.argv[1:5]
sys.path.insert(0, sys.argv[5])
from gguf_writer import header_bytes
cases = {"sparse-tensors-2e28": (1 << 28, 0), "sparse-kv-2e28": (0, 1 << 28)}
bad = 0
for name, (nt, nkv) in cases.items():
    path = os.path.join(work, name + ".gguf")
    with open(path, "wb") as f:
        f.write(header_bytes(nt, nkv))
        try:
            f.truncate(1 << 40)
        except OSError as e:
            print("SKIP %s: this file system refuses a 1 TiB sparse file (%s)" % (name, e))
            continue
    p = subprocess.run(["timeout", "5", gguffs, "-o", "backend=cpu", path, mnt],
                       capture_output=True, text=True)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    os.unlink(path)
    msg = p.stderr.strip()[:300]
    ok = 0 < p.returncode < 124 and path in p.stderr and "memory" not in msg
    ok = ok and (limit == "unlimited" or rss < 100)
    print("%s: %s (status %d, peak RSS so far %d MiB): %s" %
          (name, "refused" if ok else "FAIL", p.returncode, rss, msg))
    bad += not ok
sys.exit(1 if bad else 0)
PY
mountpoint -q "$mnt" && fail "a sparse hostile file was mounted"

# The limit itself does not stop a valid model from mounting.
random_model "$WORK/valid.model" 20 --tensors 8 --max-elements 65536
run_limited "$WORK/valid.model"
mountpoint -q "$mnt" || fail "a valid model does not mount under the same limits: $(cat "$ERR")"
timeout 30 "$STRESS" verify "$WORK/valid.model" "$mnt" >/dev/null || {
    fusermount3 -u "$mnt"
    fail "the valid model reads wrong under the limits"
}
timeout 10 fusermount3 -u "$mnt" || fail "cannot unmount $mnt"
echo "bounds: $n hostile headers refused under ulimit -v ${limit} KiB and timeout 5; passed"
