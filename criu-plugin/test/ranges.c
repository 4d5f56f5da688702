// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include "ranges.h"
#include "unit.h"

static void merges_touching_ranges_of_one_class(void)
{
	struct hc_ranges r = { .limit = 8 };

	CHECK(hc_ranges_add(&r, 0, 2, HC_CLASS_HOT) == 0, "first");
	CHECK(hc_ranges_add(&r, 2, 3, HC_CLASS_HOT) == 0, "touching, same class");
	CHECK(hc_ranges_add(&r, 5, 1, HC_CLASS_WARM) == 0, "touching, other class");
	CHECK(hc_ranges_add(&r, 9, 1, HC_CLASS_WARM) == 0, "a gap");
	CHECK(hc_ranges_add(&r, 10, 0, HC_CLASS_HOT) == 0, "empty: nothing");
	CHECK(r.n == 3, "%zu ranges", r.n);
	CHECK(r.v[0].start == 0 && r.v[0].count == 5 && r.v[0].class == HC_CLASS_HOT, "merged hot run");
	CHECK(r.v[1].start == 5 && r.v[1].count == 1 && r.v[1].class == HC_CLASS_WARM, "warm page");
	CHECK(r.v[2].start == 9 && r.v[2].count == 1, "after the gap");
	hc_ranges_free(&r);
}

static void refuses_overlap_and_going_back(void)
{
	struct hc_ranges r = { .limit = 8 };

	hc_ranges_add(&r, 10, 5, HC_CLASS_HOT);
	CHECK(hc_ranges_add(&r, 14, 2, HC_CLASS_WARM) == -EINVAL, "overlapping");
	CHECK(hc_ranges_add(&r, 3, 1, HC_CLASS_WARM) == -EINVAL, "before the last");
	CHECK(r.n == 1 && r.v[0].count == 5, "what was held stays");
	hc_ranges_free(&r);
}

static void stops_at_the_limit(void)
{
	struct hc_ranges r = { .limit = 2 };

	CHECK(hc_ranges_add(&r, 0, 1, HC_CLASS_HOT) == 0, "1");
	CHECK(hc_ranges_add(&r, 2, 1, HC_CLASS_HOT) == 0, "2");
	CHECK(hc_ranges_add(&r, 3, 4, HC_CLASS_HOT) == 0, "a merge costs no range");
	CHECK(hc_ranges_add(&r, 9, 1, HC_CLASS_HOT) == -E2BIG, "3 is past the limit");
	CHECK(r.n == 2 && r.v[1].count == 5, "the ranges held stay valid");
	hc_ranges_free(&r);
}

UNIT_TESTS(unit_ranges) = {
	{ "ranges: touching ranges of one class merge, classes stay apart", merges_touching_ranges_of_one_class },
	{ "ranges: an overlapping or earlier range is refused", refuses_overlap_and_going_back },
	{ "ranges: the limit counts ranges, not merges", stops_at_the_limit },
};
const unsigned int unit_ranges_n = UNIT_COUNT(unit_ranges);
