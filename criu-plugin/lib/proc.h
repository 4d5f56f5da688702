/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a process tree's files from /proc: tasks, open fds, file mappings. */
#ifndef HOTCACHE_PROC_H
#define HOTCACHE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Callbacks return 0 to go on, a negative errno to stop the walk with it. */
typedef int (*hc_pid_fn)(void *ctx, pid_t pid);

/*
 * Calls @fn for @root and each of its descendants (through every thread's
 * /proc/PID/task/TID/children), at most @max_tasks processes; -E2BIG when
 * the tree is larger (the first @max_tasks have been visited).
 */
int hc_proc_walk_tree(pid_t root, size_t max_tasks, hc_pid_fn fn, void *ctx);

struct hc_proc_fd {
	pid_t pid;
	int dirfd;		/* /proc/PID/fd */
	const char *name;	/* the fd number as a name in dirfd */
	int fd;
	uint64_t pos;		/* from /proc/PID/fdinfo */
	bool writable;
};
typedef int (*hc_fd_fn)(void *ctx, const struct hc_proc_fd *f);
int hc_proc_each_fd(pid_t pid, hc_fd_fn fn, void *ctx);

struct hc_proc_map {
	pid_t pid;
	int dirfd;		/* /proc/PID/map_files */
	const char *name;	/* "start-end" in dirfd */
	const char *path;	/* as /proc/PID/maps shows it */
	uint64_t inode;
	dev_t dev;		/* device of the inode, as maps shows it */
	uint64_t start;		/* address range */
	uint64_t end;
	uint64_t offset;	/* file offset of start, bytes */
	bool writable;		/* shared and writable: may dirty the file */
};
typedef int (*hc_map_fn)(void *ctx, const struct hc_proc_map *m);

/* Each mapping of a file that still has a name (deleted files are left out). */
int hc_proc_each_map(pid_t pid, hc_map_fn fn, void *ctx);

#endif /* HOTCACHE_PROC_H */
