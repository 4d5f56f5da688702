// SPDX-License-Identifier: GPL-2.0
/* Residency only: every cached page is "resident", nothing is hot or warm. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "hotcache/log.h"
#include "window.h"

static int mincore_open(struct hc_backend *b)
{
	b->hot_warm_exact = false;
	return 0;
}

static int emit_residency(void *ctx, struct hc_window *w)
{
	struct hc_ranges *out = ctx;
	size_t i = 0;

	while (i < w->n) {
		size_t j;
		int ret;

		if (!(w->vec[i] & 1)) {
			i++;
			continue;
		}
		for (j = i; j < w->n && (w->vec[j] & 1); j++)
			;
		ret = hc_ranges_add(out, w->first + i, j - i, HC_CLASS_RESIDENT);
		if (ret < 0)
			return ret;
		i = j;
	}
	return 0;
}

/*
 * Since Linux 5.2, mincore() reports every page of a file mapping as resident
 * unless the caller owns the file, may write it, or is privileged: it would
 * lie rather than fail. Root and the file's owner are told the truth.
 */
static bool mincore_tells_truth(int fd)
{
	char self[64];
	struct stat st;

	if (geteuid() == 0 || (fstat(fd, &st) == 0 && st.st_uid == geteuid()))
		return true;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return access(self, W_OK) == 0;
}

static int mincore_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out)
{
	if (!mincore_tells_truth(fd)) {
		pr_warn("mincore cannot see the page cache of a file this user neither owns nor may write");
		return -EACCES;
	}
	return hc_window_each(b, fd, size_pages, emit_residency, out);
}

const struct hc_backend_ops hc_backend_mincore = {
	.id = HC_BACKEND_MINCORE,
	.open = mincore_open,
	.scan = mincore_scan,
};
