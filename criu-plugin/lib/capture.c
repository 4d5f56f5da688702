// SPDX-License-Identifier: GPL-2.0
/*
 * The walk: every task of a tree, its open regular files and its file
 * mappings, each file once, with its identity, its fds and its cached pages;
 * mapped pages raised to warm (mapped.c). The walk's working state lives
 * here only; what it records is struct hc_record.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture-state.h"
#include "clock.h"
#include "grow.h"
#include "hotcache/cachestat.h"
#include "hotcache/log.h"
#include "hotcache/open-in-root.h"
#include "hotcache/refused-fs.h"
#include "path.h"
#include "pathfd.h"
#include "proc.h"

/* Runs of mapped pages remembered per capture (mapped.c): 16 MiB at most. */
#define HC_PRESENT_SPANS (1u << 20)

bool hc_capture_late(struct hc_capture *c)
{
	if (!hc_backend_late(&c->be))
		return false;
	hc_record_partial(&c->rec, "time limit reached after %zu files", c->rec.n_files);
	return true;
}

int hc_capture_begin(struct hc_capture **out, const struct hc_capture_opts *opts)
{
	struct hc_capture *c = calloc(1, sizeof(*c));
	struct utsname uts;
	int ret;

	*out = NULL;
	if (!c || hc_dedup_init(&c->dedup) < 0 || !(c->tasks = calloc(HC_LIMIT_TASKS, sizeof(*c->tasks)))) {
		if (c)
			hc_dedup_free(&c->dedup);
		free(c);
		pr_err("out of memory");
		return -ENOMEM;
	}
	c->scope = opts->scope;
	c->rec.scope = HC_SCOPE_TREE;
	c->started_ns = hc_clock_ns(CLOCK_MONOTONIC);
	c->rec.time_ns = hc_clock_ns(CLOCK_REALTIME);
	if (opts->time_limit_ms)
		c->deadline_ns = c->started_ns + (uint64_t)opts->time_limit_ms * 1000000ull;
	if (uname(&uts) == 0) {
		snprintf(c->rec.host, sizeof(c->rec.host), "%s", uts.nodename);
		snprintf(c->rec.kernel, sizeof(c->rec.kernel), "%s", uts.release);
	}
	c->rec.tool = opts->tool;
	c->rec.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	c->ranges_left = HC_LIMIT_RANGES_PER_IMAGE;
	c->fds_left = HC_LIMIT_FDS_PER_IMAGE;
	c->spans_left = HC_PRESENT_SPANS;
	c->pagemap_fd = -1;
	strcpy(c->root, "/");
	ret = hc_backend_open(&c->be, opts->backend);
	if (ret < 0) {
		hc_dedup_free(&c->dedup);
		free(c->tasks);
		free(c);
		return ret;
	}
	c->be.deadline_ns = c->deadline_ns;
	c->rec.backend = c->be.ops->id;
	c->rec.lru = c->be.lru;
	c->rec.hot_warm_exact = c->be.hot_warm_exact;
	*out = c;
	return 0;
}

struct hc_file *hc_capture_lookup(struct hc_capture *c, uint64_t dev, uint64_t ino)
{
	size_t index;

	return hc_dedup_find(&c->dedup, dev, ino, &index) ? &c->rec.files[index] : NULL;
}

/*
 * True, logged at debug level, when the file @pathfd holds is on a file
 * system the prefetcher would never open (the contract's refusedFs): its
 * pages are not worth recording, and opening it could hang or have effects.
 */
static bool refused(int pathfd, const char *what)
{
	struct statfs sfs;
	const char *fs;

	if (fstatfs(pathfd, &sfs) < 0)
		return false;
	fs = hc_refused_fs((unsigned long)sfs.f_type);
	if (fs)
		pr_debug("skipping %s: on %s", what, fs);
	return fs != NULL;
}

static void record_handle(struct hc_file *file, int fd)
{
	union {
		struct file_handle fh;
		unsigned char room[sizeof(struct file_handle) + HC_LIMIT_HANDLE_BYTES];
	} h;
	int mount_id;

	h.fh.handle_bytes = HC_LIMIT_HANDLE_BYTES;
	if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0) {
		pr_debug("no file handle for %s: %m", file->path);
		return;
	}
	memcpy(file->handle, h.fh.f_handle, h.fh.handle_bytes);
	file->handle_bytes = h.fh.handle_bytes;
	file->handle_type = h.fh.handle_type;
}

/* The destination reads the file from shared storage, so dirty pages must reach it first. */
bool hc_capture_sync(struct hc_capture *c, struct hc_file *file, int fd, bool writable)
{
	struct hc_cachestat cs;
	int ret = hc_on_overlayfs(fd) ? -EOPNOTSUPP : hc_cachestat(fd, 0, 0, &cs);
	bool dirty = ret == 0 ? cs.dirty + cs.writeback > 0 : writable;

	if (ret < 0 && ret != -ENOSYS && ret != -EOPNOTSUPP)
		pr_debug("cachestat of %s: %s", file->path, strerror(-ret));
	if (dirty) {
		if (fsync(fd) < 0)
			hc_record_partial(&c->rec, "fsync of %s failed: %m", file->path);
		else
			file->dirty_synced = true;
	}
	return ret < 0 || cs.cached > 0;
}

int hc_capture_scan(struct hc_capture *c, struct hc_file *file, int fd, struct hc_ranges *into)
{
	int ret;

	into->limit = c->ranges_left;
	ret = hc_backend_scan(&c->be, fd, file->size_pages, into);
	c->ranges_left -= into->n;
	if (ret == -E2BIG) {
		hc_record_partial(&c->rec, "more than %u page ranges", HC_LIMIT_RANGES_PER_IMAGE);
		return ret;
	}
	if (ret == -ETIME) {
		hc_record_partial(&c->rec, "time limit reached while scanning %s", file->path);
		return ret;
	}
	if (ret < 0)
		hc_record_partial(&c->rec, "scan of %s failed: %s", file->path, strerror(-ret));
	return 0;
}

int hc_capture_record(struct hc_capture *c, int fd, const struct stat *st, const char *path, struct hc_file **out)
{
	struct hc_record *rec = &c->rec;
	struct hc_file *file;

	*out = NULL;
	if (rec->n_files >= HC_LIMIT_FILES) {
		hc_record_partial(rec, "more than %u files", HC_LIMIT_FILES);
		return -E2BIG;
	}
	if (hc_capture_late(c))
		return -ETIME;
	if (st->st_nlink == 0) {
		pr_debug("skipping %s: deleted", path);
		return 0;
	}
	if (!hc_path_ok(path, strlen(path))) {
		hc_record_partial(rec, "a path cannot be recorded (too long, not UTF-8 or with '..')");
		return 0;
	}
	if ((uint64_t)st->st_size / rec->page_size >= HC_LIMIT_SIZE_PAGES) {
		hc_record_partial(rec, "%s is larger than %llu pages", path, (unsigned long long)HC_LIMIT_SIZE_PAGES);
		return 0;
	}
	if (rec->n_files == rec->cap_files) {
		struct hc_file *v = hc_grow(rec->files, &rec->cap_files, 64, sizeof(*v));

		if (!v) {
			hc_record_partial(rec, "out of memory after %zu files", rec->n_files);
			return -ENOMEM;
		}
		rec->files = v;
	}
	file = &rec->files[rec->n_files];
	memset(file, 0, sizeof(*file));
	file->path = strdup(path);
	if (!file->path || hc_dedup_add(&c->dedup, st->st_dev, st->st_ino, rec->n_files) < 0) {
		free(file->path);
		hc_record_partial(rec, "out of memory after %zu files", rec->n_files);
		return -ENOMEM;
	}
	file->size = (uint64_t)st->st_size;
	file->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
	file->inode = st->st_ino;
	file->dev = st->st_dev;
	file->size_pages = (file->size + rec->page_size - 1) / rec->page_size;
	record_handle(file, fd);
	rec->n_files++;
	*out = file;
	return 0;
}

/*
 * Adds the file open as @fd (seen from here as @host_path) with all its
 * cached pages. *out is the new entry, or NULL when the file is skipped. A
 * negative return stops the walk.
 */
static int add_file(struct hc_capture *c, int fd, const struct stat *st, const char *host_path, bool writable,
		    struct hc_file **out)
{
	const char *path = hc_path_in_root(host_path, c->root);
	int ret;

	*out = NULL;
	if (!path) {
		pr_warn("skipping %s: outside the root %s of the process", host_path, c->root);
		return 0;
	}
	ret = hc_capture_record(c, fd, st, path, out);
	if (ret < 0 || !*out)
		return ret;
	if (!hc_capture_sync(c, *out, fd, writable) || (*out)->size_pages == 0)
		return 0;
	return hc_capture_scan(c, *out, fd, &(*out)->ranges);
}

/*
 * Looks a /proc link up by (dev, inode), adding its file on first sight.
 * *reached (if asked for) is false when the link could not be followed.
 */
static int file_of_link(struct hc_capture *c, int dirfd, const char *name, bool writable, struct hc_file **out,
			bool *reached)
{
	char host_path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int pathfd, fd, ret = 0;

	*out = NULL;
	if (reached)
		*reached = false;
	pathfd = openat(dirfd, name, O_PATH | O_CLOEXEC);
	if (pathfd < 0) {
		pr_debug("cannot follow link %s: %m", name);
		return 0;
	}
	if (reached)
		*reached = true;
	if (fstat(pathfd, &st) < 0) {
		pr_warn("cannot stat the file of link %s: %m", name);
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		goto out;
	*out = hc_capture_lookup(c, st.st_dev, st.st_ino);
	if (*out)
		goto out;
	n = readlinkat(dirfd, name, host_path, sizeof(host_path));
	if (n < 0 || n == (ssize_t)sizeof(host_path)) {
		pr_warn("cannot read link %s (or it is too long): %m", name);
		goto out;
	}
	host_path[n] = '\0';
	if (refused(pathfd, host_path))
		goto out;
	fd = hc_reopen(pathfd, O_RDONLY);
	if (fd < 0) {
		pr_warn("cannot open %s: %m", host_path);
		goto out;
	}
	ret = add_file(c, fd, &st, host_path, writable, out);
	close(fd);
out:
	close(pathfd);
	return ret;
}

static int on_fd(void *ctx, const struct hc_proc_fd *f)
{
	struct hc_capture *c = ctx;
	struct hc_file *file;
	struct hc_openfd *fds;
	int ret;

	if (hc_capture_late(c))
		return -ETIME;
	ret = file_of_link(c, f->dirfd, f->name, f->writable, &file, NULL);
	if (!file)
		return ret;
	if (c->fds_left == 0) {
		hc_record_partial(&c->rec, "more than %u fds in all", HC_LIMIT_FDS_PER_IMAGE);
		return -E2BIG;
	}
	if (file->n_fds >= HC_LIMIT_FDS_PER_FILE) {
		hc_record_partial(&c->rec, "more than %u fds on %s", HC_LIMIT_FDS_PER_FILE, file->path);
		return ret;
	}
	if (file->n_fds == file->cap_fds) {
		fds = hc_grow(file->fds, &file->cap_fds, 4, sizeof(*fds));
		if (!fds) {
			hc_record_partial(&c->rec, "out of memory recording fds");
			return -ENOMEM;
		}
		file->fds = fds;
	}
	file->fds[file->n_fds++] = (struct hc_openfd){ .pid = (uint32_t)f->pid, .fd = (uint32_t)f->fd, .offset = f->pos };
	c->fds_left--;
	return ret;
}

/* Without map_files (no CAP_SYS_ADMIN): an O_PATH descriptor of the path resolved inside the process's root; -1 with errno. */
static int path_in_root(pid_t pid, const char *root, const char *host_path)
{
	const char *path = hc_path_in_root(host_path, root);
	char link[64];
	int rootfd, fd;

	if (!path) {
		errno = EXDEV;
		return -1;
	}
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	rootfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = hc_openat2_in_root(rootfd, path);
	close(rootfd);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

/*
 * A mapping whose map_files link cannot be followed: its path, resolved inside
 * the task's root. The container controls what that path names now, so it is
 * only opened once it is the mapped regular file (inode and device of maps).
 */
static int map_by_path(struct hc_capture *c, const struct hc_proc_map *m, struct hc_file **file)
{
	struct stat st;
	int ret = 0, fd, pathfd = path_in_root(m->pid, c->root, m->path);

	if (pathfd < 0) {
		pr_warn("cannot resolve mapped file %s of %d: %m", m->path, (int)m->pid);
		return 0;
	}
	if (fstat(pathfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != m->inode || st.st_dev != m->dev) {
		pr_warn("%s of %d is no longer the mapped file", m->path, (int)m->pid);
		goto out;
	}
	*file = hc_capture_lookup(c, st.st_dev, st.st_ino);
	if (*file || refused(pathfd, m->path))
		goto out;
	fd = hc_reopen(pathfd, O_RDONLY);
	if (fd < 0) {
		pr_warn("cannot open mapped file %s of %d: %m", m->path, (int)m->pid);
		goto out;
	}
	ret = add_file(c, fd, &st, m->path, m->writable, file);
	close(fd);
out:
	close(pathfd);
	return ret;
}

/* The spans of files[index], made room for. */
static struct hc_spans *spans_of(struct hc_capture *c, size_t index)
{
	while (index >= c->cap_present) {
		size_t old = c->cap_present;
		struct hc_spans *v = hc_grow(c->present, &c->cap_present, 64, sizeof(*v));

		if (!v)
			return NULL;
		memset(v + old, 0, (c->cap_present - old) * sizeof(*v));
		c->present = v;
	}
	return &c->present[index];
}

/* Records which pages of @file the mapping @m has present. -ETIME once the time limit has passed. */
static int record_mapped(struct hc_capture *c, struct hc_file *file, const struct hc_proc_map *m)
{
	uint64_t ps = c->rec.page_size, first = m->offset / ps, n = (m->end - m->start) / ps;
	struct hc_spans *spans;
	int ret;

	if (c->pagemap_fd < 0 || first >= file->size_pages)
		return 0;
	spans = spans_of(c, (size_t)(file - c->rec.files));
	if (!spans) {
		pr_err("out of memory recording mapped pages");
		return 0;
	}
	if (n > file->size_pages - first)
		n = file->size_pages - first;
	ret = hc_spans_read_pagemap(spans, c->pagemap_fd, m->start / ps, first, n, &c->spans_left, c->deadline_ns);
	if (ret == -ETIME) {
		hc_record_partial(&c->rec, "time limit reached reading the page table of %d", (int)m->pid);
		return ret;
	}
	if (ret == -EIO)
		pr_warn("cannot read the page table of %d for %s: %m", (int)m->pid, file->path);
	else if (ret == -E2BIG)
		pr_warn("too many mapped page runs: mapped pages past this point stay as the backend classed them");
	else if (ret < 0)
		pr_err("out of memory recording mapped pages");
	return 0;
}

static int on_map(void *ctx, const struct hc_proc_map *m)
{
	struct hc_capture *c = ctx;
	struct hc_file *file = NULL;
	bool reached = false;
	int ret = 0;

	if (m->dirfd >= 0)
		ret = file_of_link(c, m->dirfd, m->name, m->writable, &file, &reached);
	if (!reached)
		ret = map_by_path(c, m, &file);
	if (file) {
		file->mapped = true;
		if (record_mapped(c, file, m) == -ETIME && ret == 0)
			ret = -ETIME;
	}
	return ret;
}

/* Raises each file's resident pages that some task maps to warm, then forgets the spans. */
static void apply_mapped(struct hc_capture *c)
{
	size_t i;

	for (i = 0; i < c->cap_present && i < c->rec.n_files; i++) {
		struct hc_file *f = &c->rec.files[i];
		struct hc_ranges raised;

		if (c->present[i].n && f->ranges.n) {
			hc_spans_normalise(&c->present[i]);
			if (hc_ranges_raise(&f->ranges, &c->present[i], f->ranges.n + c->ranges_left, &raised) < 0) {
				pr_warn("%s: mapped pages left as the backend classed them (range limit or memory)", f->path);
			} else {
				c->ranges_left -= raised.n > f->ranges.n ? raised.n - f->ranges.n : 0;
				hc_ranges_free(&f->ranges);
				f->ranges = raised;
			}
		}
		hc_spans_free(&c->present[i]);
	}
}

static int on_task(void *ctx, pid_t pid)
{
	struct hc_capture *c = ctx;
	char link[64];
	ssize_t n;
	int ret;

	if (hc_capture_late(c))
		return -ETIME;
	if (c->n_tasks < HC_LIMIT_TASKS)
		c->tasks[c->n_tasks++] = pid;
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	n = readlink(link, c->root, sizeof(c->root) - 1);
	if (n <= 0) {
		pr_warn("cannot read %s, skipping the process: %m", link);
		return 0;
	}
	c->root[n] = '\0';
	ret = hc_proc_each_fd(pid, on_fd, c);
	if (ret == 0) {
		snprintf(link, sizeof(link), "/proc/%d/pagemap", (int)pid);
		c->pagemap_fd = open(link, O_RDONLY | O_CLOEXEC);
		if (c->pagemap_fd < 0)
			pr_warn("cannot open %s, its mapped pages keep the backend's classes: %m", link);
		ret = hc_proc_each_map(pid, on_map, c);
		if (c->pagemap_fd >= 0)
			close(c->pagemap_fd);
		c->pagemap_fd = -1;
	}
	return ret;
}

int hc_capture_root_task(struct hc_capture *c, pid_t pid)
{
	struct stat mine, theirs;
	char link[64];

	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	if (stat(link, &theirs) < 0) {
		pr_perror("cannot reach process %d", (int)pid);
		return -ESRCH;
	}
	c->rec.root_pid = (uint32_t)pid;
	c->rec.own_root = stat("/proc/self/root", &mine) == 0 && (mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino);
	return 0;
}

int hc_capture_tree(struct hc_capture *c, pid_t root)
{
	int ret = hc_capture_root_task(c, root);

	if (ret < 0)
		return ret;
	ret = hc_proc_walk_tree(root, HC_LIMIT_TASKS, on_task, c);
	if (ret == -E2BIG && !c->rec.partial)
		hc_record_partial(&c->rec, "more than %u processes", HC_LIMIT_TASKS);
	else if (ret < 0 && !c->rec.partial)
		hc_record_partial(&c->rec, "walk of the process tree stopped: %s", strerror(-ret));
	apply_mapped(c);
	if (c->scope != HC_SCOPE_TREE && !c->stopped && ret == 0)
		hc_capture_cgroup_scope(c, root, NULL);
	return 0;
}


int hc_capture_path(struct hc_capture *c, const char *path)
{
	char real[PATH_MAX];
	struct hc_file *file;
	struct stat st;
	int pathfd, fd, ret = 0;

	if (c->stopped)
		return 0;
	if (!realpath(path, real)) {
		pr_perror("cannot resolve %s", path);
		return -errno;
	}
	pathfd = open(real, O_PATH | O_CLOEXEC);
	if (pathfd < 0 || fstat(pathfd, &st) < 0) {
		pr_perror("cannot open %s", real);
		ret = -errno;
		if (pathfd >= 0)
			close(pathfd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s is not a regular file", real);
		close(pathfd);
		return -EINVAL;
	}
	strcpy(c->root, "/");
	if (!hc_capture_lookup(c, st.st_dev, st.st_ino) && !refused(pathfd, real)) {
		fd = hc_reopen(pathfd, O_RDONLY);
		if (fd < 0) {
			pr_perror("cannot open %s", real);
			ret = -errno;
			close(pathfd);
			return ret;
		}
		ret = add_file(c, fd, &st, real, false, &file);
		close(fd);
	}
	close(pathfd);
	/* A bound was hit: the capture is partial (logged), and what it holds is still written. */
	if (ret < 0)
		c->stopped = true;
	return 0;
}

/* The walk's state goes; the record stays for packing. */
static void end_walk(struct hc_capture *c)
{
	size_t i;

	for (i = 0; i < c->cap_present; i++)
		hc_spans_free(&c->present[i]);
	free(c->present);
	c->present = NULL;
	c->cap_present = 0;
	hc_dedup_free(&c->dedup);
	free(c->tasks);
	c->tasks = NULL;
	c->n_tasks = 0;
}

void hc_capture_end(struct hc_capture *c)
{
	hc_backend_close(&c->be);
	c->rec.lru = c->be.lru;
	c->rec.duration_ms = (uint32_t)((hc_clock_ns(CLOCK_MONOTONIC) - c->started_ns) / 1000000ull);
	end_walk(c);
}

int hc_capture_pack(struct hc_capture *c, uint8_t **buf, size_t *len)
{
	return hc_record_pack(&c->rec, buf, len);
}

void hc_capture_report(const struct hc_capture *c, const char *when)
{
	hc_record_report(&c->rec, when);
}

void hc_capture_free(struct hc_capture *c)
{
	if (!c)
		return;
	end_walk(c);
	hc_record_free(&c->rec);
	free(c);
}
