/* SPDX-License-Identifier: GPL-2.0 */
/* Telling the tool that runs the dump that hotcache.img is written; see notify.c. */
#ifndef HOTCACHE_NOTIFY_H
#define HOTCACHE_NOTIFY_H

#include <stddef.h>

/* The environment variable naming the listener's unix socket: HC_MIGRATION_ENV_NOTIFY (the contract). */

/*
 * After a capture: @ret is 0 when hotcache.img of @len bytes is in place,
 * else -errno. Never blocks and never fails; a listener that is not there is
 * logged.
 */
void hc_notify_image(int ret, size_t len);

#endif /* HOTCACHE_NOTIFY_H */
