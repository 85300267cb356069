#!/usr/bin/env bash
# Files take the model's owner and read bits, directories the matching
# execute bits: with allow_other (and so default_permissions) a user who
# cannot read the model cannot read its tensors, and one who can, can.
. "$SRCDIR/tests/fs/common.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to act as another user"
command -v useradd >/dev/null && command -v userdel >/dev/null || skip "useradd is missing"
command -v setpriv >/dev/null || skip "setpriv is missing"
user=gguffs-t$$
useradd -M -N -s /usr/sbin/nologin "$user" || skip "useradd failed"
trap 'userdel "$user" 2>/dev/null; _gguffs_exit' EXIT
uid=$(id -u "$user")
as_user() { timeout 20 setpriv --reuid="$uid" --regid=65534 --clear-groups "$@"; }
chmod 755 "$W"

"$PYTHON" - "$W/m.gguf" <<'PY' || fail "cannot write the model"
import sys
from gguf_writer import GGUFWriter, GT
w = GGUFWriter()
w.add_tensor("t", GT.F32, [8])
w.write(sys.argv[1])
PY

chmod 0600 "$W/m.gguf"
mnt=$W/private
gguffs_mount "$W/m.gguf" "$mnt" -o allow_other
[ "$(stat -c %a "$mnt/t")" = 400 ] || fail "0600 model: tensor mode $(stat -c %a "$mnt/t")"
[ "$(stat -c %a "$mnt")" = 500 ] || fail "0600 model: root mode $(stat -c %a "$mnt")"
[ "$(stat -c %a "$mnt/.control")" = 400 ] || fail "0600 model: .control mode"
[ "$(stat -c %a "$mnt/.npy")" = 500 ] || fail "0600 model: .npy mode $(stat -c %a "$mnt/.npy")"
[ "$(stat -c %a "$mnt/.npy/t.npy")" = 400 ] || fail "0600 model: t.npy mode"
[ "$(stat -c %a "$mnt/.meta/model.json")" = 400 ] || fail "0600 model: model.json mode"
[ "$(stat -c %U "$mnt/t")" = "$(stat -c %U "$W/m.gguf")" ] || fail "owner differs from the model's"
cat "$mnt/t" >/dev/null || fail "the owner cannot read"
if as_user cat "$mnt/t" >/dev/null 2>&1 || as_user cat "$mnt/.control" >/dev/null 2>&1 ||
    as_user cat "$mnt/.npy/t.npy" >/dev/null 2>&1 ||
    as_user cat "$mnt/.safetensors/model.safetensors" >/dev/null 2>&1; then
    fail "a user who cannot read the model reads its tensors"
fi
as_user cat "$W/m.gguf" >/dev/null 2>&1 && fail "the test's premise: $user reads the model"
gguffs_umount "$mnt"

chmod 0644 "$W/m.gguf"
mnt=$W/public
gguffs_mount "$W/m.gguf" "$mnt" -o allow_other
[ "$(stat -c %a "$mnt/t")" = 444 ] || fail "0644 model: tensor mode $(stat -c %a "$mnt/t")"
[ "$(stat -c %a "$mnt")" = 555 ] || fail "0644 model: root mode $(stat -c %a "$mnt")"
as_user cat "$mnt/t" | cmp - "$mnt/t" || fail "a user who can read the model cannot read a tensor"
echo ok
