// SPDX-License-Identifier: GPL-2.0
/*
 * Log sink of hotcache-capture: stderr. Errors and warnings always; info and
 * debug when HOTCACHE_VERBOSE is set (1 = info, 2 = debug).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hotcache/log.h"

void hc_log(enum hc_level level, const char *fmt, ...)
{
	static const char *const names[] = { "", "error", "warning", "info", "debug" };
	const char *verbose = getenv("HOTCACHE_VERBOSE");
	int shown = HC_WARN + (verbose ? atoi(verbose) : 0);
	va_list ap;

	if ((int)level > shown)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "hotcache-capture: %s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
