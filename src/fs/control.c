/* control.c - the control file's text. See control.h.
 *
 * Rendered whole at each open (fs.c keeps the snapshot). A snapshot is
 * consistent per field, not across fields: good enough for a report, and
 * never torn text.
 */
#include "fs/control.h"

#include "common/facts.h"
#include "format/ggml_types.h"
#include "format/gguf.h"
#include "fs/names.h"
#include "fs/text.h"
#include "read/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GGUFFS_VERSION
#define GGUFFS_VERSION "unknown"
#endif

void control_model_facts(const struct gguf_model *m, struct facts *f)
{
    facts_add(f, "model", "%s", m->path);
    facts_add(f, "file size", "%jd", (intmax_t)m->st.st_size);
    facts_add(f, "gguf version", "%" PRIu32, m->version);
    facts_add(f, "tensors", "%" PRIu64, m->n_tensors);
    facts_add(f, "metadata keys", "%" PRIu64, m->n_kv);
    facts_add(f, "alignment", "%" PRIu32, m->alignment);
}

/* A table field must not hold a tab or a line break. */
static void text_put_field(struct text *tx, const char *s)
{
    size_t start = tx->len;
    text_puts(tx, s);
    if (text_failed(tx))
        return;
    for (size_t i = start; i < tx->len; i++)
        if (tx->buf[i] == '\t' || tx->buf[i] == '\n' || tx->buf[i] == '\r')
            tx->buf[i] = ' ';
}

/* `s` with '%', bytes below 0x20 and 0x7f written "%XX", as file names
 * write them (fs/names.h): a value can then neither break its line nor be
 * read back ambiguously. Unlike a file name, '/' and a leading '.' stand
 * for themselves, so paths read as paths. */
static void text_put_escaped(struct text *tx, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p != '%' && *p >= 0x20 && *p != 0x7f)
            continue;
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        text_put(tx, run, (size_t)((const char *)p - run));
        text_put(tx, esc, 3);
        run = (const char *)p + 1;
    }
    text_puts(tx, run);
}

/* ----------------------------------------------------------------------
 * The facts and the table
 * ---------------------------------------------------------------------- */

static void render_facts(struct text *tx, const struct facts *f)
{
    text_puts(tx, "# gguffs " GGUFFS_VERSION "\n");
    for (size_t i = 0; i < facts_count(f); i++) {
        text_puts(tx, "# ");
        text_puts(tx, facts_key(f, i));
        text_puts(tx, ": ");
        text_put_escaped(tx, facts_value(f, i));
        text_puts(tx, "\n");
    }
}

static void render_paths(struct text *tx, read_path_set paths)
{
    if (paths == 0) {
        text_puts(tx, read_path_name(READ_PATH_UNREAD));
        return;
    }
    int first = 1;
    for (enum read_path p = READ_PATH_UNREAD + 1; p < READ_PATH_COUNT; p++) {
        if (!(paths & READ_PATH_BIT(p)))
            continue;
        if (!first)
            text_puts(tx, ",");
        text_puts(tx, read_path_name(p));
        first = 0;
    }
}

static void render_row(const struct gguf_model *m, struct records *rs, struct text *tx, uint64_t i)
{
    const struct gguf_tensor *t = &m->tensors[i];
    char name[NAMES_ENCODED_MAX(GGUF_MAX_NAME)], tbuf[16], num[32];
    struct record_view v;

    if (names_encode(t->name, t->name_len, name, sizeof(name)) < 0)
        snprintf(name, sizeof(name), "tensor%" PRIu64, i);
    records_get(rs, i, &v);
    text_puts(tx, name);
    text_puts(tx, "\t");
    text_puts(tx, ggml_type_name(t->type, tbuf));
    snprintf(num, sizeof(num), "\t%" PRIu64 "\t", t->n_elements);
    text_puts(tx, num);
    for (uint32_t d = 0; d < t->n_dims; d++) {
        snprintf(num, sizeof(num), d ? ",%" PRIu64 : "%" PRIu64, t->ne[d]);
        text_puts(tx, num);
    }
    text_puts(tx, "\t");
    render_paths(tx, v.paths);
    text_puts(tx, "\t");
    text_put_field(tx, v.reason[0] ? v.reason : "-");
    snprintf(num, sizeof(num), "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", v.reads, v.bytes,
             v.pushed);
    text_puts(tx, num);
}

char *control_render(const struct gguf_model *m, const struct facts *f, struct records *rs,
                     size_t *len)
{
    struct text tx = {0};

    text_reserve(&tx, 256 + m->n_tensors * 96);
    render_facts(&tx, f);
    text_puts(&tx, "tensor\ttype\telements\tshape\tpath\treason\treads\tbytes\tpushed\n");
    for (uint64_t i = 0; i < m->n_tensors && !text_failed(&tx); i++)
        render_row(m, rs, &tx, i);
    if (text_failed(&tx)) {
        text_free(&tx);
        return NULL;
    }
    *len = tx.len;
    return tx.buf;
}
