/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A capture's working state and the steps that add a file to it, shared by
 * the walk of a process tree (capture.c) and the cgroup scope
 * (cgroup-scope.c). Private to the library.
 */
#ifndef HOTCACHE_CAPTURE_STATE_H
#define HOTCACHE_CAPTURE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "backend.h"
#include "dedup.h"
#include "mapped.h"
#include "record.h"

struct hc_capture {
	struct hc_record rec;

	/* The walk's working state, valid between begin and end. */
	struct hc_backend be;
	struct hc_dedup dedup;
	struct hc_spans *present;	/* per file, as rec.files: pages some task has mapped */
	size_t cap_present;
	size_t ranges_left;
	size_t fds_left;		/* budget of fd records, HC_LIMIT_FDS_PER_IMAGE in all */
	size_t spans_left;		/* budget of mapped page runs */
	bool stopped;			/* a bound was hit: no more files */
	int pagemap_fd;			/* /proc/PID/pagemap of the task being walked */
	uint64_t started_ns;
	uint64_t deadline_ns;		/* monotonic; 0: none */
	char root[4096];		/* root of the process being walked */
	enum hc_scope scope;		/* asked for: HC_SCOPE_AUTO, _TREE or _CGROUP */
	pid_t *tasks;			/* the processes of the tree walked */
	size_t n_tasks;
};

/* True, with the capture marked partial, once its time limit has passed. */
bool hc_capture_late(struct hc_capture *c);

/* Records @pid as the capture's root task (and whether its root is its own); -ESRCH (logged) when it is gone. */
int hc_capture_root_task(struct hc_capture *c, pid_t pid);

/* The file (@dev, @ino) when the capture holds it already, else NULL. */
struct hc_file *hc_capture_lookup(struct hc_capture *c, uint64_t dev, uint64_t ino);

/*
 * A new entry for the file open as @fd, named @path as the process sees it,
 * with its identity and no pages yet. *out is NULL when the file is skipped
 * (deleted, a path the image cannot carry, too large); a negative return (a
 * bound, the time limit, no memory) stops the capture, marked partial.
 */
int hc_capture_record(struct hc_capture *c, int fd, const struct stat *st, const char *path, struct hc_file **out);

/*
 * fsyncs @file when it has dirty pages (or, without cachestat, when
 * @writable). False when it has no cached page at all.
 */
bool hc_capture_sync(struct hc_capture *c, struct hc_file *file, int fd, bool writable);

/*
 * The backend's ranges of @file (open as @fd) into @into, within what is
 * left of the capture's range budget. A negative return (the range bound,
 * the time limit) stops the capture; other errors only mark it partial.
 */
int hc_capture_scan(struct hc_capture *c, struct hc_file *file, int fd, struct hc_ranges *into);

/*
 * The cgroup scope (cgroup-scope.c): adds the file pages charged to the
 * memory cgroup whose directory is @dir (NULL: @view's), seen through the
 * root and mounts of @view. With HC_SCOPE_AUTO, only when that cgroup holds
 * no process outside the tree walked (c->tasks). Sets rec.scope.
 */
void hc_capture_cgroup_scope(struct hc_capture *c, pid_t view, const char *dir);

#endif /* HOTCACHE_CAPTURE_STATE_H */
