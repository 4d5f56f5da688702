/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dump-side settings: /etc/criu/hotcache.conf, then environment overrides.
 *   strict          HOTCACHE_STRICT=1       fail the dump when the capture fails
 *   backend NAME    HOTCACHE_BACKEND=NAME   kmod, kpageflags, mincore or auto
 *   time_limit_ms N HOTCACHE_TIME_LIMIT_MS  stop scanning after N ms (0: never)
 * One setting per line, "key value" or "key = value"; '#' starts a comment;
 * keys this file does not know belong to other parts of hotcache and are
 * ignored.
 */
#ifndef HOTCACHE_CONFIG_H
#define HOTCACHE_CONFIG_H

#include <stdbool.h>

#include "backend.h"

#define HC_CONFIG_FILE "/etc/criu/hotcache.conf"
#define HC_DEFAULT_TIME_LIMIT_MS 10000u

struct hc_config {
	bool strict;
	enum hc_backend_id backend;
	unsigned int time_limit_ms;
};

/* Never fails: a bad value is logged and the default kept. */
void hc_config_load(struct hc_config *cfg, const char *file);

#endif /* HOTCACHE_CONFIG_H */
