// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "contract.h"
#include "hotcache.h"
#include "hotcache/log.h"
#include "kmod-memcg.h"

_Static_assert(HOTCACHE_MAX_MOUNTS == HC_LIMIT_MOUNTS, "kmod/uapi/hotcache.h and the contract disagree on the mounts");

/* Buffers of one call. */
#define BATCH_FILES 4096u
#define BATCH_RANGES 65536u
#define BATCH_PATH_BYTES (1u << 20)

struct buffers {
	struct hotcache_memcg_file *files;
	struct hotcache_range *ranges;
	struct hc_range *checked;	/* one file's ranges, as the library holds them */
	char *paths;
};

/* One record of a call, checked against what the call returned; -EPROTO. */
static int check_file(const struct hotcache_memcg_scan *s, const struct buffers *b, const struct hotcache_memcg_file *f,
		      size_t n_mounts, struct hc_kmod_file *out)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), end = 0, pages = f->size / ps + (f->size % ps != 0);
	uint32_t i;

	if (f->mount >= n_mounts || f->path >= BATCH_PATH_BYTES || f->nr_ranges == 0 || f->first_range > s->nr_ranges ||
	    f->nr_ranges > s->nr_ranges - f->first_range || f->flags & ~(uint32_t)HOTCACHE_FILE_MORE || f->pad ||
	    !memchr(b->paths + f->path, '\0', BATCH_PATH_BYTES - f->path) || b->paths[f->path] != '/')
		return -EPROTO;
	for (i = 0; i < f->nr_ranges; i++) {
		const struct hotcache_range *r = &b->ranges[f->first_range + i];

		if (r->count == 0 || r->start < end || r->start > pages || r->count > pages - r->start || r->pad ||
		    r->class < HOTCACHE_CLASS_RESIDENT || r->class > HOTCACHE_CLASS_HOT)
			return -EPROTO;
		b->checked[i] = (struct hc_range){ .start = r->start, .count = r->count, .class = (enum hc_class)r->class };
		end = r->start + r->count;
	}
	out->dev = f->dev;
	out->ino = f->ino;
	out->size = f->size;
	out->below = b->paths + f->path;
	out->ranges = b->checked;
	out->n = f->nr_ranges;
	out->more = f->flags & HOTCACHE_FILE_MORE;
	return 0;
}

int hc_kmod_memcg_scan(int dev, int cgroup_fd, const struct hc_view *view, uint64_t deadline_ns, hc_kmod_file_fn fn,
		       void *ctx)
{
	struct buffers b = { 0 };
	int32_t *fds = NULL;
	size_t *index = NULL, n = 0, i;
	struct hotcache_memcg_scan s;
	bool start = true;
	int ret = 0;

	b.files = calloc(BATCH_FILES, sizeof(*b.files));
	b.ranges = calloc(BATCH_RANGES, sizeof(*b.ranges));
	b.checked = calloc(BATCH_RANGES, sizeof(*b.checked));
	b.paths = calloc(BATCH_PATH_BYTES, 1);
	fds = calloc(view->n + 1, sizeof(*fds));
	index = calloc(view->n + 1, sizeof(*index));
	if (!b.files || !b.ranges || !b.checked || !b.paths || !fds || !index) {
		pr_err("kmod: out of memory for the cgroup scan");
		ret = -ENOMEM;
		goto out;
	}
	/* Directories only: a file mounted on its own is under its own mount's directory elsewhere. */
	for (i = 0; i < view->n; i++) {
		if (view->v[i].file)
			continue;
		fds[n] = view->v[i].fd;
		index[n++] = i;
	}
	if (n == 0)
		goto out;
	do {
		if (hc_late(deadline_ns)) {
			ret = -ETIME;
			break;
		}
		memset(&s, 0, sizeof(s));
		if (start) {
			s.flags = HOTCACHE_MEMCG_START;
			s.cgroup_fd = (uint32_t)cgroup_fd;
			s.mounts = (uintptr_t)fds;
			s.nr_mounts = (uint32_t)n;
		}
		s.files = (uintptr_t)b.files;
		s.max_files = BATCH_FILES;
		s.ranges = (uintptr_t)b.ranges;
		s.max_ranges = BATCH_RANGES;
		s.paths = (uintptr_t)b.paths;
		s.path_bytes = BATCH_PATH_BYTES;
		if (ioctl(dev, HOTCACHE_IOC_MEMCG_SCAN, &s) < 0) {
			ret = -errno;
			if (ret == -ENOTTY)
				pr_warn("kmod: the loaded module predates HOTCACHE_IOC_MEMCG_SCAN");
			else if (ret == -EBADF && start)
				pr_warn("kmod: HOTCACHE_IOC_MEMCG_SCAN takes a cgroup2 directory");
			else
				pr_perror("kmod: HOTCACHE_IOC_MEMCG_SCAN");
			break;
		}
		start = false;
		if (s.nr_files > BATCH_FILES || s.nr_ranges > BATCH_RANGES) {
			ret = -EPROTO;
			break;
		}
		for (i = 0; i < s.nr_files && ret == 0; i++) {
			struct hc_kmod_file f;

			ret = check_file(&s, &b, &b.files[i], n, &f);
			if (ret == 0) {
				f.mount = &view->v[index[b.files[i].mount]];
				ret = fn(ctx, &f);
			}
		}
	} while (ret == 0 && !s.done);
	if (ret == -EPROTO)
		pr_err("kmod: HOTCACHE_IOC_MEMCG_SCAN returned an invalid record");
out:
	free(b.files);
	free(b.ranges);
	free(b.checked);
	free(b.paths);
	free(fds);
	free(index);
	return ret;
}
