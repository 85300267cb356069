"""Tensor names that try to escape the mount or hide, and the file names
the mount must show for them (README "File names", src/fs/names.h)."""

import os

NAMES = [
    "../x", "../../etc/passwd", "a/b", "a/../../b", "/abs", "trailing/",
    ".", "..", ".hidden", ".control", "..double", "...",
    "%", "%41", "%2F", "100%", "a%2Fb",
    "ctl\x01byte", "new\nline", "tab\tname", "del\x7f", "esc\x1b[31m",
    "sp ace", "-dash", "\u00fcnicode.\u4e2d", "plain.weight",
]


def encode(name):
    """'%', '/', bytes below 0x20, 0x7f and a leading '.' as %XX (upper-case
    hex); every other byte, UTF-8 included, stands for itself."""
    out = bytearray()
    for i, b in enumerate(name.encode()):
        if b in (0x25, 0x2F, 0x7F) or b < 0x20 or (i == 0 and b == 0x2E):
            out += b"%%%02X" % b
        else:
            out.append(b)
    return os.fsdecode(bytes(out))
