/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup scope without the module: which cached pages of a file are
 * charged to the container's memory cgroup, from /proc/kpagecgroup (each
 * page's cgroup as its directory's inode number, by PFN: pfn.c; root only),
 * and a file's classed ranges cut down to those pages.
 */
#ifndef HOTCACHE_CHARGED_H
#define HOTCACHE_CHARGED_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "mapped.h"
#include "memcg.h"
#include "pfn.h"
#include "ranges.h"

struct hc_charged {
	int fds[HC_PFN_FDS];
	uint64_t *pagemap;	/* HC_WINDOW_PAGES entries */
	uint64_t *cgroups;	/* HC_WINDOW_PAGES entries, indexed like pagemap */
	const struct hc_memcg *memcg;
};

/* -errno (logged) when /proc/kpagecgroup or the page frame numbers cannot be read here. */
int hc_charged_open(struct hc_charged *ch, const struct hc_memcg *memcg, long page_size);
void hc_charged_close(struct hc_charged *ch);

/*
 * Appends to @out the pages of @fd (@size_pages) charged to the memory
 * cgroup, as spans in order; a span costs one of *@budget. Windows and the
 * deadline are @b's. -ETIME, -E2BIG when the budget is spent, -ENOMEM, -EIO.
 */
int hc_charged_spans(struct hc_charged *ch, struct hc_backend *b, int fd, uint64_t size_pages, struct hc_spans *out,
		     size_t *budget);

/*
 * @out: the parts of @in inside a span of @keep (sorted, not overlapping),
 * classes kept, at most @limit ranges. -E2BIG or -ENOMEM leave @out empty.
 */
int hc_ranges_keep(const struct hc_ranges *in, const struct hc_spans *keep, size_t limit, struct hc_ranges *out);

#endif /* HOTCACHE_CHARGED_H */
