/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dump-side settings, from /etc/criu/hotcache.conf then the environment.
 * The file is shared with the restore side (hooks/config.ts): KEY=VALUE
 * lines named like the environment variables, '#' starts a comment. Keys
 * that belong to the restore side are ignored here.
 *   HOTCACHE_DISABLE=1        capture nothing
 *   HOTCACHE_STRICT=1         a failed capture fails the dump (CRIU >= 4.1)
 *   HOTCACHE_BACKEND=NAME     kmod, kpageflags, mincore or auto
 *   HOTCACHE_TIME_LIMIT_MS=N  stop scanning after N ms, image partial (0: never)
 *   HOTCACHE_CAPTURE_AT=exit  capture in exit(DUMP) even on CRIU >= 4.1, where
 *                             that is after post-dump (default "early")
 * and, for the restore side of the plugin (restore-start.c):
 *   HOTCACHE_ACTION_SCRIPT=PATH  the action script to run at init(RESTORE)
 *   HOTCACHE_STATE_DIR=PATH      where the action script keeps per-restore state
 */
#ifndef HOTCACHE_CONFIG_H
#define HOTCACHE_CONFIG_H

#include "contract.h"

/* Never fails: a bad value is logged and the default kept. */
void hc_config_load(struct hc_config *cfg, const char *file);

#endif /* HOTCACHE_CONFIG_H */
