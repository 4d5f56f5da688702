// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include "charged.h"
#include "unit.h"

static void only_charged_pages_stay_with_their_class(void)
{
	struct hc_range in_v[] = { { 0, 10, HC_CLASS_HOT }, { 10, 5, HC_CLASS_WARM }, { 20, 10, HC_CLASS_RESIDENT }, { 40, 2, HC_CLASS_HOT } };
	struct hc_ranges in = { .v = in_v, .n = 4, .cap = 4, .limit = 4 }, out;
	struct hc_span keep_v[] = { { 2, 3 }, { 7, 6 }, { 25, 20 } };
	struct hc_spans keep = { .v = keep_v, .n = 3, .cap = 3 };
	const struct hc_range want[] = {
		{ 2, 3, HC_CLASS_HOT }, { 7, 3, HC_CLASS_HOT }, { 10, 3, HC_CLASS_WARM }, { 25, 5, HC_CLASS_RESIDENT }, { 40, 2, HC_CLASS_HOT },
	};

	CHECK(hc_ranges_keep(&in, &keep, 100, &out) == 0, "keep");
	unit_check_ranges(&out, want, 5, "kept");
	hc_ranges_free(&out);
}

static void nothing_charged_keeps_nothing(void)
{
	struct hc_range in_v[] = { { 0, 10, HC_CLASS_HOT } };
	struct hc_ranges in = { .v = in_v, .n = 1, .cap = 1, .limit = 1 }, out;
	struct hc_span keep_v[] = { { 10, 5 } };
	struct hc_spans none = { 0 }, after = { .v = keep_v, .n = 1, .cap = 1 };

	CHECK(hc_ranges_keep(&in, &none, 100, &out) == 0 && out.n == 0, "no span: %zu ranges", out.n);
	hc_ranges_free(&out);
	CHECK(hc_ranges_keep(&in, &after, 100, &out) == 0 && out.n == 0, "a span just after: %zu ranges", out.n);
	hc_ranges_free(&out);
}

static void one_range_split_by_many_spans_counts_against_the_limit(void)
{
	struct hc_range in_v[] = { { 0, 100, HC_CLASS_WARM } };
	struct hc_ranges in = { .v = in_v, .n = 1, .cap = 1, .limit = 1 }, out;
	struct hc_span keep_v[] = { { 0, 1 }, { 2, 1 }, { 4, 1 } };
	struct hc_spans keep = { .v = keep_v, .n = 3, .cap = 3 };

	CHECK(hc_ranges_keep(&in, &keep, 2, &out) == -E2BIG, "three pieces do not fit in two");
	CHECK(out.n == 0 && out.v == NULL, "and leave nothing");
	CHECK(hc_ranges_keep(&in, &keep, 3, &out) == 0 && out.n == 3, "they fit in three");
	hc_ranges_free(&out);
}

UNIT_TESTS(unit_charged) = {
	{ "charged: only pages charged to the cgroup stay, with their classes", only_charged_pages_stay_with_their_class },
	{ "charged: nothing charged keeps nothing", nothing_charged_keeps_nothing },
	{ "charged: a range split by many spans counts each piece against the limit", one_range_split_by_many_spans_counts_against_the_limit },
};
const unsigned int unit_charged_n = UNIT_COUNT(unit_charged);
