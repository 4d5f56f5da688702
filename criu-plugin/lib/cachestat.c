// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotcache/cachestat.h"

/* Older libc headers lack it: 451 on x86-64 and in the generic syscall table (alpha and MIPS differ). */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

/* The kernel's structures (include/uapi/linux/mman.h). */
struct kernel_cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct kernel_cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

int hc_cachestat(int fd, uint64_t off, uint64_t len, struct hc_cachestat *cs)
{
	struct kernel_cachestat_range range = { off, len };
	struct kernel_cachestat k;

	if (syscall(__NR_cachestat, fd, &range, &k, 0) < 0)
		return -errno;
	cs->cached = k.nr_cache;
	cs->dirty = k.nr_dirty;
	cs->writeback = k.nr_writeback;
	cs->evicted = k.nr_evicted;
	cs->recently_evicted = k.nr_recently_evicted;
	return 0;
}
