#!/usr/bin/env bash
# Every attempt to change the mount fails with EROFS and leaves it as it
# was. First the common write paths with the shell's tools (echo >, touch,
# rm, mkdir, mv, truncate, chmod, ln, mkfifo, O_RDWR/O_TRUNC opens, xattrs);
# then the rest: chown, utime, rmdir, O_APPEND/O_EXCL/O_CREAT opens, mknod,
# growing truncate, every write path on .control, and changes to the root
# directory. The mount is read-only for the kernel too ("ro" in
# /proc/mounts), so the VFS refuses before lookup. The listing and the
# bytes are the same before and after.
. "$SRCDIR/tests/lib/common.sh"

echo "== the common write paths"
basic_model
m=$W/mnt
gguffs_mount "$W/basic.gguf" "$m" -o backend=cpu
f=$m/blk.0.attn_norm.weight
before=$(md5sum <"$f")

# expect_erofs WHAT CMD...: CMD must fail, saying "Read-only file system".
expect_erofs() {
    local what=$1 out
    shift
    out=$("$@" 2>&1) && fail "$what succeeded"
    echo "$out" | grep -q "Read-only file system" || fail "$what: '$out' is not EROFS"
    echo "$what: EROFS"
}

expect_erofs "write (echo >)" sh -c "echo x > '$f'"
expect_erofs "append (echo >>)" sh -c "echo x >> '$f'"
expect_erofs "touch an existing file" touch "$f"
expect_erofs "touch a new file" touch "$m/new"
expect_erofs "rm" rm -f "$f"
expect_erofs "mkdir" mkdir "$m/dir"
expect_erofs "mv" mv "$f" "$m/renamed"
expect_erofs "truncate" truncate -s 0 "$f"
expect_erofs "chmod" chmod 644 "$f"
expect_erofs "ln" ln "$f" "$m/hardlink"
expect_erofs "ln -s" ln -s "$f" "$m/symlink"
expect_erofs "mknod" mkfifo "$m/fifo"
expect_erofs "write .control" sh -c "echo x > '$m/.control'"
expect_erofs "open O_RDWR" "$PYTHON" -c "import os,sys; os.open(sys.argv[1], os.O_RDWR)" "$f"
expect_erofs "open O_RDONLY|O_TRUNC" "$PYTHON" -c \
    "import os,sys; os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC)" "$f"
expect_erofs "setxattr" "$PYTHON" -c "import os,sys; os.setxattr(sys.argv[1], 'user.x', b'1')" "$f"
expect_erofs "removexattr" "$PYTHON" -c \
    "import os,sys; os.removexattr(sys.argv[1], 'user.gguf.name')" "$f"
"$PYTHON" -c "import os,sys; sys.exit(os.access(sys.argv[1], os.W_OK))" "$f" ||
    fail "access(W_OK) says the file is writable"

[ "$(md5sum <"$f")" = "$before" ] || fail "the file changed"
[ "$(ls "$m" | wc -l)" = "$(wc -l <"$W/ref/manifest.tsv")" ] || fail "the listing changed"
gguffs_umount "$m"

echo "== the other write paths"
model=$WORK/model.gguf
random_model "$model" 17 --tensors 6 --max-elements 4096
mnt=$WORK/mnt
gguffs_mount "$model" "$mnt"
pid=$(daemon_pid "$mnt") || fail "no daemon found for $mnt"
name=$("$STRESS" layout "$model" | awk 'NR == 1 { print $3 }')
opts=$(awk -v m="$mnt" '$2 == m { print $4 }' /proc/mounts)
[[ ",$opts," == *,ro,* ]] || fail "not mounted read-only: $opts"

timeout 60 "$PYTHON" - "$mnt" "$name" <<'PY' || fail "a write path did not fail with EROFS"
import errno, os, sys

mnt, name = sys.argv[1], sys.argv[2]
tensor, control = os.path.join(mnt, name), os.path.join(mnt, ".control")
new = os.path.join(mnt, "new-file")
bad = checked = 0

# .control's size is its text's, which grows with the reads it reports.
def snapshot():
    return {e: (os.stat(os.path.join(mnt, e)).st_mode,
                os.stat(os.path.join(mnt, e)).st_size if e != ".control" else 0,
                os.stat(os.path.join(mnt, e)).st_mtime_ns)
            for e in sorted(os.listdir(mnt))}

def expect(what, fn):
    global bad, checked
    checked += 1
    try:
        r = fn()
    except OSError as e:
        if e.errno == errno.EROFS:
            return
        print("FAIL %s: %s (expected EROFS)" % (what, e))
    else:
        if isinstance(r, int) and r >= 0 and what.startswith("open"):
            os.close(r)
        print("FAIL %s: succeeded (expected EROFS)" % what)
    bad += 1

before = snapshot()
with open(tensor, "rb") as f:
    data = f.read()
# On a tensor file (the first part covered the common ones).
for flags, fl in ((os.O_WRONLY, "O_WRONLY"), (os.O_WRONLY | os.O_APPEND, "O_WRONLY|O_APPEND"),
                  (os.O_WRONLY | os.O_TRUNC, "O_WRONLY|O_TRUNC"),
                  (os.O_RDWR | os.O_CREAT, "O_RDWR|O_CREAT (existing)")):
    expect("open tensor %s" % fl, lambda: os.open(tensor, flags))
expect("truncate tensor (grow)", lambda: os.truncate(tensor, 1 << 20))
expect("chown tensor", lambda: os.chown(tensor, 1, 1))
expect("utime tensor (now)", lambda: os.utime(tensor))
expect("utime tensor (explicit)", lambda: os.utime(tensor, (1, 1)))
expect("rename .control onto tensor", lambda: os.rename(control, tensor))
expect("rmdir tensor", lambda: os.rmdir(tensor))
# On the control file: every write path.
for flags, fl in ((os.O_WRONLY, "O_WRONLY"), (os.O_RDWR, "O_RDWR"),
                  (os.O_RDONLY | os.O_TRUNC, "O_RDONLY|O_TRUNC"),
                  (os.O_WRONLY | os.O_APPEND, "O_WRONLY|O_APPEND")):
    expect("open .control %s" % fl, lambda: os.open(control, flags))
expect("truncate .control", lambda: os.truncate(control, 0))
expect("chmod .control", lambda: os.chmod(control, 0o666))
expect("chown .control", lambda: os.chown(control, 1, 1))
expect("utime .control", lambda: os.utime(control, (1, 1)))
expect("unlink .control", lambda: os.unlink(control))
expect("rename .control", lambda: os.rename(control, new))
expect("link .control", lambda: os.link(control, new))
expect("setxattr .control", lambda: os.setxattr(control, "user.x", b"1"))
expect("removexattr .control", lambda: os.removexattr(control, "user.gguf.name"))
# New names.
for flags, fl in ((os.O_RDWR | os.O_CREAT | os.O_EXCL, "O_RDWR|O_CREAT|O_EXCL"),
                  (os.O_RDONLY | os.O_CREAT, "O_RDONLY|O_CREAT")):
    expect("open new file %s" % fl, lambda: os.open(new, flags, 0o644))
expect("mknod (regular file)", lambda: os.mknod(new, 0o644))
expect("rmdir (no such directory)", lambda: os.rmdir(os.path.join(mnt, "d")))
expect("symlink to outside", lambda: os.symlink("/etc/passwd", new))
# The root directory.
expect("chmod root", lambda: os.chmod(mnt, 0o777))
expect("chown root", lambda: os.chown(mnt, 1, 1))
expect("utime root", lambda: os.utime(mnt, (1, 1)))
expect("setxattr root", lambda: os.setxattr(mnt, "user.x", b"1"))

after = snapshot()
if after != before:
    print("FAIL the mount changed: %s -> %s" % (before, after)); bad += 1
with open(tensor, "rb") as f:
    if f.read() != data:
        print("FAIL %s changed" % tensor); bad += 1
print("read-only: %d write attempts, %d did not fail with EROFS" % (checked, bad))
sys.exit(1 if bad else 0)
PY
expect_alive "$pid" "$mnt"
gguffs_umount "$mnt"
echo "read-only: passed"
