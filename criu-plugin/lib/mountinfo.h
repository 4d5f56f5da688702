/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/PID/mountinfo: the mounts a process sees, with their mount points as
 * that process sees them (relative to its root). The cgroup scope walks a
 * container's mounts from there and finds the memory cgroup hierarchy in the
 * capturer's own.
 */
#ifndef HOTCACHE_MOUNTINFO_H
#define HOTCACHE_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hc_mount {
	char *point;		/* mount point, unescaped */
	char *root;		/* the directory of its file system mounted there, unescaped */
	char *fstype;
	char *options;		/* super options, e.g. "rw,memory" */
};

struct hc_mounts {
	struct hc_mount *v;
	size_t n;
	size_t cap;
};

/*
 * Parses one mountinfo line into @m (malloc'ed strings). -EINVAL for a line
 * that is not one, -ENOMEM.
 */
int hc_mountinfo_parse(const char *line, struct hc_mount *m);

/*
 * The mounts of @pid (0: this process), at most @max: -E2BIG once more are
 * listed (the first @max are kept). -errno when it cannot be read.
 */
int hc_mountinfo_read(pid_t pid, size_t max, struct hc_mounts *out);

/* True when the comma-separated @list holds @word. */
bool hc_option_has(const char *list, const char *word);

void hc_mount_free(struct hc_mount *m);
void hc_mounts_free(struct hc_mounts *ms);

#endif /* HOTCACHE_MOUNTINFO_H */
