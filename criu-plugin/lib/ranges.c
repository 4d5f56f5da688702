// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "grow.h"
#include "ranges.h"

int hc_ranges_add(struct hc_ranges *r, uint64_t start, uint64_t count, enum hc_class class)
{
	struct hc_range *last = r->n ? &r->v[r->n - 1] : NULL;

	if (count == 0)
		return 0;
	if (last && start < last->start + last->count)
		return -EINVAL;
	if (last && last->class == class && start == last->start + last->count) {
		last->count += count;
		return 0;
	}
	if (r->n >= r->limit)
		return -E2BIG;
	if (r->n == r->cap) {
		struct hc_range *v = hc_grow(r->v, &r->cap, 16, sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
	}
	r->v[r->n++] = (struct hc_range){ .start = start, .count = count, .class = class };
	return 0;
}

void hc_ranges_free(struct hc_ranges *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}
