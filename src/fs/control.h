/* control.h - the text of the control file (.control), and nothing else
 * writes it.
 *
 * The file is "# " lines of facts, then a tab-separated table with one row
 * per tensor. Facts come from the modules that know them, through the
 * builder of common/facts.h (the model's here, the read path's from
 * read_describe(), the GPU's from gpu_describe()); the table rows come from
 * the read path's records (read/record.h). Every fact value is escaped as a
 * tensor file name is (fs/names.h), except that '/' and a leading '.' stay:
 * '%' and control bytes become %XX, so no value can break a line. Table fields keep their
 * format: a name is escaped so, a reason has tabs and line breaks turned
 * into spaces. The format is documented in docs/control-file.md.
 */
#ifndef GGUFFS_CONTROL_H
#define GGUFFS_CONTROL_H

#include <stddef.h>

struct gguf_model;
struct facts;
struct records;

/* Add the model's facts: path, file size, GGUF version, tensor and key
 * counts, alignment. */
void control_model_facts(const struct gguf_model *m, struct facts *f);

/* The whole file: "# gguffs VERSION", one "# key: value" line per fact,
 * then the header row and one row per tensor from `rs`. Returns a malloc'd
 * buffer and its length in *len, or NULL when out of memory. */
char *control_render(const struct gguf_model *m, const struct facts *f, struct records *rs,
                     size_t *len);

#endif
