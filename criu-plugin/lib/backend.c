// SPDX-License-Identifier: GPL-2.0
/* Backend selection and the parts every backend shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "hotcache/log.h"
#include "names.h"

/* Best first. */
static const struct hc_backend_ops *const all_backends[] = {
	&hc_backend_kmod,
	&hc_backend_kpageflags,
	&hc_backend_mincore,
};

#define N_BACKENDS (sizeof(all_backends) / sizeof(all_backends[0]))

/* By id. */
static const char *const names[] = { HC_BACKEND_NAMES };

#define N_NAMES (sizeof(names) / sizeof(names[0]))

int hc_backend_parse(const char *name, enum hc_backend_id *id)
{
	int n = hc_name_number(names, N_NAMES, name);

	if (n < 0)
		return -EINVAL;
	*id = (enum hc_backend_id)n;
	return 0;
}

const char *hc_backend_name(enum hc_backend_id id)
{
	return hc_name_of(names, N_NAMES, (int)id, HC_BACKEND_AUTO);
}

enum hc_lru hc_kernel_lru(void)
{
	FILE *f = fopen("/sys/kernel/mm/lru_gen/enabled", "re");
	unsigned long caps = 0;
	int ok;

	/* Absent: the kernel has no MGLRU at all. */
	if (!f)
		return HC_LRU_CLASSIC;
	ok = fscanf(f, "%lx", &caps) == 1;
	fclose(f);
	if (!ok) {
		pr_warn("cannot parse /sys/kernel/mm/lru_gen/enabled; assuming MGLRU");
		return HC_LRU_MGLRU;
	}
	return caps ? HC_LRU_MGLRU : HC_LRU_CLASSIC;
}

static int try_open(struct hc_backend *b, const struct hc_backend_ops *ops)
{
	int ret, i;

	memset(b, 0, sizeof(*b));
	b->ops = ops;
	for (i = 0; i < HC_BACKEND_FDS; i++)
		b->fds[i] = -1;
	b->page_size = sysconf(_SC_PAGESIZE);
	b->lru = hc_kernel_lru();
	ret = ops->open(b);
	if (ret < 0)
		hc_backend_close(b);
	return ret;
}

int hc_backend_open(struct hc_backend *b, enum hc_backend_id want)
{
	size_t i;

	for (i = 0; i < N_BACKENDS; i++) {
		const struct hc_backend_ops *ops = all_backends[i];

		if (want != HC_BACKEND_AUTO && ops->id != want)
			continue;
		if (try_open(b, ops) == 0) {
			pr_debug("backend %s, %s LRU%s", hc_backend_name(ops->id), b->lru == HC_LRU_MGLRU ? "MGLRU" : "classic",
				 b->hot_warm_exact ? "" : ", hot and warm not told apart");
			return 0;
		}
		if (want != HC_BACKEND_AUTO) {
			pr_err("backend %s was asked for and is not usable here", hc_backend_name(ops->id));
			return -ENODEV;
		}
	}
	pr_err("no page-cache backend is usable here");
	return -ENODEV;
}

int hc_probe(enum hc_backend_id want, struct hc_probe *out)
{
	struct hc_backend b;
	int ret = hc_backend_open(&b, want);

	if (ret < 0)
		return ret;
	out->backend = b.ops->id;
	out->lru = b.lru;
	out->hot_warm_exact = b.hot_warm_exact;
	hc_backend_close(&b);
	return 0;
}

bool hc_backend_late(const struct hc_backend *b)
{
	return hc_late(b->deadline_ns);
}

int hc_backend_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out)
{
	return b->ops->scan(b, fd, size_pages, out);
}

void hc_backend_close(struct hc_backend *b)
{
	int i;

	for (i = 0; i < HC_BACKEND_FDS; i++) {
		if (b->fds[i] >= 0)
			close(b->fds[i]);
		b->fds[i] = -1;
	}
}
