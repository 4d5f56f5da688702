/* SPDX-License-Identifier: GPL-2.0 */
/* Page ranges of one file with a hotness class each, sorted, never overlapping. */
#ifndef HOTCACHE_RANGES_H
#define HOTCACHE_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"

struct hc_range {
	uint64_t start;
	uint64_t count;
	enum hc_class class;
};

struct hc_ranges {
	struct hc_range *v;
	size_t n;
	size_t cap;
	size_t limit;	/* at most this many ranges; adding more fails with -E2BIG */
};

/*
 * Appends pages [start, start + count) of @class. They must start at or after
 * the end of the last range (-EINVAL otherwise); touching ranges of the same
 * class are merged. -E2BIG past the limit, -ENOMEM: the ranges held stay valid.
 */
int hc_ranges_add(struct hc_ranges *r, uint64_t start, uint64_t count, enum hc_class class);
void hc_ranges_free(struct hc_ranges *r);

#endif /* HOTCACHE_RANGES_H */
