/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a process sees, for the cgroup scope: its root, and the mounts of its
 * mountinfo worth looking into (its root file system and its volumes), each
 * opened (O_PATH) inside its root at the mount point as it sees it. Left
 * out: the refused file systems (the contract's refusedFs) and those with no
 * storage behind them (memoryFs), told by the type mountinfo names first so
 * that a file system served by a daemon (fuse.sshfs, fuseblk) is never asked
 * anything; and a mount hidden by a later one on the same point.
 */
#ifndef HOTCACHE_VIEW_H
#define HOTCACHE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hc_view_mount {
	int fd;			/* O_PATH, its root as the process reaches it */
	char *point;		/* the mount point, as the process sees it */
	bool file;		/* a file mounted on its own (a runtime's /etc/hosts) */
};

struct hc_view {
	int rootfd;		/* O_PATH of /proc/PID/root */
	struct hc_view_mount *v;
	size_t n;
	bool truncated;		/* more than HC_LIMIT_MOUNTS mounts: the first were kept */
};

/*
 * The name of the refused or memory file system a mount of type @fstype (as
 * mountinfo names it) is, or NULL: a type is matched by its start, so that
 * fuse.sshfs and fuseblk are fuse's.
 */
const char *hc_view_skips_type(const char *fstype);

/* The same, by statfs f_type. */
const char *hc_view_skips_magic(unsigned long magic);

/* -ESRCH (logged) when the process is gone; -ENOMEM. */
int hc_view_open(pid_t pid, struct hc_view *view);
void hc_view_close(struct hc_view *view);

/*
 * @point + @below: the path of something @below a mount point (below: "/..."
 * or "" for the point itself), into @out. False when it is longer than @size.
 */
bool hc_view_path(const char *point, const char *below, char *out, size_t size);

#endif /* HOTCACHE_VIEW_H */
