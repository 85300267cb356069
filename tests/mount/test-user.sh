#!/usr/bin/env bash
# A mount by a user other than root, as on Debian 12: /dev/fuse mode 0666,
# fusermount3 setuid root, no `fuse` group. The user is created for the test
# and removed at exit. Skips (77) where that cannot be done: not root, no
# useradd, or /dev/fuse closed to other users. On such a machine CI=true or
# GGUFFS_TEST_CHMOD_FUSE=1 opens /dev/fuse (0666) for the test and puts its
# mode back at exit; otherwise the device is never touched.
. "$SRCDIR/tests/lib/common.sh"

[ "$(id -u)" = 0 ] || skip "needs root to create a user"
command -v useradd >/dev/null && command -v userdel >/dev/null || skip "no useradd/userdel"
command -v setpriv >/dev/null || skip "no setpriv"
fusermount=$(command -v fusermount3) || skip "no fusermount3"
[ -u "$fusermount" ] || skip "$fusermount is not setuid root"

fuse_mode=$(stat -c %a /dev/fuse)
if [ $((8#$fuse_mode & 8#006)) != 6 ]; then
    if [ "${CI:-}" = true ] || [ "${GGUFFS_TEST_CHMOD_FUSE:-}" = 1 ]; then
        chmod 0666 /dev/fuse || skip "cannot open /dev/fuse to users"
        fuse_restore=$fuse_mode
    else
        skip "/dev/fuse is mode $fuse_mode here (Debian 12 has 0666); CI=true opens it for the test"
    fi
fi

user=gguffs-test-$$
useradd --no-create-home --shell /usr/sbin/nologin --user-group "$user" || fail "useradd failed"
_user_cleanup() {
    local rc=$?
    if [ -n "${mnt:-}" ] && mountpoint -q "$mnt"; then
        as_user fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
    fi
    userdel "$user" 2>/dev/null
    [ -n "${fuse_restore:-}" ] && chmod "$fuse_restore" /dev/fuse
    return $rc
}
trap '_user_cleanup; _gguffs_exit' EXIT
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; }

basic_model
chmod 0755 "$W"
chmod -R a+rX "$W/ref" "$W/basic.gguf"
mnt=$W/user-mnt
mkdir -p "$mnt"
chown "$user:" "$mnt"

echo "== $user mounts, reads and unmounts"
as_user "$GGUFFS" "$W/basic.gguf" "$mnt" 2>"$W/err" || fail "user mount failed: $(cat "$W/err")"
grep " $mnt fuse.gguffs " /proc/mounts | grep -q "user_id=$(id -u "$user")" ||
    fail "not mounted as $user: $(grep " $mnt " /proc/mounts)"
as_user cmp "$mnt/output_norm.weight" "$W/ref/output_norm.weight" || fail "user read: wrong bytes"
as_user cmp "$mnt/token_embd.weight" "$W/ref/token_embd.weight" || fail "user read: wrong bytes"
as_user head -c 1 "$mnt/.control" >/dev/null || fail "user cannot read .control"
as_user fusermount3 -u "$mnt" || fail "user fusermount3 -u failed"
for ((i = 0; i < 100; i++)); do
    mountpoint -q "$mnt" || break
    sleep 0.1
done
mountpoint -q "$mnt" && fail "still mounted after the user's fusermount3 -u"
echo "mounted, read, unmounted as $user"

if ! grep -q '^[[:space:]]*user_allow_other' /etc/fuse.conf 2>/dev/null; then
    echo "== allow_other without user_allow_other in /etc/fuse.conf is refused"
    as_user "$GGUFFS" -o allow_other "$W/basic.gguf" "$mnt" 2>"$W/err" &&
        fail "allow_other accepted without user_allow_other"
    grep -q user_allow_other "$W/err" || fail "the refusal does not say why: $(cat "$W/err")"
    mountpoint -q "$mnt" && fail "allow_other refused, yet mounted"
    echo "refused: $(head -n 1 "$W/err")"
fi

# Only where the test opened /dev/fuse itself: a machine's own 0666 is
# never changed.
if [ -n "${fuse_restore:-}" ]; then
    echo "== a user who may not open /dev/fuse is told so before the fork"
    chmod 0600 /dev/fuse
    as_user "$GGUFFS" "$W/basic.gguf" "$mnt" 2>"$W/err"
    rc=$?
    chmod 0666 /dev/fuse
    [ $rc = 1 ] || fail "status $rc, want 1"
    [ "$(wc -l <"$W/err")" = 1 ] || fail "not one line: $(cat "$W/err")"
    grep -q "^gguffs: /dev/fuse: Permission denied" "$W/err" || fail "message: $(cat "$W/err")"
    echo "refused: $(cat "$W/err")"
fi
echo "user: passed"
