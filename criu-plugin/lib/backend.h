/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page-cache hotness backends. One interface, one file per backend:
 *   kmod        /dev/hotcache (the project's module) walks the page cache in
 *               the kernel; hot and warm on classic LRU and on MGLRU;
 *   kpageflags  root only, no module: maps the file, touches each resident
 *               page, reads its PFN from /proc/self/pagemap and its LRU flags
 *               from /proc/kpageflags (ACTIVE = hot, REFERENCED = warm); on
 *               MGLRU kernels PG_active is never set, so hot and warm blur;
 *   mincore     residency only.
 */
#ifndef HOTCACHE_BACKEND_H
#define HOTCACHE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "contract.h"
#include "hotcache/capture.h"
#include "ranges.h"

#define HC_BACKEND_FDS 4

struct hc_backend {
	const struct hc_backend_ops *ops;
	enum hc_lru lru;
	bool hot_warm_exact;	/* false: hot and warm cannot be told apart */
	long page_size;
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC; scans stop with -ETIME past it; 0: none */
	int fds[HC_BACKEND_FDS];		/* the backend's own descriptors, -1 when unused */
};

struct hc_backend_ops {
	enum hc_backend_id id;
	/* Probes and opens what the backend needs; -errno (logged) when unusable. */
	int (*open)(struct hc_backend *b);
	/* Appends the cached pages of [0, size_pages) of @fd to @out, in order. */
	int (*scan)(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out);
};

extern const struct hc_backend_ops hc_backend_kmod;
extern const struct hc_backend_ops hc_backend_kpageflags;
extern const struct hc_backend_ops hc_backend_mincore;

/* Opens @want, or for AUTO the first usable of kmod, kpageflags, mincore. */
int hc_backend_open(struct hc_backend *b, enum hc_backend_id want);
int hc_backend_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out);
void hc_backend_close(struct hc_backend *b);

/* True once @b's deadline has passed. */
bool hc_backend_late(const struct hc_backend *b);

/* LRU flavour of the running kernel, from /sys/kernel/mm/lru_gen/enabled. */
enum hc_lru hc_kernel_lru(void);

#endif /* HOTCACHE_BACKEND_H */
