// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "grow.h"
#include "mapped.h"
#include "pagemap.h"

/* Pagemap entries read per pread. */
#define PAGEMAP_BATCH 4096u

int hc_spans_add(struct hc_spans *s, uint64_t start, uint64_t count, size_t *budget)
{
	struct hc_span *last = s->n ? &s->v[s->n - 1] : NULL;

	if (last && last->start + last->count == start) {
		last->count += count;
		return 0;
	}
	if (*budget == 0)
		return -E2BIG;
	if (s->n == s->cap) {
		struct hc_span *v = hc_grow(s->v, &s->cap, 8, sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
	}
	s->v[s->n++] = (struct hc_span){ start, count };
	(*budget)--;
	return 0;
}

int hc_spans_read_pagemap(struct hc_spans *s, int pagemap_fd, uint64_t vpage, uint64_t first, uint64_t n,
			  size_t *budget, uint64_t deadline_ns)
{
	uint64_t entries[PAGEMAP_BATCH], done = 0;
	int ret = 0;

	while (done < n && ret == 0) {
		size_t want = (size_t)(n - done < PAGEMAP_BATCH ? n - done : PAGEMAP_BATCH), i;

		if (hc_late(deadline_ns))
			return -ETIME;
		if (pread(pagemap_fd, entries, want * sizeof(uint64_t), (off_t)((vpage + done) * sizeof(uint64_t))) !=
		    (ssize_t)(want * sizeof(uint64_t)))
			return -EIO;
		for (i = 0; i < want && ret == 0; i++)
			if ((entries[i] & (PM_PRESENT | PM_FILE)) == (PM_PRESENT | PM_FILE))
				ret = hc_spans_add(s, first + done + i, 1, budget);
		done += want;
	}
	return ret;
}

static int by_start(const void *a, const void *b)
{
	const struct hc_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void hc_spans_normalise(struct hc_spans *s)
{
	size_t i, n = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), by_start);
	for (i = 0; i < s->n; i++) {
		struct hc_span *span = &s->v[i], *last = n ? &s->v[n - 1] : NULL;

		if (last && span->start <= last->start + last->count) {
			if (span->start + span->count > last->start + last->count)
				last->count = span->start + span->count - last->start;
		} else {
			s->v[n++] = *span;
		}
	}
	s->n = n;
}

int hc_ranges_raise(const struct hc_ranges *in, const struct hc_spans *present, size_t limit, struct hc_ranges *out)
{
	size_t i, j = 0;
	int ret = 0;

	*out = (struct hc_ranges){ .limit = limit };
	for (i = 0; i < in->n && ret == 0; i++) {
		const struct hc_range *r = &in->v[i];
		uint64_t pos = r->start, end = r->start + r->count;

		if (r->class != HC_CLASS_RESIDENT) {
			ret = hc_ranges_add(out, r->start, r->count, r->class);
			continue;
		}
		while (pos < end && ret == 0) {
			const struct hc_span *span;
			uint64_t stop;

			while (j < present->n && present->v[j].start + present->v[j].count <= pos)
				j++;
			span = j < present->n ? &present->v[j] : NULL;
			if (span && span->start <= pos) {
				stop = span->start + span->count < end ? span->start + span->count : end;
				ret = hc_ranges_add(out, pos, stop - pos, HC_CLASS_WARM);
			} else {
				stop = span && span->start < end ? span->start : end;
				ret = hc_ranges_add(out, pos, stop - pos, HC_CLASS_RESIDENT);
			}
			pos = stop;
		}
	}
	if (ret < 0)
		hc_ranges_free(out);
	return ret;
}

void hc_spans_free(struct hc_spans *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
