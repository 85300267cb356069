/* snapshot.h - the content of a dynamic file (.control), shared between
 * opens while it is current, with a cap on how many are held.
 *
 * The text is rendered by a callback and stamped with a state counter read
 * just before rendering (fs counts tensor reads). A get() reuses the newest
 * snapshot while the stamp has not moved, so a stat and the open that
 * follows see the same size and bytes, and any number of opens between two
 * reads share one copy. Past `cap` snapshots held at once (open files keep
 * theirs), get() hands out the newest one even if it is stale: memory stays
 * at most cap renderings however many opens are held; the text is then as of
 * the last rendering. docs/control-file.md says so. Thread-safe.
 */
#ifndef GGUFFS_SNAPSHOT_H
#define GGUFFS_SNAPSHOT_H

#include "fs/namespace.h"

#include <stddef.h>
#include <stdint.h>

/* Render the whole text: malloc'd, length in *len; NULL when out of memory. */
typedef char *(*snapshot_render_fn)(void *arg, size_t *len);
/* The state the text depends on: equal stamps, equal text. */
typedef uint64_t (*snapshot_stamp_fn)(void *arg);

struct snapshots;

/* NULL when out of memory. cap >= 1. */
struct snapshots *snapshots_new(snapshot_render_fn render, snapshot_stamp_fn stamp, void *arg,
                                unsigned cap);
void snapshots_free(struct snapshots *s); /* frees every snapshot, held or not */

/* The source for ns_add_dynamic(); valid while s lives. */
struct ns_source snapshots_source(struct snapshots *s);

/* Snapshots alive now (for tests of the cap). */
unsigned snapshots_held(struct snapshots *s);

#endif
