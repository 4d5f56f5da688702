/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pages a captured task has mapped: at least warm.
 *
 * A page touched through a mapping is marked accessed only in the page
 * table (the PTE young bit), which no backend sees until reclaim looks at
 * it: PG_referenced and PG_active stay clear, so it would read as merely
 * resident. A page present in a task's page table was faulted in by that
 * task, or mapped with it by fault-around (cached neighbours within 64 KiB,
 * measured even under MADV_RANDOM on 6.18), so the capture raises such
 * resident pages to warm: never to hot, and never lowers a class. The page
 * tables are read from /proc/PID/pagemap (file pages only: a private page
 * that was copied on write is the task's own memory, dumped by CRIU itself).
 *
 * The runs of mapped pages of one file are its spans, gathered over every
 * mapping of every task, then applied to the file's ranges once.
 */
#ifndef HOTCACHE_MAPPED_H
#define HOTCACHE_MAPPED_H

#include <stddef.h>
#include <stdint.h>

#include "ranges.h"

/* Pages [start, start + count) of a file. */
struct hc_span {
	uint64_t start;
	uint64_t count;
};

/* Unsorted, possibly overlapping until hc_spans_normalise(). */
struct hc_spans {
	struct hc_span *v;
	size_t n;
	size_t cap;
};

/*
 * Appends pages [@start, @start + @count), merged with the last span when
 * they follow it. A new span costs one of *@budget: -E2BIG when it is spent;
 * -ENOMEM.
 */
int hc_spans_add(struct hc_spans *s, uint64_t start, uint64_t count, size_t *budget);

/*
 * Adds the pages of a mapping that its task has present in its page table:
 * @n pages from virtual page @vpage of the task whose pagemap is
 * @pagemap_fd, which are pages @first.. of the file. -ETIME once
 * @deadline_ns (CLOCK_MONOTONIC, 0: none) has passed, -EIO when the pagemap
 * cannot be read, -E2BIG or -ENOMEM from hc_spans_add().
 */
int hc_spans_read_pagemap(struct hc_spans *s, int pagemap_fd, uint64_t vpage, uint64_t first, uint64_t n,
			  size_t *budget, uint64_t deadline_ns);

/* Sorts @s and merges what overlaps or touches. */
void hc_spans_normalise(struct hc_spans *s);

/*
 * @out: @in with each resident page inside a span of @present (normalised)
 * raised to warm, at most @limit ranges. -E2BIG or -ENOMEM leave @out empty.
 */
int hc_ranges_raise(const struct hc_ranges *in, const struct hc_spans *present, size_t limit, struct hc_ranges *out);

void hc_spans_free(struct hc_spans *s);

#endif /* HOTCACHE_MAPPED_H */
