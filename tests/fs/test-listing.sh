#!/usr/bin/env bash
# `ls -l` of a 100k-tensor model costs requests in proportion to the
# listing's bytes, not a lookup, a getattr and two xattr probes per file:
# listings carry attributes (readdirplus), and the probes of security.* and
# system.* get ENOTSUP, which ls remembers for the whole device. Some ls
# builds (Ubuntu's) ask listxattr once per file instead: one request per
# entry listed (and the directory itself), answered from memory, is the
# most allowed.
. "$SRCDIR/tests/fs/common.sh"

model=$W/many.gguf
many_tensors "$model" 100000
mnt=$W/mnt
mkdir -p "$mnt"
GGUFFS_MOUNTS+=("$mnt")
"$GGUFFS" -f -d "$model" "$mnt" >"$W/debug.log" 2>&1 &
for ((i = 0; i < 200; i++)); do
    mountpoint -q "$mnt" && break
    sleep 0.1
done
mountpoint -q "$mnt" || fail "the mount did not come up"
sleep 0.5
: >"$W/debug.log"

start=$(date +%s.%N)
n=$(ls -l "$mnt" | wc -l)
end=$(date +%s.%N)
[ "$n" = 100001 ] || fail "ls -l listed $n lines"
sleep 0.5
ops=$(grep -a -c 'opcode: ' "$W/debug.log")
listx=$(grep -a -c 'opcode: LISTXATTR' "$W/debug.log")
grep -a -o 'opcode: [A-Z_]*' "$W/debug.log" | sort | uniq -c
printf 'ls -l of 100000 tensors: %s s, %d requests\n' \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" "$ops"
[ "$listx" -le 100001 ] || fail "ls -l made $listx listxattr requests for 100000 files"
[ "$((ops - listx))" -lt 5000 ] || fail "ls -l took $((ops - listx)) requests for 100000 files"

# Attributes from the listing are the same as from a lookup.
[ "$(stat -c '%s %a' "$mnt/blk.99999.w")" = "16 444" ] || fail "stat: $(stat -c '%s %a' "$mnt/blk.99999.w")"
getfattr --version >/dev/null 2>&1 &&
    { [ "$(getfattr --only-values -n user.gguf.name "$mnt/blk.5.w" 2>/dev/null)" = blk.5.w ] || fail "xattr"; }
"$PYTHON" - "$mnt/blk.5.w" <<'PY' || fail "xattrs"
import errno, os, sys
assert os.getxattr(sys.argv[1], "user.gguf.name") == b"blk.5.w"
for name, want in (("user.nothing", errno.ENODATA), ("security.selinux", errno.EOPNOTSUPP),
                   ("system.posix_acl_access", errno.EOPNOTSUPP)):
    try:
        os.getxattr(sys.argv[1], name)
    except OSError as e:
        assert e.errno == want, (name, e)
    else:
        sys.exit("%s: no error" % name)
PY
echo ok
