// SPDX-License-Identifier: GPL-2.0
/*
 * hotcache-test: the library's pure parts, run by the uvu suite
 * (test/capture-library.test.ts, test/config-parity.test.ts).
 *
 *   hotcache-test list          the unit tests, one name a line
 *   hotcache-test unit NAME     runs one; its failed checks, one a line
 *   hotcache-test config        the settings from HOTCACHE_CONFIG and the environment:
 *                               "warning: TEXT" lines as they come, then KEY=VALUE lines
 *   hotcache-test restore-key   the restore's key of the /proc/<pid>/stat text on stdin
 *   hotcache-test path-ok       for each line of hex on stdin, the bytes of a path: "ok" when
 *                               the capture may record it, else "refused"
 *
 * Exit codes: 0 done, 1 failed or refused, 2 usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotcache/config.h"
#include "hotcache/log.h"
#include "hotcache/restore-key.h"
#include "path.h"
#include "ranges.h"
#include "unit.h"

bool unit_failed;

void unit_check_ranges(const struct hc_ranges *r, const struct hc_range *want, size_t n, const char *what)
{
	size_t i;

	CHECK(r->n == n, "%s: %zu ranges, want %zu", what, r->n, n);
	for (i = 0; i < n && i < r->n; i++)
		CHECK(r->v[i].start == want[i].start && r->v[i].count == want[i].count && r->v[i].class == want[i].class,
		      "%s: range %zu is %llu+%llu class %d", what, i, (unsigned long long)r->v[i].start,
		      (unsigned long long)r->v[i].count, r->v[i].class);
}

static const struct {
	const struct unit_test *tests;
	const unsigned int *n;
} tables[] = {
	{ unit_ranges, &unit_ranges_n }, { unit_path, &unit_path_n }, { unit_dedup, &unit_dedup_n },
	{ unit_mapped, &unit_mapped_n }, { unit_refused_fs, &unit_refused_fs_n }, { unit_mountinfo, &unit_mountinfo_n },
	{ unit_memcg, &unit_memcg_n }, { unit_charged, &unit_charged_n }, { unit_view, &unit_view_n },
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static int list(void)
{
	size_t t, i;

	for (t = 0; t < N_TABLES; t++)
		for (i = 0; i < *tables[t].n; i++)
			puts(tables[t].tests[i].name);
	return 0;
}

static int unit(const char *name)
{
	size_t t, i;

	for (t = 0; t < N_TABLES; t++) {
		for (i = 0; i < *tables[t].n; i++) {
			if (strcmp(tables[t].tests[i].name, name))
				continue;
			tables[t].tests[i].fn();
			return unit_failed ? 1 : 0;
		}
	}
	fprintf(stderr, "hotcache-test: no unit test named '%s'\n", name);
	return 2;
}

/* The log sink: every message on stdout, in order, with its level. */
void hc_log(enum hc_level level, const char *fmt, ...)
{
	static const char *const names[] = { "", "error", "warning", "info", "debug" };
	va_list ap;

	va_start(ap, fmt);
	printf("%s: ", names[level]);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void print_setting(void *ctx, const char *key, const char *text)
{
	(void)ctx;
	printf("%s=%s\n", key, text);
}

static int config(void)
{
	struct hc_config cfg;

	hc_config_load(&cfg);
	hc_config_each(&cfg, print_setting, NULL);
	return 0;
}

static int restore_key(void)
{
	char stat[4096], key[64];
	size_t n = fread(stat, 1, sizeof(stat) - 1, stdin);

	stat[n] = '\0';
	if (hc_restore_key(stat, key, sizeof(key)) < 0) {
		puts("refused");
		return 1;
	}
	puts(key);
	return 0;
}

static int path_ok(void)
{
	char hex[2 * (HC_LIMIT_PATH_BYTES + 8) + 2], path[HC_LIMIT_PATH_BYTES + 8];
	size_t n, i;
	unsigned int byte;

	while (fgets(hex, sizeof(hex), stdin)) {
		n = strcspn(hex, "\n") / 2;
		for (i = 0; i < n && sscanf(hex + 2 * i, "%2x", &byte) == 1; i++)
			path[i] = (char)byte;
		puts(i == n && hc_path_ok(path, n) ? "ok" : "refused");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc == 3 && !strcmp(argv[1], "unit"))
		return unit(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "config"))
		return config();
	if (argc == 2 && !strcmp(argv[1], "restore-key"))
		return restore_key();
	if (argc == 2 && !strcmp(argv[1], "path-ok"))
		return path_ok();
	fputs("usage: hotcache-test list | unit NAME | config | restore-key | path-ok\n", stderr);
	return 2;
}
