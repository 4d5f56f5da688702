/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup scope without the module: every regular file a process can see
 * (view.h) that has pages in the page cache. Walks each mount on its own
 * without crossing into another, never following a symlink. Every entry is
 * reached with O_PATH and checked before it is opened (read-only);
 * cachestat(2) tells whether a file has cached pages, or mincore() of a
 * mapping of it on overlayfs, where cachestat sees the overlay's empty cache.
 */
#ifndef HOTCACHE_WALK_H
#define HOTCACHE_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "view.h"

/* A file with cached pages, open read-only as @fd; @path as the process sees it. A negative return stops the walk. */
typedef int (*hc_walk_fn)(void *ctx, int fd, const struct stat *st, const char *path);

struct hc_walk {
	hc_walk_fn fn;
	void *ctx;
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC; 0: none */
	/* What it did. */
	size_t mounts;		/* mounts walked */
	size_t entries;		/* directory entries looked at */
	size_t files;		/* regular files opened */
	size_t cached;		/* of which with cached pages */
	char stopped[256];	/* why it stopped early ("" when it did not) */
};

/*
 * Walks @view. Stops, saying why in @w->stopped, at the deadline (-ETIME),
 * after HC_LIMIT_WALK_ENTRIES entries (-E2BIG), or at @fn's error; a
 * directory deeper than HC_LIMIT_WALK_DEPTH is left out with a warning and
 * the walk goes on.
 */
int hc_walk_view(struct hc_walk *w, const struct hc_view *view);

#endif /* HOTCACHE_WALK_H */
