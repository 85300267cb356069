#!/usr/bin/env bash
# -o allow_other turns on default_permissions: the kernel checks the file
# modes (0444 files, 0555 root), so other users may read but never write.
# Without allow_other, other users cannot even look inside.
. "$SRCDIR/tests/lib/common.sh"

command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
model=$WORK/model.gguf
random_model "$model" 18 --tensors 4 --max-elements 4096
chmod 755 "$WORK" # other users must reach the mount points
name=$("$STRESS" layout "$model" | awk 'NR == 1 { print $3 }')
as_nobody() { timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

mnt=$WORK/mnt-other
gguffs_mount "$model" "$mnt" -o allow_other
opts=$(awk -v m="$mnt" '$2 == m { print $4 }' /proc/mounts)
echo "options with allow_other: $opts"
[[ ",$opts," == *,allow_other,* ]] || fail "allow_other missing from /proc/mounts: $opts"
[[ ",$opts," == *,default_permissions,* ]] ||
    fail "-o allow_other without default_permissions: $opts"
as_nobody cat "$mnt/$name" >"$WORK/as-nobody" ||
    fail "another user cannot read $name under allow_other"
cmp "$WORK/as-nobody" "$mnt/$name" || fail "another user reads other bytes than root"
as_nobody cat "$mnt/.control" >/dev/null || fail "another user cannot read .control"
as_nobody "$PYTHON" - "$mnt/$name" <<'PY' || fail "another user could open a tensor for writing"
import errno, os, sys
for flags in (os.O_WRONLY, os.O_RDWR):
    try:
        os.close(os.open(sys.argv[1], flags))
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EROFS):
            sys.exit("unexpected error %s" % e)
    else:
        sys.exit("opened for writing")
PY
gguffs_umount "$mnt"

# -o nodefault_permissions turns it off again.
mnt=$WORK/mnt-nodp
gguffs_mount "$model" "$mnt" -o allow_other,nodefault_permissions
opts=$(awk -v m="$mnt" '$2 == m { print $4 }' /proc/mounts)
echo "options with allow_other,nodefault_permissions: $opts"
[[ ",$opts," == *,default_permissions,* ]] &&
    fail "nodefault_permissions did not turn default_permissions off: $opts"
gguffs_umount "$mnt"

mnt=$WORK/mnt-own
gguffs_mount "$model" "$mnt"
opts=$(awk -v m="$mnt" '$2 == m { print $4 }' /proc/mounts)
echo "options without allow_other: $opts"
[[ ",$opts," == *,allow_other,* ]] && fail "allow_other set without being asked: $opts"
as_nobody ls "$mnt" >/dev/null 2>&1 && fail "another user can list the mount without allow_other"
as_nobody cat "$mnt/$name" >/dev/null 2>&1 && fail "another user can read without allow_other"
gguffs_umount "$mnt"
echo "allow-other: passed"
