/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One capture: the files of a process tree (or of a list of paths), each with
 * its identity, the fds open on it and its cached pages classed by hotness.
 * Bounded by the contract (contract/contract.json); hitting a bound or an error marks the capture partial
 * with a reason and keeps everything gathered so far, which stays valid.
 */
#ifndef HOTCACHE_CAPTURE_H
#define HOTCACHE_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "contract.h"
#include "ranges.h"

struct hc_openfd {
	uint32_t pid;
	uint32_t fd;
	uint64_t offset;
};

/* Pages [start, start + count) of a file. */
struct hc_span {
	uint64_t start;
	uint64_t count;
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
	/* Pages some captured task has in its page tables (mapped.c); unsorted until applied. */
	struct hc_span *present;
	size_t n_present;
	size_t cap_present;
};

struct hc_capture_opts {
	enum hc_backend_id backend;	/* HC_BACKEND_AUTO: the best available */
	const char *tool;		/* recorded in the image */
	unsigned int time_limit_ms;	/* 0: none */
};

struct hc_dedup {
	size_t *slots;			/* index + 1 into files, 0 = empty */
	size_t cap;			/* a power of two */
};

struct hc_capture {
	/* What the image records. */
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
	bool partial;
	char partial_reason[256];
	const char *tool;
	struct hc_file *files;
	size_t n_files;
	size_t cap_files;

	/* Working state, valid between begin and end. */
	struct hc_backend be;
	struct hc_dedup dedup;
	size_t ranges_left;
	size_t fds_left;		/* budget of fd records, HC_LIMIT_FDS_PER_IMAGE in all */
	bool stopped;			/* a bound was hit: no more files */
	size_t present_left;		/* budget of hc_span records (mapped.c) */
	int pagemap_fd;			/* /proc/PID/pagemap of the task being walked */
	uint64_t started_ns;
	uint64_t deadline_ns;		/* monotonic; 0: none */
	char root[4096];		/* root of the process being walked */
};

/* Opens the backend and fills the capture's header; -errno (logged) if no backend. */
int hc_capture_begin(struct hc_capture *c, const struct hc_capture_opts *opts);
/* Adds the files of the tree rooted at @root; -ESRCH if it is gone. Other errors mark the capture partial. */
int hc_capture_tree(struct hc_capture *c, pid_t root);
/*
 * Adds one file by path, as hotcache-capture FILE... does; -errno (logged)
 * when it cannot be opened. After a bound was hit, files are not added.
 */
int hc_capture_path(struct hc_capture *c, const char *path);
/* Closes the backend and records the duration. */
void hc_capture_end(struct hc_capture *c);
void hc_capture_free(struct hc_capture *c);

void hc_capture_partial(struct hc_capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True, with the capture marked partial, once its time limit has passed. */
bool hc_capture_late(struct hc_capture *c);

struct hc_totals {
	uint64_t files;
	uint64_t resident;
	uint64_t hot;
	uint64_t warm;
};
void hc_capture_totals(const struct hc_capture *c, struct hc_totals *t);

#endif /* HOTCACHE_CAPTURE_H */
