// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "grow.h"
#include "mapped.h"
#include "pagemap.h"

/* Pagemap entries read per pread. */
#define PAGEMAP_BATCH 4096u

static int add_span(struct hc_capture *c, struct hc_file *f, uint64_t start, uint64_t count)
{
	struct hc_span *last = f->n_present ? &f->present[f->n_present - 1] : NULL;

	if (last && last->start + last->count == start) {
		last->count += count;
		return 0;
	}
	if (c->present_left == 0)
		return -E2BIG;
	if (f->n_present == f->cap_present) {
		struct hc_span *v = hc_grow(f->present, &f->cap_present, 8, sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->present = v;
	}
	f->present[f->n_present++] = (struct hc_span){ start, count };
	c->present_left--;
	return 0;
}

int hc_mapped_record(struct hc_capture *c, struct hc_file *file, int pagemap_fd, const struct hc_proc_map *m)
{
	uint64_t entries[PAGEMAP_BATCH];
	uint64_t ps = c->page_size, first = m->offset / ps, n = (m->end - m->start) / ps, done = 0;
	int ret = 0;

	if (pagemap_fd < 0 || first >= file->size_pages)
		return 0;
	if (n > file->size_pages - first)
		n = file->size_pages - first;
	while (done < n && ret == 0) {
		size_t want = (size_t)(n - done < PAGEMAP_BATCH ? n - done : PAGEMAP_BATCH), i;
		off_t at = (off_t)((m->start / ps + done) * sizeof(uint64_t));

		if (hc_capture_late(c))
			return -ETIME;
		if (pread(pagemap_fd, entries, want * sizeof(uint64_t), at) != (ssize_t)(want * sizeof(uint64_t))) {
			pr_warn("cannot read the page table of %d for %s: %m", (int)m->pid, file->path);
			return 0;
		}
		for (i = 0; i < want && ret == 0; i++)
			if ((entries[i] & (PM_PRESENT | PM_FILE)) == (PM_PRESENT | PM_FILE))
				ret = add_span(c, file, first + done + i, 1);
		done += want;
	}
	if (ret == -E2BIG)
		pr_warn("too many mapped page runs: mapped pages past this point stay as the backend classed them");
	else if (ret < 0)
		pr_err("out of memory recording mapped pages");
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct hc_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts and merges @f's spans in place. */
static void normalise(struct hc_file *f)
{
	size_t i, n = 0;

	qsort(f->present, f->n_present, sizeof(*f->present), by_start);
	for (i = 0; i < f->n_present; i++) {
		struct hc_span *s = &f->present[i], *last = n ? &f->present[n - 1] : NULL;

		if (last && s->start <= last->start + last->count) {
			if (s->start + s->count > last->start + last->count)
				last->count = s->start + s->count - last->start;
		} else {
			f->present[n++] = *s;
		}
	}
	f->n_present = n;
}

/* Rebuilds @f's ranges with the resident pages inside a span raised to warm. */
static int upgrade(struct hc_capture *c, struct hc_file *f)
{
	struct hc_ranges out = { .limit = f->ranges.n + c->ranges_left };
	size_t i, j = 0;
	int ret = 0;

	for (i = 0; i < f->ranges.n && ret == 0; i++) {
		const struct hc_range *r = &f->ranges.v[i];
		uint64_t pos = r->start, end = r->start + r->count;

		if (r->class != HC_CLASS_RESIDENT) {
			ret = hc_ranges_add(&out, r->start, r->count, r->class);
			continue;
		}
		while (pos < end && ret == 0) {
			uint64_t stop;

			while (j < f->n_present && f->present[j].start + f->present[j].count <= pos)
				j++;
			if (j < f->n_present && f->present[j].start <= pos) {
				stop = f->present[j].start + f->present[j].count;
				stop = stop < end ? stop : end;
				ret = hc_ranges_add(&out, pos, stop - pos, HC_CLASS_WARM);
			} else {
				stop = j < f->n_present && f->present[j].start < end ? f->present[j].start : end;
				ret = hc_ranges_add(&out, pos, stop - pos, HC_CLASS_RESIDENT);
			}
			pos = stop;
		}
	}
	if (ret < 0) {
		hc_ranges_free(&out);
		return ret;
	}
	c->ranges_left -= out.n > f->ranges.n ? out.n - f->ranges.n : 0;
	hc_ranges_free(&f->ranges);
	f->ranges = out;
	return 0;
}

void hc_mapped_apply(struct hc_capture *c)
{
	size_t i;

	for (i = 0; i < c->n_files; i++) {
		struct hc_file *f = &c->files[i];

		if (f->n_present && f->ranges.n) {
			normalise(f);
			if (upgrade(c, f) < 0)
				pr_warn("%s: mapped pages left as the backend classed them (range limit or memory)", f->path);
		}
		free(f->present);
		f->present = NULL;
		f->n_present = f->cap_present = 0;
	}
}
