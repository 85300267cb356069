#!/usr/bin/env bash
# `meson install` puts the binary and the manual page where mount(8) and
# man(1) find them, and an fstab line of type fuse.gguffs mounts a model.
#
# mount(8) runs mount.fuse3 without PATH, so the /bin/sh that mount.fuse3
# starts finds `gguffs` only on the shell's default PATH (/usr/local/bin,
# /usr/bin, ...). To test exactly that without installing anything on a
# developer's machine, the install goes into a temporary DESTDIR, and the
# mount runs in a private mount namespace in which that DESTDIR's bin is
# bind-mounted over PREFIX/bin. With CI=true (a throw-away machine, as
# root) the install goes to the real prefix instead and is left there.
. "$SRCDIR/tests/lib/common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (mount -t fuse.gguffs)"
command -v mount.fuse3 >/dev/null || [ -x /sbin/mount.fuse3 ] || skip "no mount.fuse3"
basic_model
prefix=$(meson introspect "$BUILDDIR" --buildoptions |
    "$PYTHON" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))') ||
    fail "cannot read the prefix"
mandir=$prefix/share/man

if [ "${CI:-}" = true ]; then
    dest=""
    meson install -C "$BUILDDIR" --no-rebuild --quiet || fail "meson install failed"
    in_ns() { bash -c "$1"; }
else
    command -v unshare >/dev/null || skip "no unshare(1) for a private mount namespace"
    dest=$W/dest
    meson install -C "$BUILDDIR" --no-rebuild --quiet --destdir "$dest" ||
        fail "meson install --destdir failed"
    # in_ns SCRIPT: run SCRIPT where $dest$prefix/bin is $prefix/bin.
    in_ns() {
        unshare --mount --propagation private bash -c \
            'mount --bind "$0" "$1" && eval "$2"' "$dest$prefix/bin" "$prefix/bin" "$1"
    }
fi

echo "== installed files"
[ -x "$dest$prefix/bin/gguffs" ] || fail "no $dest$prefix/bin/gguffs"
page=$dest$mandir/man1/gguffs.1
[ -f "$page" ] || fail "no manual page at $page"
version=$("$GGUFFS" --version | sed -n '1s/^gguffs version //p')
MANWIDTH=80 man -l "$page" >"$W/man.txt" 2>"$W/man.err" || fail "man -l failed: $(cat "$W/man.err")"
[ ! -s "$W/man.err" ] || fail "man -l warns: $(cat "$W/man.err")"
# A "minimized" system (container images) has a man that only says so:
# there, the page is rendered by groff, or its checks are skipped.
if grep -q "minimized" "$W/man.txt"; then
    if command -v groff >/dev/null; then
        groff -man -Tutf8 -P-cbou "$page" >"$W/man.txt" 2>/dev/null || fail "groff failed"
    else
        echo "man: this system's man is a stub and there is no groff: rendering not checked"
        sed 's/\\-/-/g; s/\\f[BIRP]//g; s/^\.[A-Z]* //; s/"//g' "$page" | tr -s ' ' >"$W/man.txt"
    fi
fi
if command -v groff >/dev/null; then
    groff -ww -man -z "$page" 2>"$W/groff.err" || fail "groff failed"
    [ ! -s "$W/groff.err" ] || fail "groff warns: $(cat "$W/groff.err")"
fi
for want in "SYNOPSIS" "EXIT STATUS" "SIGNALS" "FILES" "EXAMPLES" "gguffs $version" \
    "/models/m.gguf /mnt/m fuse.gguffs ro,allow_other,noauto 0 0" ".control" ".npy/" \
    ".safetensors/" ".meta/"; do
    grep -qF -- "$want" "$W/man.txt" || fail "the manual page lacks '$want'"
done
# Every gguffs option --help lists is in the manual page.
"$GGUFFS" --help | sed -n '/^gguffs options:/,/^$/s/^    -o \([a-z_]*\).*/\1/p' | while read -r opt; do
    grep -q -- "-o $opt" "$W/man.txt" || { echo "FAIL: gguffs(1) lacks -o $opt" >&2; exit 1; }
done || exit 1
echo "man -l renders gguffs(1) $version"

echo "== mount -t fuse.gguffs and an fstab line"
# mount(8) runs the helper /sbin/mount.fuse3 (fuse3's); a machine with
# libfuse but not that package installed (the GPU machine) cannot.
if [ ! -x /sbin/mount.fuse3 ] && [ ! -x /usr/sbin/mount.fuse3 ]; then
    echo "SKIP: no /sbin/mount.fuse3 here: mount -t fuse.gguffs not tried"
    exit 77
fi
m=$W/mnt
mkdir -p "$m"
GGUFFS_MOUNTS+=("$m")
printf '%s %s fuse.gguffs ro,allow_other,noauto 0 0\n' "$W/basic.gguf" "$m" >"$W/fstab"
cat >"$W/check.sh" <<'EOF_CHECK'
set -e
findmnt -n -o SOURCE,FSTYPE "$M" | grep -qxE "$MODEL +fuse.gguffs"
cmp "$M/output_norm.weight" "$REF/output_norm.weight"
grep " $M fuse.gguffs " /proc/mounts | grep -q "^[^ ]* [^ ]* [^ ]* ro,"
EOF_CHECK
export M=$m MODEL=$W/basic.gguf REF=$W/ref FSTAB=$W/fstab CHECK=$W/check.sh
in_ns 'mount -t fuse.gguffs -o ro,noauto "$MODEL" "$M" && bash "$CHECK" && umount "$M"' ||
    fail "mount -t fuse.gguffs did not mount and serve the model"
echo "mount -t fuse.gguffs: mounted, read, unmounted"
in_ns 'mount -T "$FSTAB" "$M" && bash "$CHECK" &&
       grep " $M fuse.gguffs " /proc/mounts | grep -q allow_other && umount "$M"' ||
    fail "the fstab line did not mount and serve the model"
echo "fstab line: mounted with allow_other, read, unmounted"
echo "install: passed"
