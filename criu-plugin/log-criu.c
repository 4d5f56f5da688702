// SPDX-License-Identifier: GPL-2.0
/* Log sink of the plugin: CRIU's own log, at the matching level. */
#include <stdarg.h>
#include <stdio.h>

#include "criu-abi.h"
#include "log.h"

void hc_log(enum hc_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* CRIU adds no prefix of its own to plugin messages. */
	print_on_level((unsigned int)level, "hotcache: %s\n", line);
}
