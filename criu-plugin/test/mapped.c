// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mapped.h"
#include "pagemap.h"
#include "unit.h"

static void spans_merge_what_follows_and_count_the_rest(void)
{
	struct hc_spans s = { 0 };
	size_t budget = 2;

	CHECK(hc_spans_add(&s, 4, 1, &budget) == 0 && budget == 1, "a new span costs one");
	CHECK(hc_spans_add(&s, 5, 2, &budget) == 0 && budget == 1, "a following one is merged, for free");
	CHECK(hc_spans_add(&s, 9, 1, &budget) == 0 && budget == 0, "a gap: a second span");
	CHECK(hc_spans_add(&s, 20, 1, &budget) == -E2BIG, "the budget is spent");
	CHECK(s.n == 2 && s.v[0].start == 4 && s.v[0].count == 3, "4..6");
	hc_spans_free(&s);
}

static void normalise_sorts_and_merges(void)
{
	struct hc_span v[] = { { 30, 5 }, { 0, 2 }, { 10, 10 }, { 2, 3 }, { 12, 3 }, { 19, 4 } };
	struct hc_spans s = { .v = v, .n = 6, .cap = 6 };

	hc_spans_normalise(&s);
	CHECK(s.n == 3, "%zu spans", s.n);
	CHECK(s.v[0].start == 0 && s.v[0].count == 5, "touching: 0..4");
	CHECK(s.v[1].start == 10 && s.v[1].count == 13, "inside and overlapping: 10..22");
	CHECK(s.v[2].start == 30 && s.v[2].count == 5, "alone: 30..34");
}

static void resident_pages_a_task_maps_become_warm(void)
{
	struct hc_range in_v[] = {
		{ 0, 10, HC_CLASS_RESIDENT }, { 10, 2, HC_CLASS_HOT }, { 12, 4, HC_CLASS_WARM }, { 20, 10, HC_CLASS_RESIDENT },
	};
	struct hc_ranges in = { .v = in_v, .n = 4, .cap = 4, .limit = 4 }, out;
	struct hc_span spans_v[] = { { 2, 3 }, { 8, 6 }, { 25, 10 }, { 40, 5 } };
	struct hc_spans spans = { .v = spans_v, .n = 4, .cap = 4 };
	const struct hc_range want[] = {
		{ 0, 2, HC_CLASS_RESIDENT }, { 2, 3, HC_CLASS_WARM }, { 5, 3, HC_CLASS_RESIDENT }, { 8, 2, HC_CLASS_WARM },
		{ 10, 2, HC_CLASS_HOT }, { 12, 4, HC_CLASS_WARM }, { 20, 5, HC_CLASS_RESIDENT }, { 25, 5, HC_CLASS_WARM },
	};

	CHECK(hc_ranges_raise(&in, &spans, 100, &out) == 0, "raise");
	/* Hot stays hot (never lowered), a span past every range adds nothing. */
	unit_check_ranges(&out, want, sizeof(want) / sizeof(want[0]), "raised");
	hc_ranges_free(&out);
}

static void raising_past_the_limit_changes_nothing(void)
{
	struct hc_range in_v[] = { { 0, 10, HC_CLASS_RESIDENT } };
	struct hc_ranges in = { .v = in_v, .n = 1, .cap = 1, .limit = 1 }, out;
	struct hc_span spans_v[] = { { 2, 1 }, { 6, 1 } };
	struct hc_spans spans = { .v = spans_v, .n = 2, .cap = 2 };

	CHECK(hc_ranges_raise(&in, &spans, 4, &out) == -E2BIG, "five ranges do not fit in four");
	CHECK(out.n == 0 && out.v == NULL, "nothing half made is left");
	CHECK(in.n == 1 && in.v[0].class == HC_CLASS_RESIDENT, "the input stays");
}

/* A file standing in for /proc/PID/pagemap: 64-bit entries, one per virtual page. */
static int fake_pagemap(const uint64_t *entries, size_t n)
{
	char name[] = "/tmp/hotcache-pagemap-XXXXXX";
	int fd = mkstemp(name);

	if (fd < 0)
		return -1;
	unlink(name);
	if (pwrite(fd, entries, n * sizeof(*entries), 0) != (ssize_t)(n * sizeof(*entries))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void present_file_pages_are_read_from_the_page_table(void)
{
	const uint64_t P = PM_PRESENT | PM_FILE;
	/* Virtual pages 0..9; the mapping is pages 2..8, file pages 100..106. */
	const uint64_t entries[] = { P, P, P, P, 0, PM_PRESENT, P, P, P, P };
	struct hc_spans s = { 0 };
	size_t budget = 10;
	int fd = fake_pagemap(entries, 10);

	CHECK(fd >= 0, "a pagemap file");
	if (fd < 0)
		return;
	CHECK(hc_spans_read_pagemap(&s, fd, 2, 100, 7, &budget, 0) == 0, "read");
	/* Page 4 is absent, page 5 present but anonymous (copied on write): neither counts. */
	CHECK(s.n == 2, "%zu spans", s.n);
	CHECK(s.n == 2 && s.v[0].start == 100 && s.v[0].count == 2, "100..101");
	CHECK(s.n == 2 && s.v[1].start == 104 && s.v[1].count == 3, "104..106");
	CHECK(hc_spans_read_pagemap(&s, fd, 2, 100, 7, &budget, 1) == -ETIME, "a deadline long past");
	CHECK(hc_spans_read_pagemap(&s, fd, 9, 100, 4, &budget, 0) == -EIO, "a page table shorter than the mapping");
	hc_spans_free(&s);
	close(fd);
}

UNIT_TESTS(unit_mapped) = {
	{ "mapped: pages that follow merge into a span, a new span costs from the budget", spans_merge_what_follows_and_count_the_rest },
	{ "mapped: spans sorted, overlapping and touching ones merged", normalise_sorts_and_merges },
	{ "mapped: resident pages inside a span become warm, nothing is lowered", resident_pages_a_task_maps_become_warm },
	{ "mapped: past the range limit, nothing is raised", raising_past_the_limit_changes_nothing },
	{ "mapped: present file pages are read from the page table, anonymous and absent ones are not", present_file_pages_are_read_from_the_page_table },
};
const unsigned int unit_mapped_n = UNIT_COUNT(unit_mapped);
