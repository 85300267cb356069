/* model_split.h - open a model that may be split into shards (gguf-split).
 *
 * gguf-split writes a model as files PREFIX-%05d-of-%05d.gguf (1-based in
 * the name), each a complete GGUF with its own data section, tagged with
 * split.no (u16, 0-based), split.count (u16) and split.tensors.count (i32,
 * the total over all shards); the other metadata is in the first shard
 * only. model_split_open() takes any shard's path (or a plain GGUF), opens
 * every shard and joins them into one struct gguf_model: the first shard's
 * metadata, every tensor in shard order with its shard index, and the
 * shards' fds (gguf.h, struct gguf_shard).
 *
 * Refused, with a message naming the file: a missing shard, a shard whose
 * split.* keys are missing, of the wrong type or disagree (count, number
 * against its place and its name, total), a tensor name found in two
 * shards, and a total that differs from split.tensors.count.
 */
#ifndef GGUFFS_MODEL_SPLIT_H
#define GGUFFS_MODEL_SPLIT_H

#include <stddef.h>

struct gguf_model;

/* As gguf_open(): 0 with *out owning every shard's fd, or -1 with err. A
 * file without split.count is returned as gguf_open() returns it. */
int model_split_open(const char *path, struct gguf_model **out, char *err, size_t errlen);

#endif
