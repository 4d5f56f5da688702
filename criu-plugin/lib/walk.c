// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "contract.h"
#include "hotcache/cachestat.h"
#include "hotcache/log.h"
#include "pathfd.h"
#include "walk.h"

/* Pages mincore() looks at per mapping of an overlayfs file. */
#define MINCORE_WINDOW (1ul << 16)

/* The first reason is kept. */
static void stop(struct hc_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stop(struct hc_walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->stopped[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->stopped, sizeof(w->stopped), fmt, ap);
	va_end(ap);
}

/* Whether a page of the file is cached, by mincore() of its mappings (no page is touched). */
static bool mapped_cached(int fd, uint64_t size_pages, long page_size)
{
	static unsigned char vec[MINCORE_WINDOW];
	uint64_t first, i;

	for (first = 0; first < size_pages; first += MINCORE_WINDOW) {
		size_t n = size_pages - first < MINCORE_WINDOW ? size_pages - first : MINCORE_WINDOW;
		size_t len = n * (size_t)page_size;
		void *addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)(first * (uint64_t)page_size));
		bool any = false;

		if (addr == MAP_FAILED)
			return false;
		if (mincore(addr, len, vec) == 0)
			for (i = 0; i < n && !any; i++)
				any = vec[i] & 1;
		munmap(addr, len);
		if (any)
			return true;
	}
	return false;
}

/* On overlayfs, cachestat(2) sees the overlay inode's own cache, which stays empty. */
static bool has_cached(int fd, const struct stat *st, bool overlay)
{
	long page_size = sysconf(_SC_PAGESIZE);
	struct hc_cachestat cs;

	if (!overlay && hc_cachestat(fd, 0, 0, &cs) == 0)
		return cs.cached > 0;
	return mapped_cached(fd, ((uint64_t)st->st_size + (uint64_t)page_size - 1) / (uint64_t)page_size, page_size);
}

/* The regular file @pathfd (O_PATH) holds, at @path: handed to the callback when it has cached pages. */
static int visit_file(struct hc_walk *w, int pathfd, const char *path, bool overlay)
{
	struct stat st;
	int fd, ret = 0;

	if (fstat(pathfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	fd = hc_reopen(pathfd, O_RDONLY);
	if (fd < 0) {
		pr_debug("cannot open %s: %m", path);
		return 0;
	}
	w->files++;
	if (has_cached(fd, &st, overlay)) {
		w->cached++;
		ret = w->fn(w->ctx, fd, &st, path);
	}
	close(fd);
	return ret;
}

/* The id of the mount @fd is on (statx, Linux 5.8); 0 when unknown. */
static uint64_t mount_id(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

struct level {
	DIR *dir;
	size_t path_len;	/* of the path buffer when this directory was entered */
};

/*
 * Walks the directory @top (its fd is taken over) at @point without leaving
 * its mount. Depth-first, each level an open directory.
 */
static int walk_tree(struct hc_walk *w, int top, const char *point)
{
	struct level *stack = calloc(HC_LIMIT_WALK_DEPTH, sizeof(*stack));
	char path[HC_LIMIT_PATH_BYTES + NAME_MAX + 2];
	uint64_t mnt = mount_id(top);
	int depth = 0, ret = 0;
	bool deep = false, overlay = hc_on_overlayfs(top);

	if (!stack) {
		close(top);
		pr_err("out of memory for the walk");
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s", strcmp(point, "/") ? point : "");
	stack[0].dir = fdopendir(top);
	stack[0].path_len = strlen(path);
	if (!stack[0].dir) {
		close(top);
		free(stack);
		return 0;
	}
	while (depth >= 0 && ret == 0) {
		struct level *l = &stack[depth];
		struct dirent *de = readdir(l->dir);
		int dfd = dirfd(l->dir), pathfd, sub;
		unsigned char type;
		DIR *d;

		if (!de) {
			closedir(l->dir);
			depth--;
			continue;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++w->entries > HC_LIMIT_WALK_ENTRIES) {
			stop(w, "more than %u directory entries walked", HC_LIMIT_WALK_ENTRIES);
			ret = -E2BIG;
			break;
		}
		if ((w->entries & 255) == 0 && hc_late(w->deadline_ns)) {
			stop(w, "time limit reached walking %s after %zu entries", point, w->entries);
			ret = -ETIME;
			break;
		}
		type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type != DT_DIR && type != DT_REG)
			continue;
		if (l->path_len + 1 + strlen(de->d_name) > HC_LIMIT_PATH_BYTES) {
			pr_debug("skipping a name under %.*s: the path would be longer than %u bytes", (int)l->path_len, path,
				 HC_LIMIT_PATH_BYTES);
			continue;
		}
		snprintf(path + l->path_len, sizeof(path) - l->path_len, "/%s", de->d_name);
		if (type == DT_DIR && depth + 1 >= (int)HC_LIMIT_WALK_DEPTH) {
			deep = true;
			continue;
		}
		/* Reached with O_PATH: nothing is opened yet, on this file system or another. */
		pathfd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (pathfd < 0)
			continue;
		if (type == DT_REG) {
			ret = visit_file(w, pathfd, path, overlay);
			close(pathfd);
			continue;
		}
		/* Another mount (walked on its own, or hidden), or no longer a directory. */
		sub = mount_id(pathfd) == mnt ? hc_reopen(pathfd, O_RDONLY | O_DIRECTORY) : -1;
		close(pathfd);
		d = sub >= 0 ? fdopendir(sub) : NULL;
		if (!d) {
			if (sub >= 0)
				close(sub);
			continue;
		}
		depth++;
		stack[depth].dir = d;
		stack[depth].path_len = strlen(path);
	}
	for (; depth >= 0; depth--)
		closedir(stack[depth].dir);
	free(stack);
	if (deep)
		pr_warn("directories under %s deeper than %u levels were not walked", point, HC_LIMIT_WALK_DEPTH);
	return ret;
}

int hc_walk_view(struct hc_walk *w, const struct hc_view *view)
{
	size_t i;
	int ret = 0;

	if (view->truncated)
		stop(w, "more than %u mounts: only the first were walked", HC_LIMIT_MOUNTS);
	for (i = 0; i < view->n && ret == 0; i++) {
		const struct hc_view_mount *m = &view->v[i];
		int dir;

		w->mounts++;
		if (m->file) {
			ret = visit_file(w, m->fd, m->point, hc_on_overlayfs(m->fd));
			continue;
		}
		dir = hc_reopen(m->fd, O_RDONLY | O_DIRECTORY);
		if (dir >= 0)
			ret = walk_tree(w, dir, m->point);
	}
	return ret;
}
