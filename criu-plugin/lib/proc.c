// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hotcache/log.h"
#include "proc.h"

struct pid_list {
	pid_t *v;
	size_t n;
	size_t max;
};

static bool listed(const struct pid_list *l, pid_t pid)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == pid)
			return true;
	return false;
}

/* Appends the children of every thread of @pid; -E2BIG when the list is full. */
static int add_children(struct pid_list *l, pid_t pid)
{
	char path[320];	/* room for a whole d_name */
	struct dirent *de;
	DIR *tasks;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (!tasks) {
		pr_perror("cannot list the threads of %d", (int)pid);
		return 0;
	}
	while (ret == 0 && (de = readdir(tasks))) {
		long child;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f) {
			pr_debug("cannot read %s: %m", path);
			continue;
		}
		while (ret == 0 && fscanf(f, "%ld", &child) == 1) {
			if (listed(l, (pid_t)child))
				continue;
			if (l->n == l->max)
				ret = -E2BIG;
			else
				l->v[l->n++] = (pid_t)child;
		}
		fclose(f);
	}
	closedir(tasks);
	return ret;
}

int hc_proc_walk_tree(pid_t root, size_t max_tasks, hc_pid_fn fn, void *ctx)
{
	struct pid_list l = { .max = max_tasks };
	size_t i;
	int ret = 0, grow = 0;

	l.v = calloc(max_tasks, sizeof(pid_t));
	if (!l.v) {
		pr_err("out of memory for the process list");
		return -ENOMEM;
	}
	l.v[l.n++] = root;
	/* Breadth first: the list is its own queue. */
	for (i = 0; i < l.n && ret == 0; i++) {
		if (grow == 0)
			grow = add_children(&l, l.v[i]);
		ret = fn(ctx, l.v[i]);
	}
	free(l.v);
	return ret ? ret : grow;
}

/* Reads "pos:" and "flags:" of /proc/PID/fdinfo/FD. */
static int read_fdinfo(pid_t pid, const char *fd, uint64_t *pos, bool *writable)
{
	char path[320], line[256];	/* room for a whole d_name */
	unsigned int flags = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fd);
	f = fopen(path, "re");
	if (!f) {
		pr_perror("cannot open %s", path);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pos: %" SCNu64, pos) == 1)
			found |= 1;
		else if (sscanf(line, "flags: %o", &flags) == 1)
			found |= 2;
	}
	fclose(f);
	if (found != 3) {
		pr_err("%s has no pos or flags line", path);
		return -EINVAL;
	}
	*writable = (flags & O_ACCMODE) != O_RDONLY;
	return 0;
}

int hc_proc_each_fd(pid_t pid, hc_fd_fn fn, void *ctx)
{
	struct hc_proc_fd f = { .pid = pid };
	char path[64];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir) {
		pr_perror("cannot list the fds of %d", (int)pid);
		return 0;
	}
	f.dirfd = dirfd(dir);
	while (ret == 0 && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		f.name = de->d_name;
		f.fd = atoi(de->d_name);
		if (read_fdinfo(pid, de->d_name, &f.pos, &f.writable) < 0)
			continue;
		ret = fn(ctx, &f);
	}
	closedir(dir);
	return ret;
}

int hc_proc_each_map(pid_t pid, hc_map_fn fn, void *ctx)
{
	struct hc_proc_map m = { .pid = pid };
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *maps;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files", (int)pid);
	m.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m.dirfd < 0)
		pr_debug("cannot open %s: %m", path);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	if (!maps) {
		pr_perror("cannot open %s", path);
		if (m.dirfd >= 0)
			close(m.dirfd);
		return 0;
	}
	while (ret == 0 && getline(&line, &cap, maps) > 0) {
		char perms[5], name[64];
		unsigned int major, minor;
		int path_at = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m.start, &m.end, perms,
			   &m.offset, &major, &minor, &m.inode, &path_at) < 7 ||
		    path_at == 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (m.inode == 0 || line[path_at] != '/')
			continue;
		/* Deleted files and SysV/memfd segments: nothing to prefetch by path. */
		if (strlen(line + path_at) > 10 && !strcmp(line + path_at + strlen(line + path_at) - 10, " (deleted)"))
			continue;
		m.dev = makedev(major, minor);
		snprintf(name, sizeof(name), "%" PRIx64 "-%" PRIx64, m.start, m.end);
		m.name = name;
		m.path = line + path_at;
		m.writable = perms[1] == 'w' && perms[3] == 's';
		ret = fn(ctx, &m);
	}
	free(line);
	fclose(maps);
	if (m.dirfd >= 0)
		close(m.dirfd);
	return ret;
}
