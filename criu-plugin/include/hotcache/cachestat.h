/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cachestat(2) (Linux 6.5+): page-cache counts of a file range without
 * mapping it. Shared by the capture and the prefetcher's native addon
 * (hooks/native/residency.cc).
 */
#ifndef HOTCACHE_CACHESTAT_H
#define HOTCACHE_CACHESTAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* In pages. */
struct hc_cachestat {
	uint64_t cached;
	uint64_t dirty;
	uint64_t writeback;
	uint64_t evicted;
	uint64_t recently_evicted;
};

/* Pages [@off, @off + @len) of @fd, @len 0: to the end of the file. -errno; -ENOSYS before Linux 6.5. */
int hc_cachestat(int fd, uint64_t off, uint64_t len, struct hc_cachestat *cs);

#ifdef __cplusplus
}
#endif

#endif /* HOTCACHE_CACHESTAT_H */
