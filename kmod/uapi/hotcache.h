/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/hotcache: report how hot the page-cache pages of a file are.
 *
 * The caller opens the file itself and passes the fd, so the module never
 * resolves a path. Results are ranges of page indexes with one class each,
 * sorted by index, never overlapping; non-resident pages are not reported.
 * A scan that fills the output buffer returns early with @next set to the
 * index to resume from, so huge files need no huge buffer.
 */
#ifndef _UAPI_LINUX_HOTCACHE_H
#define _UAPI_LINUX_HOTCACHE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Page classes; the same numbers as the Hotness enum of proto/hotcache.proto. */
#define HOTCACHE_CLASS_RESIDENT	1	/* cached, no sign of use */
#define HOTCACHE_CLASS_WARM	2	/* referenced, or refaulted (workingset) */
#define HOTCACHE_CLASS_HOT	3	/* active, or a high MGLRU access tier */

/* LRU flavour of the running kernel, reported by every scan. */
#define HOTCACHE_LRU_CLASSIC	1
#define HOTCACHE_LRU_MGLRU	2

/* Upper bound of @max_ranges in one call. */
#define HOTCACHE_MAX_RANGES	65536

struct hotcache_range {
	__u64 start;		/* first page index */
	__u64 count;		/* number of pages */
	__u32 class;		/* HOTCACHE_CLASS_* */
	__u32 pad;		/* zero */
};

struct hotcache_scan {
	__u32 fd;		/* in: a regular file the caller opened */
	__u32 flags;		/* in: must be 0 */
	__u64 start;		/* in: first page index to scan */
	__u64 end;		/* in: page index to stop before; 0 means EOF */
	__u64 ranges;		/* in: user pointer to struct hotcache_range[] */
	__u32 max_ranges;	/* in: capacity of @ranges, 1..HOTCACHE_MAX_RANGES */
	__u32 nr_ranges;	/* out: ranges written */
	__u64 next;		/* out: where to resume; >= end when done */
	__u32 lru;		/* out: HOTCACHE_LRU_* */
	__u32 reserved[3];	/* in: must be 0 */
};

#define HOTCACHE_IOC_MAGIC	0xC7
#define HOTCACHE_IOC_SCAN	_IOWR(HOTCACHE_IOC_MAGIC, 0x01, struct hotcache_scan)

#endif /* _UAPI_LINUX_HOTCACHE_H */
