// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "hotcache/log.h"
#include "window.h"

int hc_window_each(struct hc_backend *b, int fd, uint64_t size_pages, hc_window_fn fn, void *ctx)
{
	long page_size = b->page_size;
	struct hc_window w = { 0 };
	int ret = 0;

	w.vec = malloc(HC_WINDOW_PAGES);
	if (!w.vec) {
		pr_err("out of memory for a residency vector");
		return -ENOMEM;
	}
	for (w.first = 0; w.first < size_pages && ret == 0; w.first += w.n) {
		size_t len;

		if (hc_backend_late(b)) {
			ret = -ETIME;
			break;
		}
		w.n = size_pages - w.first < HC_WINDOW_PAGES ? size_pages - w.first : HC_WINDOW_PAGES;
		len = w.n * (size_t)page_size;
		w.addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)(w.first * (uint64_t)page_size));
		if (w.addr == MAP_FAILED) {
			ret = -errno;
			pr_perror("cannot map pages %lu..%lu", (unsigned long)w.first, (unsigned long)(w.first + w.n));
			break;
		}
		if (madvise(w.addr, len, MADV_RANDOM) < 0) {
			ret = -errno;
			pr_perror("madvise(MADV_RANDOM)");
		} else if (mincore(w.addr, len, w.vec) < 0) {
			ret = -errno;
			pr_perror("mincore");
		} else {
			ret = fn(ctx, &w);
		}
		/*
		 * Before 6.3 the unmap marks every page with a young PTE accessed
		 * unless the mapping is VM_SEQ_READ (MADV_RANDOM only counts from
		 * 6.3). Nothing faults after this, so it starts no readahead.
		 */
		if (madvise(w.addr, len, MADV_SEQUENTIAL) < 0)
			pr_warn("madvise(MADV_SEQUENTIAL) failed, the unmap may mark pages accessed: %m");
		munmap(w.addr, len);
	}
	free(w.vec);
	return ret;
}
