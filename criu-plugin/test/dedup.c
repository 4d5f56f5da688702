// SPDX-License-Identifier: GPL-2.0
#include "dedup.h"
#include "unit.h"

#define FILES 20000

static void finds_each_file_across_growth(void)
{
	struct hc_dedup d;
	size_t i, at;
	bool all = true;

	CHECK(hc_dedup_init(&d) == 0, "init");
	/* Two devices with the same inode numbers: the pair is the key. */
	for (i = 0; i < FILES; i++)
		CHECK(hc_dedup_add(&d, i % 2 ? 2049 : 64769, i / 2, i) == 0, "add %zu", i);
	CHECK(d.cap >= FILES * 2, "at most half full: %zu of %zu", d.n, d.cap);
	for (i = 0; i < FILES; i++)
		all = all && hc_dedup_find(&d, i % 2 ? 2049 : 64769, i / 2, &at) && at == i;
	CHECK(all, "every file found at its index");
	CHECK(!hc_dedup_find(&d, 2049, FILES, &at), "an inode never added");
	CHECK(!hc_dedup_find(&d, 7, 0, &at), "a device never added");
	hc_dedup_free(&d);
}

UNIT_TESTS(unit_dedup) = {
	{ "dedup: (device, inode) to its file, across growth, and nothing else", finds_each_file_across_growth },
};
const unsigned int unit_dedup_n = UNIT_COUNT(unit_dedup);
