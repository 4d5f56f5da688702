/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Walks a file through read-only shared mappings of bounded size, with
 * mincore() filled in, for the user-space backends. Each mapping has
 * MADV_RANDOM while @fn runs (no readahead on a fault; fault-around still
 * maps cached neighbours, see mapped.h) and MADV_SEQUENTIAL just before the
 * unmap: only that keeps kernels before 6.3 from marking every page with a
 * young PTE accessed at unmap (MADV_RANDOM does it from 6.3 on).
 */
#ifndef HOTCACHE_WINDOW_H
#define HOTCACHE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* 256 MiB of 4 KiB pages per mapping. */
#define HC_WINDOW_PAGES 65536u

struct hc_window {
	unsigned char *addr;
	uint64_t first;		/* file page index of addr */
	size_t n;		/* pages in this window */
	unsigned char *vec;	/* mincore: bit 0 set = resident */
};

typedef int (*hc_window_fn)(void *ctx, struct hc_window *w);

/*
 * Calls @fn for each window of [0, size_pages) of @fd; stops at its first
 * error, or with -ETIME once @b's deadline has passed.
 */
int hc_window_each(struct hc_backend *b, int fd, uint64_t size_pages, hc_window_fn fn, void *ctx);

#endif /* HOTCACHE_WINDOW_H */
