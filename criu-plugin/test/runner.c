// SPDX-License-Identifier: GPL-2.0
/*
 * hotcache-test: the library's pure parts, run by the uvu suite
 * (test/capture-library.test.ts, test/config-parity.test.ts).
 *
 *   hotcache-test config        the settings from HOTCACHE_CONFIG and the environment:
 *                               "warning: TEXT" lines as they come, then KEY=VALUE lines
 *   hotcache-test restore-key   the restore's key of the /proc/<pid>/stat text on stdin
 *
 * Exit codes: 0 done, 1 refused or failed, 2 usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "restore-key.h"

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

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "config"))
		return config();
	if (argc == 2 && !strcmp(argv[1], "restore-key"))
		return restore_key();
	fputs("usage: hotcache-test config | restore-key\n", stderr);
	return 2;
}
