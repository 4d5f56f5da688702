/* SPDX-License-Identifier: GPL-2.0 */
/* The restore side of the plugin; see restore-start.c. */
#ifndef HOTCACHE_RESTORE_START_H
#define HOTCACHE_RESTORE_START_H

#include "hotcache/config.h"

/* In init(RESTORE): runs the action script as CRIU's pre-restore would. Never fails. */
void hc_restore_start(const struct hc_config *cfg);

/* In RESUME_DEVICES_LATE: tells a started prefetcher the restored root pid. Never forks. */
void hc_restore_note_init_pid(const struct hc_config *cfg, int pid);

#endif /* HOTCACHE_RESTORE_START_H */
