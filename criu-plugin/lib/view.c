// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "contract.h"
#include "hotcache/log.h"
#include "hotcache/open-in-root.h"
#include "hotcache/refused-fs.h"
#include "mountinfo.h"
#include "view.h"

#define MEMORY_FS(name, magic) { magic, name },

static const struct {
	unsigned long magic;
	const char *name;
} memory_fs[] = { HC_MEMORY_FS(MEMORY_FS) };

#define REFUSED_NAME(name, magic, why) name,

static const char *const refused_names[] = { HC_REFUSED_FS(REFUSED_NAME) };

const char *hc_view_skips_type(const char *fstype)
{
	size_t i;

	for (i = 0; i < sizeof(refused_names) / sizeof(refused_names[0]); i++)
		if (!strncmp(fstype, refused_names[i], strlen(refused_names[i])))
			return refused_names[i];
	for (i = 0; i < sizeof(memory_fs) / sizeof(memory_fs[0]); i++)
		if (!strcmp(fstype, memory_fs[i].name))
			return memory_fs[i].name;
	return NULL;
}

const char *hc_view_skips_magic(unsigned long magic)
{
	const char *fs = hc_refused_fs(magic);
	size_t i;

	for (i = 0; !fs && i < sizeof(memory_fs) / sizeof(memory_fs[0]); i++)
		if (memory_fs[i].magic == magic)
			fs = memory_fs[i].name;
	return fs;
}

/* hc_view_skips_magic() of the file system of the O_PATH descriptor @fd. */
static const char *skipped_fs(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return "a file system that cannot be asked what it is";
	return hc_view_skips_magic((unsigned long)sfs.f_type);
}

/* Whether a later mount of @ms sits on the same mount point as ms->v[i], hiding it. */
static bool hidden(const struct hc_mounts *ms, size_t i)
{
	size_t j;

	for (j = i + 1; j < ms->n; j++)
		if (!strcmp(ms->v[j].point, ms->v[i].point))
			return true;
	return false;
}

/* Adds the mount at @point when it is one to look into. */
static void add_mount(struct hc_view *view, pid_t pid, const char *point)
{
	const char *fs;
	struct stat st;
	char *copy;
	int fd;

	fd = hc_openat2_in_root(view->rootfd, point);
	if (fd < 0) {
		pr_debug("cannot open the mount point %s of %d: %s", point, (int)pid, strerror(-fd));
		return;
	}
	fs = skipped_fs(fd);
	if (fs || fstat(fd, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		pr_debug("not looking into %s: %s", point, fs ? fs : "neither a directory nor a file");
		close(fd);
		return;
	}
	copy = strdup(point);
	if (!copy) {
		pr_err("out of memory");
		close(fd);
		return;
	}
	view->v[view->n++] = (struct hc_view_mount){ .fd = fd, .point = copy, .file = S_ISREG(st.st_mode) };
}

int hc_view_open(pid_t pid, struct hc_view *view)
{
	struct hc_mounts ms;
	char link[64];
	size_t i;
	int ret;

	memset(view, 0, sizeof(*view));
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	view->rootfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (view->rootfd < 0) {
		pr_perror("cannot reach the root of %d", (int)pid);
		return -ESRCH;
	}
	ret = hc_mountinfo_read(pid, HC_LIMIT_MOUNTS, &ms);
	view->truncated = ret == -E2BIG;
	if (ret < 0 && ret != -E2BIG) {
		hc_view_close(view);
		return ret == -ENOMEM ? ret : -ESRCH;
	}
	view->v = calloc(ms.n + 2, sizeof(*view->v));
	if (!view->v) {
		hc_mounts_free(&ms);
		hc_view_close(view);
		return -ENOMEM;
	}
	/*
	 * A chroot shows no mount at its root (mountinfo leaves out mount
	 * points it cannot reach): its root is looked into all the same.
	 */
	for (i = 0; i < ms.n && strcmp(ms.v[i].point, "/"); i++)
		;
	if (i == ms.n)
		add_mount(view, pid, "/");
	for (i = 0; i < ms.n; i++) {
		const char *fs = hc_view_skips_type(ms.v[i].fstype);

		if (fs)
			pr_debug("not looking into %s: on %s", ms.v[i].point, fs);
		else if (!hidden(&ms, i))
			add_mount(view, pid, ms.v[i].point);
	}
	hc_mounts_free(&ms);
	return 0;
}

void hc_view_close(struct hc_view *view)
{
	size_t i;

	for (i = 0; i < view->n; i++) {
		close(view->v[i].fd);
		free(view->v[i].point);
	}
	free(view->v);
	if (view->rootfd >= 0)
		close(view->rootfd);
	memset(view, 0, sizeof(*view));
	view->rootfd = -1;
}

bool hc_view_path(const char *point, const char *below, char *out, size_t size)
{
	/* "/" + "/a" is "/a", not "//a"; "/" + "" stays "/". */
	if (!strcmp(point, "/") && *below)
		point = "";
	return (size_t)snprintf(out, size, "%s%s", point, below) < size;
}
