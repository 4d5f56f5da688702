/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a capture records, as the image carries it: the capture's facts and,
 * per file, its identity, the fds open on it and its cached pages classed
 * by hotness. Filled by the walk (capture.c), encoded by image-write.c.
 */
#ifndef HOTCACHE_RECORD_H
#define HOTCACHE_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "contract.h"
#include "hotcache/capture.h"
#include "ranges.h"

struct hc_openfd {
	uint32_t pid;
	uint32_t fd;
	uint64_t offset;
};

struct hc_file {
	char *path;			/* as the captured process sees it */
	uint64_t size;
	int64_t mtime_ns;
	uint64_t inode;
	uint64_t dev;
	unsigned char handle[HC_LIMIT_HANDLE_BYTES];
	uint32_t handle_bytes;
	int32_t handle_type;
	struct hc_openfd *fds;
	size_t n_fds;
	size_t cap_fds;
	bool mapped;
	bool dirty_synced;
	uint64_t size_pages;
	struct hc_ranges ranges;
};

struct hc_record {
	char host[65];
	char kernel[65];
	uint64_t time_ns;
	enum hc_backend_id backend;
	enum hc_lru lru;
	bool hot_warm_exact;
	uint32_t page_size;
	uint32_t duration_ms;
	uint32_t root_pid;
	bool own_root;
	enum hc_scope scope;		/* HC_SCOPE_TREE or HC_SCOPE_CGROUP */
	char cgroup[HC_LIMIT_PATH_BYTES + 1];	/* the memory cgroup's directory; "" for the tree scope */
	bool partial;
	char partial_reason[256];
	const char *tool;
	struct hc_file *files;
	size_t n_files;
	size_t cap_files;
};

/* Marks @r partial, logging why; the first reason is the one kept (it explains the rest). */
void hc_record_partial(struct hc_record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* See hc_capture_report(). */
void hc_record_report(const struct hc_record *r, const char *when);

/* Encodes and frames @r (image-write.c); see hc_capture_pack(). */
int hc_record_pack(struct hc_record *r, uint8_t **buf, size_t *len);

void hc_record_free(struct hc_record *r);

#endif /* HOTCACHE_RECORD_H */
