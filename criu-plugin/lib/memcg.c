// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "contract.h"
#include "hotcache/log.h"
#include "memcg.h"

/* /proc/PID/cgroup is a line per hierarchy; more than this is not a process's. */
#define CGROUP_FILE_BYTES 65536
/* Mounts of this process looked through for the cgroup hierarchies. */
#define OWN_MOUNTS 4096

int hc_cgroup_memory_path(const char *text, char *path, size_t size, bool *v2)
{
	const char *line, *found = NULL;
	bool found_v2 = false;

	for (line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *eol = strchr(line, '\n');
		char controllers[256];
		size_t len;

		if (!c1 || !c2 || (eol && c2 > eol))
			continue;
		len = (size_t)(c2 - c1 - 1);
		if (len >= sizeof(controllers))
			continue;
		memcpy(controllers, c1 + 1, len);
		controllers[len] = '\0';
		if (hc_option_has(controllers, "memory")) {
			found = c2 + 1;
			found_v2 = false;
			break;
		}
		if (c1 - line == 1 && line[0] == '0' && len == 0 && !found) {
			found = c2 + 1;
			found_v2 = true;
		}
	}
	if (!found)
		return -ENOENT;
	if (strcspn(found, "\n") >= size)
		return -ENAMETOOLONG;
	snprintf(path, size, "%.*s", (int)strcspn(found, "\n"), found);
	*v2 = found_v2;
	return path[0] == '/' ? 0 : -ENOENT;
}

int hc_cgroup_dir(const struct hc_mounts *mounts, const char *path, bool v2, char *dir, size_t size)
{
	size_t i;

	for (i = 0; i < mounts->n; i++) {
		const struct hc_mount *m = &mounts->v[i];
		size_t n = strlen(m->root);
		const char *rest;

		if (v2 ? strcmp(m->fstype, "cgroup2") != 0 : (strcmp(m->fstype, "cgroup") != 0 || !hc_option_has(m->options, "memory")))
			continue;
		if (!strcmp(m->root, "/"))
			rest = path;
		else if (!strncmp(path, m->root, n) && (path[n] == '/' || path[n] == '\0'))
			rest = path + n;
		else
			continue;
		if (!strcmp(rest, "/"))
			rest = "";
		if ((size_t)snprintf(dir, size, "%s%s", strcmp(m->point, "/") || !*rest ? m->point : "", rest) >= size)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

/* Whether @dir/@name exists. */
static bool has_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The hierarchy's root: its parent directory is on another file system. */
static bool is_root(const char *dir)
{
	char parent[PATH_MAX + 4];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &a) == 0 && stat(parent, &b) == 0 && (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
}

int hc_memcg_at(const char *dir, struct hc_memcg *m)
{
	struct statfs sfs;

	memset(m, 0, sizeof(*m));
	if (strlen(dir) >= sizeof(m->dir)) {
		pr_err("%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (statfs(dir, &sfs) < 0) {
		pr_perror("cannot reach the cgroup %s", dir);
		return -errno;
	}
	if ((unsigned long)sfs.f_type != CGROUP2_SUPER_MAGIC && (unsigned long)sfs.f_type != CGROUP_SUPER_MAGIC) {
		pr_err("%s is not a cgroup directory", dir);
		return -ENOTDIR;
	}
	strcpy(m->dir, dir);
	m->v2 = (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC;
	m->root = is_root(dir);
	/* v2: the root and every cgroup with the controller enabled have memory.stat; v1: every cgroup of its hierarchy. */
	if (!has_file(dir, m->v2 ? "memory.stat" : "memory.usage_in_bytes")) {
		pr_err("%s is not a memory cgroup", dir);
		return -EINVAL;
	}
	return 0;
}

int hc_memcg_of(pid_t pid, struct hc_memcg *m)
{
	char file[64], text[CGROUP_FILE_BYTES], path[PATH_MAX], dir[PATH_MAX];
	struct hc_mounts mounts;
	ssize_t n;
	bool v2;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_warn("cannot open %s: %m", file);
		return -ENOENT;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		pr_warn("cannot read %s: %m", file);
		return -ENOENT;
	}
	text[n] = '\0';
	ret = hc_cgroup_memory_path(text, path, sizeof(path), &v2);
	if (ret < 0) {
		pr_warn("%s names no memory cgroup", file);
		return -ENOENT;
	}
	ret = hc_mountinfo_read(0, OWN_MOUNTS, &mounts);
	if (ret < 0 && ret != -E2BIG)
		return -ENOENT;
	ret = hc_cgroup_dir(&mounts, path, v2, dir, sizeof(dir));
	hc_mounts_free(&mounts);
	if (ret < 0) {
		pr_warn("the %s cgroup %s of %d is not mounted where this process can reach it", v2 ? "v2" : "v1 memory",
			path, (int)pid);
		return -ENOENT;
	}
	/* v2: a cgroup without the memory controller has its pages charged to the nearest one above with it. */
	while (v2 && !has_file(dir, "memory.current") && !is_root(dir) && strrchr(dir, '/') != dir)
		*strrchr(dir, '/') = '\0';
	return hc_memcg_at(dir, m) < 0 ? -ENOENT : 0;
}

/* Appends @ino, keeping the list sorted. */
static int add_ino(struct hc_memcg *m, uint64_t ino)
{
	uint64_t *v = reallocarray(m->inos, m->n_inos + 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	m->inos = v;
	for (i = m->n_inos; i > 0 && v[i - 1] > ino; i--)
		v[i] = v[i - 1];
	v[i] = ino;
	m->n_inos++;
	return 0;
}

/* Calls @fn for each pid of @dir/cgroup.procs. */
static int each_proc(const char *dir, hc_memcg_pid_fn fn, void *ctx)
{
	char path[PATH_MAX + 16];
	long pid;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f) {
		pr_debug("cannot read %s: %m", path);
		return 0;
	}
	while (ret == 0 && fscanf(f, "%ld", &pid) == 1)
		ret = fn(ctx, (pid_t)pid);
	fclose(f);
	return ret;
}

/* Appends the subdirectories of @dir to @queue (of *@n, at most @max). -E2BIG when more would not fit. */
static int add_children(const char *dir, char **queue, size_t *n, size_t max)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d) {
		pr_debug("cannot list %s: %m", dir);
		return 0;
	}
	while (ret == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == max) {
			ret = -E2BIG;
			break;
		}
		if (asprintf(&queue[*n], "%s/%s", dir, de->d_name) < 0) {
			queue[*n] = NULL;
			ret = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	return ret;
}

int hc_memcg_read(struct hc_memcg *m, hc_memcg_pid_fn fn, void *ctx)
{
	char **queue = calloc(HC_LIMIT_CGROUPS, sizeof(*queue));
	size_t n = 0, i;
	int ret = 0, more = 0;

	free(m->inos);
	m->inos = NULL;
	m->n_inos = 0;
	if (!queue || !(queue[0] = strdup(m->dir))) {
		free(queue);
		pr_err("out of memory reading the cgroup %s", m->dir);
		return -ENOMEM;
	}
	n = 1;
	/* Breadth first: the list is its own queue. */
	for (i = 0; i < n && ret == 0; i++) {
		struct stat st;

		if (stat(queue[i], &st) < 0)
			continue; /* removed meanwhile */
		ret = add_ino(m, (uint64_t)st.st_ino);
		if (ret == 0 && fn)
			ret = each_proc(queue[i], fn, ctx);
		if (ret == 0 && more == 0)
			more = add_children(queue[i], queue, &n, HC_LIMIT_CGROUPS);
		if (more == -ENOMEM)
			ret = more;
	}
	for (i = 0; i < n; i++)
		free(queue[i]);
	free(queue);
	if (ret == -ENOMEM)
		pr_err("out of memory reading the cgroup %s", m->dir);
	return ret ? ret : more;
}

bool hc_memcg_has(const struct hc_memcg *m, uint64_t ino)
{
	size_t lo = 0, hi = m->n_inos;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->inos[mid] == ino)
			return true;
		if (m->inos[mid] < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void hc_memcg_free(struct hc_memcg *m)
{
	free(m->inos);
	m->inos = NULL;
	m->n_inos = 0;
}
