// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "dedup.h"

#define FIRST_CAP 1024

static size_t slot_of(size_t cap, uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static void put(struct hc_dedup_slot *slots, size_t cap, const struct hc_dedup_slot *e)
{
	size_t s;

	for (s = slot_of(cap, e->dev, e->ino); slots[s].index; s = (s + 1) & (cap - 1))
		;
	slots[s] = *e;
}

int hc_dedup_init(struct hc_dedup *d)
{
	d->cap = FIRST_CAP;
	d->n = 0;
	d->slots = calloc(d->cap, sizeof(*d->slots));
	return d->slots ? 0 : -ENOMEM;
}

void hc_dedup_free(struct hc_dedup *d)
{
	free(d->slots);
	d->slots = NULL;
	d->cap = d->n = 0;
}

bool hc_dedup_find(const struct hc_dedup *d, uint64_t dev, uint64_t ino, size_t *index)
{
	size_t s;

	for (s = slot_of(d->cap, dev, ino); d->slots[s].index; s = (s + 1) & (d->cap - 1)) {
		if (d->slots[s].dev == dev && d->slots[s].ino == ino) {
			*index = d->slots[s].index - 1;
			return true;
		}
	}
	return false;
}

int hc_dedup_add(struct hc_dedup *d, uint64_t dev, uint64_t ino, size_t index)
{
	struct hc_dedup_slot e = { .dev = dev, .ino = ino, .index = index + 1 };
	size_t i;

	if ((d->n + 1) * 2 > d->cap) {
		size_t cap = d->cap * 2;
		struct hc_dedup_slot *bigger = calloc(cap, sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		for (i = 0; i < d->cap; i++)
			if (d->slots[i].index)
				put(bigger, cap, &d->slots[i]);
		free(d->slots);
		d->slots = bigger;
		d->cap = cap;
	}
	put(d->slots, d->cap, &e);
	d->n++;
	return 0;
}
