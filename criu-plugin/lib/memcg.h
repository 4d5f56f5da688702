/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memory cgroup of the cgroup scope: where the root task's file pages are
 * charged. Found from /proc/PID/cgroup (the v1 hierarchy that holds the
 * memory controller, else the v2 one) and this process's mountinfo; a page
 * charged to it or to a cgroup below it counts (/proc/kpagecgroup names a
 * page's cgroup by its directory's inode number).
 */
#ifndef HOTCACHE_MEMCG_H
#define HOTCACHE_MEMCG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mountinfo.h"

struct hc_memcg {
	char dir[PATH_MAX];	/* its directory, as this process reaches it */
	bool v2;
	bool root;		/* the hierarchy's root: every page not charged elsewhere */
	uint64_t *inos;		/* inode numbers of the directory and of every one below, sorted */
	size_t n_inos;
};

/*
 * The memory controller's cgroup path in the text of /proc/PID/cgroup: the
 * v1 line whose controllers include memory, else the v2 line ("0::PATH").
 * *@v2 says which. -ENOENT when neither is there, -ENAMETOOLONG.
 */
int hc_cgroup_memory_path(const char *text, char *path, size_t size, bool *v2);

/*
 * The directory of the cgroup @path of the v1 memory hierarchy (@v2 false) or
 * of the v2 hierarchy, through the first of @mounts that shows it. -ENOENT
 * when none does, -ENAMETOOLONG.
 */
int hc_cgroup_dir(const struct hc_mounts *mounts, const char *path, bool v2, char *dir, size_t size);

/* The memory cgroup of @pid; -ENOENT (logged) when it has none this process can reach. */
int hc_memcg_of(pid_t pid, struct hc_memcg *m);

/* The memory cgroup whose directory is @dir; -ENOTDIR or -EINVAL (logged) when it is not one. */
int hc_memcg_at(const char *dir, struct hc_memcg *m);

typedef int (*hc_memcg_pid_fn)(void *ctx, pid_t pid);

/*
 * Reads the cgroup's directory and those below it, at most HC_LIMIT_CGROUPS:
 * their inode numbers into @m, and @fn (when given) for every process their
 * cgroup.procs list; @fn's nonzero return stops and is returned. -E2BIG when
 * there were more directories (the first ones are kept), -ENOMEM.
 */
int hc_memcg_read(struct hc_memcg *m, hc_memcg_pid_fn fn, void *ctx);

/* Whether a page charged to the cgroup whose directory has inode number @ino counts. */
bool hc_memcg_has(const struct hc_memcg *m, uint64_t ino);

void hc_memcg_free(struct hc_memcg *m);

#endif /* HOTCACHE_MEMCG_H */
