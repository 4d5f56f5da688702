/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Each file once: an open-addressing table from (device, inode) to the
 * file's position in the capture, kept at most half full.
 */
#ifndef HOTCACHE_DEDUP_H
#define HOTCACHE_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hc_dedup_slot {
	uint64_t dev;
	uint64_t ino;
	size_t index;		/* + 1; 0: empty */
};

struct hc_dedup {
	struct hc_dedup_slot *slots;
	size_t cap;		/* a power of two */
	size_t n;
};

/* -ENOMEM */
int hc_dedup_init(struct hc_dedup *d);
void hc_dedup_free(struct hc_dedup *d);

/* True, with *@index, when (@dev, @ino) is in the table. */
bool hc_dedup_find(const struct hc_dedup *d, uint64_t dev, uint64_t ino, size_t *index);

/* Adds (@dev, @ino) at @index, which must not be in the table yet; -ENOMEM leaves the table as it was. */
int hc_dedup_add(struct hc_dedup *d, uint64_t dev, uint64_t ino, size_t index);

#endif /* HOTCACHE_DEDUP_H */
