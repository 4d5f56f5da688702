/* SPDX-License-Identifier: GPL-2.0 */
/* The unit tests of libhotcache's pure parts: a table per file, run one at a time by runner.c. */
#ifndef HOTCACHE_UNIT_H
#define HOTCACHE_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

/* Set by CHECK when a check fails; the runner reports the test as failed. */
extern bool unit_failed;

/* Records a failed check with where and what, and goes on. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			unit_failed = true;                                    \
			printf("%s:%d: %s: ", __FILE__, __LINE__, #cond);      \
			printf(__VA_ARGS__);                                   \
			putchar('\n');                                         \
		}                                                              \
	} while (0)

struct hc_ranges;
struct hc_range;

/* Checks that @r holds exactly the @n ranges of @want; @what names the case in what it prints. */
void unit_check_ranges(const struct hc_ranges *r, const struct hc_range *want, size_t n, const char *what);

#define UNIT_TESTS(name) const struct unit_test name[]
#define UNIT_COUNT(table) (sizeof(table) / sizeof(table[0]))

extern const struct unit_test unit_ranges[], unit_path[], unit_dedup[], unit_mapped[], unit_refused_fs[], unit_mountinfo[],
	unit_memcg[], unit_charged[], unit_view[];
extern const unsigned int unit_ranges_n, unit_path_n, unit_dedup_n, unit_mapped_n, unit_refused_fs_n, unit_mountinfo_n,
	unit_memcg_n, unit_charged_n, unit_view_n;

#endif /* HOTCACHE_UNIT_H */
