// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "charged.h"
#include "hotcache/log.h"

int hc_charged_open(struct hc_charged *ch, const struct hc_memcg *memcg, long page_size)
{
	int ret;

	memset(ch, 0, sizeof(*ch));
	ch->memcg = memcg;
	ret = hc_pfn_open(ch->fds, "/proc/kpagecgroup", page_size);
	if (ret < 0) {
		pr_warn("cannot read the memory cgroup of pages here (/proc/kpagecgroup and page frame numbers need root): %s",
			strerror(-ret));
		hc_pfn_close(ch->fds);
		return ret;
	}
	ch->pagemap = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	ch->cgroups = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	if (!ch->pagemap || !ch->cgroups) {
		pr_err("out of memory");
		hc_charged_close(ch);
		return -ENOMEM;
	}
	return 0;
}

void hc_charged_close(struct hc_charged *ch)
{
	hc_pfn_close(ch->fds);
	free(ch->pagemap);
	free(ch->cgroups);
	ch->pagemap = ch->cgroups = NULL;
}

struct charged_scan {
	struct hc_charged *ch;
	long page_size;
	struct hc_spans *out;
	size_t *budget;
};

static int charged_window(void *ctx, struct hc_window *w)
{
	struct charged_scan *s = ctx;
	size_t i;
	int ret;

	ret = hc_pfn_window(s->ch->fds, s->page_size, w, s->ch->pagemap, s->ch->cgroups);
	for (i = 0; i < w->n && ret == 0; i++)
		if ((w->vec[i] & 1) && s->ch->cgroups[i] && hc_memcg_has(s->ch->memcg, s->ch->cgroups[i]))
			ret = hc_spans_add(s->out, w->first + i, 1, s->budget);
	return ret;
}

int hc_charged_spans(struct hc_charged *ch, struct hc_backend *b, int fd, uint64_t size_pages, struct hc_spans *out,
		     size_t *budget)
{
	struct charged_scan s = { .ch = ch, .page_size = b->page_size, .out = out, .budget = budget };

	return hc_window_each(b, fd, size_pages, charged_window, &s);
}

int hc_ranges_keep(const struct hc_ranges *in, const struct hc_spans *keep, size_t limit, struct hc_ranges *out)
{
	size_t i, j = 0;
	int ret = 0;

	*out = (struct hc_ranges){ .limit = limit };
	for (i = 0; i < in->n && ret == 0; i++) {
		const struct hc_range *r = &in->v[i];
		uint64_t end = r->start + r->count;
		size_t k;

		while (j < keep->n && keep->v[j].start + keep->v[j].count <= r->start)
			j++;
		for (k = j; k < keep->n && keep->v[k].start < end && ret == 0; k++) {
			uint64_t from = keep->v[k].start > r->start ? keep->v[k].start : r->start;
			uint64_t to = keep->v[k].start + keep->v[k].count < end ? keep->v[k].start + keep->v[k].count : end;

			ret = hc_ranges_add(out, from, to - from, r->class);
		}
	}
	if (ret < 0)
		hc_ranges_free(out);
	return ret;
}
