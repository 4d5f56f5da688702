// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup scope: besides what the tree holds open or mapped, every file
 * page charged to its memory cgroup, open or not, as the tree sees the file
 * (its root and mounts: view.h). With the module, HOTCACHE_IOC_MEMCG_SCAN
 * lists those pages file by file (kmod-memcg.c); without it, the files with
 * cached pages are walked (walk.c), scanned with the backend and cut down to
 * the pages /proc/kpagecgroup says are charged to the cgroup (charged.c).
 * Files the tree holds open or mapped keep all their pages, fds and mapping
 * facts, as in the tree scope.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture-state.h"
#include "charged.h"
#include "clock.h"
#include "hotcache/log.h"
#include "hotcache/open-in-root.h"
#include "kmod-memcg.h"
#include "memcg.h"
#include "names.h"
#include "path.h"
#include "pathfd.h"
#include "view.h"
#include "walk.h"

static const char *const scope_names[] = { HC_SCOPE_NAMES };

#define N_SCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int hc_scope_parse(const char *name, enum hc_scope *scope)
{
	int n = hc_name_number(scope_names, N_SCOPES, name);

	if (n < 0)
		return -EINVAL;
	*scope = (enum hc_scope)n;
	return 0;
}

const char *hc_scope_name(enum hc_scope scope)
{
	return hc_name_of(scope_names, N_SCOPES, (int)scope, HC_SCOPE_AUTO);
}

struct scope_run {
	struct hc_capture *c;
	struct hc_view view;
	struct hc_charged charged;
	size_t added;			/* files the scope added */
	bool outsider;			/* a process outside the tree is in the cgroup */
	pid_t first;			/* the first process found in the cgroup */
	/* The module's last file: its next record may go on with it. */
	uint64_t last_dev;
	uint64_t last_ino;
	struct hc_file *last;		/* NULL: that file is not taken */
};

static int check_pid(void *ctx, pid_t pid)
{
	struct scope_run *r = ctx;
	size_t i;

	for (i = 0; i < r->c->n_tasks; i++)
		if (r->c->tasks[i] == pid)
			return 0;
	pr_debug("process %d is in the memory cgroup but not in the tree", (int)pid);
	r->outsider = true;
	return 1;
}

static int first_pid(void *ctx, pid_t pid)
{
	((struct scope_run *)ctx)->first = pid;
	return 1;
}

/* A range limit or the time limit stops the capture; the rest only drops the file. */
static int range_error(struct hc_capture *c, int ret, const char *path)
{
	if (ret == -E2BIG) {
		hc_record_partial(&c->rec, "more than %u page ranges", HC_LIMIT_RANGES_PER_IMAGE);
		return ret;
	}
	if (ret == -ETIME) {
		hc_record_partial(&c->rec, "time limit reached while scanning %s", path);
		return ret;
	}
	pr_warn("%s left out: %s", path, strerror(-ret));
	return 0;
}

/* Without the module: a walked file with cached pages, kept with those charged to the cgroup. */
static int on_walked(void *ctx, int fd, const struct stat *st, const char *path)
{
	struct scope_run *r = ctx;
	struct hc_capture *c = r->c;
	uint64_t size_pages = ((uint64_t)st->st_size + c->rec.page_size - 1) / c->rec.page_size;
	struct hc_ranges all = { 0 }, kept;
	struct hc_spans charged = { 0 };
	size_t budget = c->ranges_left;
	struct hc_file *file;
	int ret;

	/* Open or mapped (recorded whole), or seen through another mount already. */
	if (hc_capture_lookup(c, st->st_dev, st->st_ino))
		return 0;
	ret = hc_charged_spans(&r->charged, &c->be, fd, size_pages, &charged, &budget);
	if (ret < 0) {
		ret = range_error(c, ret, path);
		goto out;
	}
	if (charged.n == 0)
		goto out;
	ret = hc_capture_record(c, fd, st, path, &file);
	if (ret < 0 || !file)
		goto out;
	r->added++;
	hc_capture_sync(c, file, fd, false);
	ret = hc_capture_scan(c, file, fd, &all);
	if (hc_ranges_keep(&all, &charged, c->ranges_left + all.n, &kept) < 0) {
		pr_warn("%s: out of memory keeping its charged pages", path);
		c->ranges_left += all.n;
		goto out;
	}
	c->ranges_left = c->ranges_left + all.n - kept.n;
	file->ranges = kept;
out:
	hc_ranges_free(&all);
	hc_spans_free(&charged);
	return ret;
}

/* The file a module record names, as the tree sees it, when it is still that file; NULL to leave it out. */
static struct hc_file *take_reported(struct scope_run *r, const struct hc_kmod_file *f, int *ret)
{
	struct hc_capture *c = r->c;
	char path[HC_LIMIT_PATH_BYTES + 1];
	struct hc_file *file = NULL;
	struct stat st;
	int pathfd, fd;

	*ret = 0;
	if (!hc_view_path(f->mount->point, f->below, path, sizeof(path)))
		return NULL;
	pathfd = hc_openat2_in_root(r->view.rootfd, path);
	if (pathfd < 0) {
		pr_debug("cannot open %s in the root of %u: %s", path, c->rec.root_pid, strerror(-pathfd));
		return NULL;
	}
	if (fstat(pathfd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino) {
		pr_debug("%s is no longer the file the module reported", path);
		goto out;
	}
	/* Open or mapped: recorded whole already. */
	if (hc_capture_lookup(c, st.st_dev, st.st_ino))
		goto out;
	fd = hc_reopen(pathfd, O_RDONLY);
	if (fd < 0) {
		pr_warn("cannot open %s: %m", path);
		goto out;
	}
	*ret = hc_capture_record(c, fd, &st, path, &file);
	if (file) {
		r->added++;
		hc_capture_sync(c, file, fd, false);
	}
	close(fd);
out:
	close(pathfd);
	return file;
}

/* With the module: one record, a file's charged pages (or more of the last file's). */
static int on_reported(void *ctx, const struct hc_kmod_file *f)
{
	struct scope_run *r = ctx;
	struct hc_capture *c = r->c;
	struct hc_file *file;
	size_t i, before;
	int ret = 0;

	if (f->dev != r->last_dev || f->ino != r->last_ino) {
		r->last_dev = f->dev;
		r->last_ino = f->ino;
		r->last = take_reported(r, f, &ret);
		if (ret < 0)
			return ret;
	}
	/* Left out, or more of a file left out. */
	file = r->last;
	if (!file)
		return 0;
	before = file->ranges.n;
	file->ranges.limit = file->ranges.n + c->ranges_left;
	for (i = 0; i < f->n && ret == 0; i++) {
		const struct hc_range *x = &f->ranges[i];

		/* The file may have shrunk since the module looked. */
		if (x->start >= file->size_pages)
			break;
		ret = hc_ranges_add(&file->ranges, x->start,
				    x->count < file->size_pages - x->start ? x->count : file->size_pages - x->start, x->class);
	}
	c->ranges_left -= file->ranges.n - before;
	if (ret == -EINVAL) {
		pr_err("kmod: the module's ranges of %s go backwards", file->path);
		return -EPROTO;
	}
	return ret < 0 ? range_error(c, ret, file->path) : 0;
}

/* The walk, without the module; false when it cannot run here (pages' cgroups unreadable). */
static bool scope_by_walk(struct scope_run *r, const struct hc_memcg *m, uint64_t started)
{
	struct hc_capture *c = r->c;
	struct hc_walk w = { .fn = on_walked, .ctx = r, .deadline_ns = c->deadline_ns };
	int ret;

	if (hc_charged_open(&r->charged, m, c->be.page_size) < 0)
		return false;
	c->rec.scope = HC_SCOPE_CGROUP;
	ret = hc_walk_view(&w, &r->view);
	hc_charged_close(&r->charged);
	if (w.stopped[0])
		hc_record_partial(&c->rec, "%s", w.stopped);
	else if (ret < 0 && ret != -ETIME && ret != -E2BIG)
		hc_record_partial(&c->rec, "the walk of the files of %s stopped: %s", m->dir, strerror(-ret));
	pr_info("cgroup scope %s: walked %zu mounts, %zu entries, %zu files, %zu with cached pages; added %zu files, %llu ms",
		m->dir, w.mounts, w.entries, w.files, w.cached, r->added,
		(unsigned long long)((hc_clock_ns(CLOCK_MONOTONIC) - started) / 1000000));
	return true;
}

/* The module's listing; false when this module or this cgroup cannot do it. */
static bool scope_by_module(struct scope_run *r, const struct hc_memcg *m, uint64_t started)
{
	struct hc_capture *c = r->c;
	int fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0) {
		pr_warn("cannot open the cgroup %s: %m", m->dir);
		return false;
	}
	c->rec.scope = HC_SCOPE_CGROUP;
	ret = hc_kmod_memcg_scan(c->be.fds[0], fd, &r->view, c->deadline_ns, on_reported, r);
	close(fd);
	if (ret == -ENOTTY || (ret == -EBADF && r->added == 0)) {
		c->rec.scope = HC_SCOPE_TREE;
		return false;
	}
	if (ret == -ETIME)
		hc_record_partial(&c->rec, "time limit reached listing the pages of %s", m->dir);
	else if (ret < 0 && !c->rec.partial)
		hc_record_partial(&c->rec, "the module's listing of %s stopped: %s", m->dir, strerror(-ret));
	pr_info("cgroup scope %s: listed by the module; added %zu files, %llu ms", m->dir, r->added,
		(unsigned long long)((hc_clock_ns(CLOCK_MONOTONIC) - started) / 1000000));
	return true;
}

void hc_capture_cgroup_scope(struct hc_capture *c, pid_t view, const char *dir)
{
	struct scope_run r = { .c = c, .view.rootfd = -1 };
	uint64_t started = hc_clock_ns(CLOCK_MONOTONIC);
	bool asked = c->scope == HC_SCOPE_CGROUP;
	struct hc_memcg m;
	int ret;

	ret = dir ? hc_memcg_at(dir, &m) : hc_memcg_of(view, &m);
	if (ret < 0) {
		if (asked)
			pr_warn("scope cgroup asked for, but %d has no memory cgroup to read: the tree only", (int)view);
		return;
	}
	ret = hc_memcg_read(&m, asked ? NULL : check_pid, &r);
	if (!asked && (m.root || r.outsider || ret == -E2BIG)) {
		pr_info("scope tree: the memory cgroup %s %s", m.dir,
			m.root ? "is the root one" : r.outsider ? "holds processes outside the tree" : "has too many cgroups below it");
		goto out;
	}
	if (ret == -E2BIG)
		hc_record_partial(&c->rec, "more than %u cgroups at and below %s: pages charged further down are left out",
				  HC_LIMIT_CGROUPS, m.dir);
	else if (ret < 0)
		goto out;
	if (hc_path_ok(m.dir, strlen(m.dir)))
		snprintf(c->rec.cgroup, sizeof(c->rec.cgroup), "%s", m.dir);
	if (hc_view_open(view, &r.view) < 0)
		goto out;
	if (r.view.truncated)
		hc_record_partial(&c->rec, "more than %u mounts: only the first were looked into", HC_LIMIT_MOUNTS);
	if (c->be.ops->id == HC_BACKEND_KMOD && scope_by_module(&r, &m, started))
		goto out;
	if (!scope_by_walk(&r, &m, started))
		pr_warn("scope cgroup: neither the module's listing nor the pages' cgroups can be read here: the tree only");
out:
	if (c->rec.scope != HC_SCOPE_CGROUP)
		c->rec.cgroup[0] = '\0';
	hc_view_close(&r.view);
	hc_memcg_free(&m);
}

int hc_capture_cgroup(struct hc_capture *c, const char *dir)
{
	struct scope_run r = { .c = c };
	struct hc_memcg m;
	int ret;

	ret = hc_memcg_at(dir, &m);
	if (ret < 0)
		return ret;
	ret = hc_memcg_read(&m, first_pid, &r);
	hc_memcg_free(&m);
	if (ret < 0 && ret != -E2BIG)
		return ret;
	if (!r.first) {
		pr_err("no process in the cgroup %s to see its files through", dir);
		return -ESRCH;
	}
	ret = hc_capture_root_task(c, r.first);
	if (ret < 0)
		return ret;
	c->scope = HC_SCOPE_CGROUP;
	hc_capture_cgroup_scope(c, r.first, dir);
	return 0;
}
