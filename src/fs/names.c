/* names.c - tensor name <-> file name mapping. See names.h. */
#include "fs/names.h"

#include <stdbool.h>
#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

/* Must byte `c` at position `pos` be written as %XX? */
static bool needs_escape(unsigned char c, size_t pos)
{
    return c == '%' || c == '/' || c < 0x20 || c == 0x7f || (pos == 0 && c == '.');
}

int names_encode(const char *name, size_t len, char *out, size_t outlen)
{
    size_t o = 0;

    if (len == 0) {
        if (outlen < 4)
            return -1;
        memcpy(out, "%00", 4);
        return 3;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == 0)
            return -1;
        if (needs_escape(c, i)) {
            if (o + 3 >= outlen)
                return -1;
            out[o++] = '%';
            out[o++] = hexdig[c >> 4];
            out[o++] = hexdig[c & 15];
        } else {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return (int)o;
}

/* Value of an upper-case hex digit, or -1 (lower case is not canonical). */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int names_decode(const char *file, char *out, size_t outlen)
{
    size_t o = 0;

    if (strcmp(file, "%00") == 0) {
        if (outlen < 1)
            return -1;
        out[0] = '\0';
        return 0;
    }
    if (file[0] == '\0')
        return -1;
    for (size_t i = 0; file[i] != '\0'; o++) {
        unsigned char c = (unsigned char)file[i];
        if (c == '%') {
            int hi = hexval(file[i + 1]);
            int lo = hi < 0 ? -1 : hexval(file[i + 2]);
            if (lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            /* Only bytes that must be escaped may be: one spelling each. */
            if (c == 0 || !needs_escape(c, o))
                return -1;
            i += 3;
        } else {
            if (needs_escape(c, o))
                return -1;
            i++;
        }
        if (o + 1 >= outlen)
            return -1;
        out[o] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}
