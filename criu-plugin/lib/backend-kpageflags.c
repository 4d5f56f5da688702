// SPDX-License-Identifier: GPL-2.0
/*
 * Hotness from /proc/kpageflags, no module (root only): each cached page's
 * flags by its PFN (pfn.c). MADV_RANDOM, set for the scan (window.c), does
 * not stop fault-around (see mapped.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "hotcache/log.h"
#include "pfn.h"
#include "window.h"

_Static_assert(HC_PFN_FDS <= HC_BACKEND_FDS, "the backend keeps the PFN descriptors in its fds");

#define KPF_REFERENCED 2
#define KPF_ACTIVE 6

struct kpf_scan {
	struct hc_backend *b;
	struct hc_ranges *out;
	uint64_t *pagemap;	/* HC_WINDOW_PAGES entries */
	uint64_t *flags;	/* HC_WINDOW_PAGES entries, indexed like pagemap */
};

static int kpageflags_open(struct hc_backend *b)
{
	int ret = hc_pfn_open(b->fds, "/proc/kpageflags", b->page_size);

	if (ret < 0) {
		pr_debug("kpageflags: not usable here");
		return ret;
	}
	b->hot_warm_exact = b->lru == HC_LRU_CLASSIC;
	if (!b->hot_warm_exact)
		pr_warn("kpageflags: MGLRU is enabled, PG_active means nothing there: hot and warm are not told apart");
	return 0;
}

static enum hc_class classify(uint64_t flags)
{
	if (flags & (1ULL << KPF_ACTIVE))
		return HC_CLASS_HOT;
	if (flags & (1ULL << KPF_REFERENCED))
		return HC_CLASS_WARM;
	return HC_CLASS_RESIDENT;
}

static int scan_window(void *ctx, struct hc_window *w)
{
	struct kpf_scan *s = ctx;
	size_t i;
	int ret;

	ret = hc_pfn_window(s->b->fds, s->b->page_size, w, s->pagemap, s->flags);
	for (i = 0; i < w->n && ret == 0; i++) {
		if (w->vec[i] & 1)
			ret = hc_ranges_add(s->out, w->first + i, 1, classify(s->flags[i]));
	}
	return ret;
}

static int kpageflags_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out)
{
	struct kpf_scan s = { .b = b, .out = out };
	int ret = -ENOMEM;

	s.pagemap = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	s.flags = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	if (s.pagemap && s.flags)
		ret = hc_window_each(b, fd, size_pages, scan_window, &s);
	else
		pr_err("kpageflags: out of memory");
	free(s.pagemap);
	free(s.flags);
	return ret;
}

const struct hc_backend_ops hc_backend_kpageflags = {
	.id = HC_BACKEND_KPAGEFLAGS,
	.open = kpageflags_open,
	.scan = kpageflags_scan,
};
