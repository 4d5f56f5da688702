// SPDX-License-Identifier: GPL-2.0
/*
 * Hotness from the project's module: HOTCACHE_IOC_SCAN on /dev/hotcache
 * returns the file's cached pages as classed ranges, restarting at @next
 * when the buffer fills. The module is trusted for speed, not for sanity:
 * every range is checked before it is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend.h"
#include "hotcache.h"
#include "hotcache/log.h"

/* The module's uapi is built without the contract: the numbers must agree. */
_Static_assert(HOTCACHE_CLASS_RESIDENT == HC_CLASS_RESIDENT && HOTCACHE_CLASS_WARM == HC_CLASS_WARM &&
		       HOTCACHE_CLASS_HOT == HC_CLASS_HOT,
	       "kmod/uapi/hotcache.h and the contract disagree on the classes");
_Static_assert(HOTCACHE_LRU_CLASSIC == HC_LRU_CLASSIC && HOTCACHE_LRU_MGLRU == HC_LRU_MGLRU,
	       "kmod/uapi/hotcache.h and the contract disagree on the LRU flavours");

#define KMOD_DEVICE "/dev/hotcache"
#define KMOD_BATCH 4096u

static int kmod_open(struct hc_backend *b)
{
	b->fds[0] = open(KMOD_DEVICE, O_RDONLY | O_CLOEXEC);
	if (b->fds[0] < 0) {
		pr_debug("kmod: cannot open " KMOD_DEVICE ": %m");
		return -errno;
	}
	b->hot_warm_exact = true;
	return 0;
}

static int keep_ranges(struct hc_ranges *out, const struct hotcache_range *r, uint32_t n, uint64_t from, uint64_t end)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		int ret;

		if (r[i].start < from || r[i].count == 0 || r[i].count > end - r[i].start || r[i].start >= end ||
		    r[i].class < HOTCACHE_CLASS_RESIDENT || r[i].class > HOTCACHE_CLASS_HOT) {
			pr_err("kmod: the module returned an invalid range (start %llu count %llu class %u)",
			       (unsigned long long)r[i].start, (unsigned long long)r[i].count, r[i].class);
			return -EPROTO;
		}
		ret = hc_ranges_add(out, r[i].start, r[i].count, (enum hc_class)r[i].class);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int kmod_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out)
{
	struct hotcache_range *buf = calloc(KMOD_BATCH, sizeof(*buf));
	uint64_t start = 0;
	int ret = 0;

	if (!buf) {
		pr_err("kmod: out of memory");
		return -ENOMEM;
	}
	while (start < size_pages && ret == 0) {
		struct hotcache_scan s;

		if (hc_backend_late(b)) {
			ret = -ETIME;
			break;
		}

		memset(&s, 0, sizeof(s));
		s.fd = (uint32_t)fd;
		s.start = start;
		s.end = size_pages;
		s.ranges = (uintptr_t)buf;
		s.max_ranges = KMOD_BATCH;
		if (ioctl(b->fds[0], HOTCACHE_IOC_SCAN, &s) < 0) {
			ret = -errno;
			pr_perror("kmod: HOTCACHE_IOC_SCAN at page %llu", (unsigned long long)start);
			break;
		}
		if (s.nr_ranges > KMOD_BATCH || s.next <= start) {
			pr_err("kmod: the module made no progress (next %llu after %llu, %u ranges)",
			       (unsigned long long)s.next, (unsigned long long)start, s.nr_ranges);
			ret = -EPROTO;
			break;
		}
		if (s.lru == HOTCACHE_LRU_CLASSIC || s.lru == HOTCACHE_LRU_MGLRU)
			b->lru = (enum hc_lru)s.lru;
		ret = keep_ranges(out, buf, s.nr_ranges, start, size_pages);
		start = s.next;
	}
	free(buf);
	return ret;
}

const struct hc_backend_ops hc_backend_kmod = {
	.id = HC_BACKEND_KMOD,
	.open = kmod_open,
	.scan = kmod_scan,
};
