/* read.c - see read.h. */
#include "read/read.h"

#include "read/serve.h"

#include <errno.h>
#include <stdlib.h>

struct reader {
    struct serve *s;
};

struct reader *read_new(struct serve *s)
{
    struct reader *r = calloc(1, sizeof(*r));
    if (r != NULL)
        r->s = s;
    return r;
}

void read_free(struct reader *r)
{
    free(r);
}

ssize_t read_tensor(struct reader *r, uint64_t t, enum dtype dt, void *buf, size_t len,
                    uint64_t off, const void **data, struct read_hold **hold)
{
    if (dt != DTYPE_F32) {
        *data = buf;
        if (hold != NULL)
            *hold = NULL;
        return -EIO;
    }
    return serve_read_ref(r->s, t, buf, len, off, data, (struct serve_hold **)hold);
}

void read_release(struct reader *r, struct read_hold *hold)
{
    serve_release(r->s, (struct serve_hold *)hold);
}
