/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libhotcache: which page-cache pages of a process tree's files (or of given
 * files) are hot, as hotcache.img. The CRIU plugin and hotcache-capture are
 * its two programs; each provides the log sink (hotcache/log.h).
 *
 * A capture is bounded by the contract (contract/contract.json): hitting a
 * bound, its time limit or an error marks it partial with the first reason
 * and keeps everything gathered so far, which stays valid.
 */
#ifndef HOTCACHE_CAPTURE_API_H
#define HOTCACHE_CAPTURE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "contract.h"

struct hc_capture;

struct hc_capture_opts {
	enum hc_backend_id backend;	/* HC_BACKEND_AUTO: the best usable */
	const char *tool;		/* recorded in the image */
	unsigned int time_limit_ms;	/* 0: none */
	enum hc_scope scope;		/* of hc_capture_tree(); HC_SCOPE_AUTO: cgroup for a container */
};

/* Opens the backend and starts a capture in *@c; -errno (logged) when no backend is usable. */
int hc_capture_begin(struct hc_capture **c, const struct hc_capture_opts *opts);

/*
 * Adds the files of the tree rooted at @root: those it holds open or mapped
 * and, with the cgroup scope, every file page charged to its memory cgroup
 * (HC_SCOPE_AUTO: when that cgroup holds no process outside the tree, as a
 * container's does). -ESRCH if it is gone. Other errors mark the capture
 * partial.
 */
int hc_capture_tree(struct hc_capture *c, pid_t root);

/*
 * Adds the file pages charged to the memory cgroup whose directory is @dir,
 * as the first process found in it sees the files (its root and mounts).
 * -ESRCH (logged) when it holds no process, -ENOTDIR or -EINVAL when @dir
 * is not a memory cgroup.
 */
int hc_capture_cgroup(struct hc_capture *c, const char *dir);

/*
 * Adds one file by path, as hotcache-capture FILE... does; -errno (logged)
 * when it cannot be opened. After a bound was hit, files are not added.
 */
int hc_capture_path(struct hc_capture *c, const char *path);

/* Closes the backend and records the duration. */
void hc_capture_end(struct hc_capture *c);

/*
 * Encodes and frames the capture as hotcache.img into a malloc'ed buffer.
 * Files that would push the image past HC_LIMIT_IMAGE_BYTES are left out and
 * the capture is marked partial. -ENOMEM (logged).
 */
int hc_capture_pack(struct hc_capture *c, uint8_t **buf, size_t *len);

void hc_capture_free(struct hc_capture *c);

/*
 * Logs the capture's summary at info level: "scope S[, memory cgroup DIR]",
 * then "captured N files, N pages, N hot, N warm, backend B, N ms[, at
 * WHEN][, partial: REASON]".
 */
void hc_capture_report(const struct hc_capture *c, const char *when);

/* Writes an image as @dirfd/hotcache.img atomically (temporary file, fsync, rename). */
int hc_image_write_at(int dirfd, const uint8_t *buf, size_t len);

/* Writes all of @buf to @fd. */
int hc_image_write_fd(int fd, const uint8_t *buf, size_t len);

/* What a capture would use here: the backend @want opens to (HC_BACKEND_AUTO: the best usable). */
struct hc_probe {
	enum hc_backend_id backend;
	enum hc_lru lru;		/* the kernel's, as that backend sees it */
	bool hot_warm_exact;		/* false: hot and warm cannot be told apart */
};

/* Opens and closes the backend a capture would; -ENODEV (logged) when none is usable. */
int hc_probe(enum hc_backend_id want, struct hc_probe *out);

/* "auto", "tree", "cgroup" <-> scope; -EINVAL for anything else. */
int hc_scope_parse(const char *name, enum hc_scope *scope);
const char *hc_scope_name(enum hc_scope scope);

/* "kmod", "kpageflags", "mincore", "auto" <-> id; -EINVAL for anything else. */
int hc_backend_parse(const char *name, enum hc_backend_id *id);
const char *hc_backend_name(enum hc_backend_id id);

#endif /* HOTCACHE_CAPTURE_API_H */
