#!/usr/bin/env bash
# Every attempt to change the mount fails with EROFS, and leaves it as it was.
. "$SRCDIR/tests/mount/common.sh"

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
echo "read-only: passed"
