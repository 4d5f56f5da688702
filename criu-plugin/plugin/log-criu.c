// SPDX-License-Identifier: GPL-2.0
/* Log sink of the plugin: CRIU's own log, at the matching level. */
#include <stdarg.h>
#include <stdio.h>

#include "criu-abi.h"
#include "hotcache/log.h"

void hc_log(enum hc_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/*
	 * CRIU remembers its first ERROR message and hands it to RPC clients
	 * (runc, podman) as the reason a dump failed: a hotcache problem, which
	 * never fails a dump by itself, must not take that place. So errors go
	 * out at WARN, marked as errors in the text. CRIU adds no prefix of its
	 * own to plugin messages.
	 */
	if (level == HC_ERROR)
		print_on_level(CRIU_ABI_LOG_WARN, "hotcache: error: %s\n", line);
	else
		print_on_level((unsigned int)level, "hotcache: %s\n", line);
}
