/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cgroup scope with the module: HOTCACHE_IOC_MEMCG_SCAN lists the cached
 * pages charged to a memory cgroup file by file, for the files under the
 * directories of a view (view.h), with their classes. The module is trusted
 * for speed, not for sanity: every record is checked before it is handed on.
 */
#ifndef HOTCACHE_KMOD_MEMCG_H
#define HOTCACHE_KMOD_MEMCG_H

#include <stdbool.h>
#include <stdint.h>

#include "ranges.h"
#include "view.h"

struct hc_kmod_file {
	uint64_t dev;			/* st_dev */
	uint64_t ino;
	uint64_t size;
	const struct hc_view_mount *mount;	/* the directory it is under */
	const char *below;		/* its path below that directory: "/..." */
	const struct hc_range *ranges;	/* sorted, within the file */
	size_t n;
	bool more;			/* the next record goes on with this file */
};

/* A negative return stops the scan with it. */
typedef int (*hc_kmod_file_fn)(void *ctx, const struct hc_kmod_file *f);

/*
 * Scans the memory cgroup whose directory is open as @cgroup_fd through the
 * module open as @dev, for the directories of @view, until done or
 * @deadline_ns (CLOCK_MONOTONIC, 0: none: -ETIME). -ENOTTY when the module
 * predates the ioctl, -EBADF when the cgroup is not a cgroup2 one, -EPROTO
 * when it returns nonsense, -errno of the ioctl or of @fn; logged.
 */
int hc_kmod_memcg_scan(int dev, int cgroup_fd, const struct hc_view *view, uint64_t deadline_ns, hc_kmod_file_fn fn,
		       void *ctx);

#endif /* HOTCACHE_KMOD_MEMCG_H */
