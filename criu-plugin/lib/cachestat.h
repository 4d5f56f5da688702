/* SPDX-License-Identifier: GPL-2.0 */
/* cachestat(2) (Linux 6.5+): page-cache totals of a file without mapping it. */
#ifndef HOTCACHE_CACHESTAT_H
#define HOTCACHE_CACHESTAT_H

#include <stdint.h>

struct hc_cachestat {
	uint64_t cached;
	uint64_t dirty;
	uint64_t writeback;
};

/* -ENOSYS on kernels without it. */
int hc_cachestat(int fd, struct hc_cachestat *cs);

#endif /* HOTCACHE_CACHESTAT_H */
