/* names.h - the reversible mapping between tensor names and file names.
 *
 * A tensor name may hold any byte but NUL; a file name may not hold '/', and
 * some names ('.', '..', '.control', anything hidden) must not arise. The
 * mapping percent-encodes, as "%XX" with upper-case hex digits:
 *   - '%' itself and '/';
 *   - bytes below 0x20 and 0x7f (no control characters in listings);
 *   - a '.' in first position (so no file name starts with a dot).
 * Every other byte, UTF-8 included, stands for itself. The empty name, which
 * no file may have, is written "%00" (NUL cannot occur in a tensor name).
 *
 * names_decode() accepts exactly the strings names_encode() produces, so each
 * tensor has one file name and each file name at most one tensor. Pure
 * functions, no state.
 */
#ifndef GGUFFS_NAMES_H
#define GGUFFS_NAMES_H

#include <stddef.h>

/* The most bytes names_encode() writes for a name of `len` bytes, NUL
 * included. */
#define NAMES_ENCODED_MAX(len) (3 * (len) + 4)

/* Encode `len` bytes of `name` into `out` (NUL-terminated). Returns the
 * length written (without the NUL), or -1 if `outlen` is too small or the
 * name holds a NUL. */
int names_encode(const char *name, size_t len, char *out, size_t outlen);

/* Decode the file name `file` into `out` (NUL-terminated). Returns the
 * length of the tensor name, or -1 if `file` is not a string that
 * names_encode() produces, or `outlen` is too small. */
int names_decode(const char *file, char *out, size_t outlen);

#endif
