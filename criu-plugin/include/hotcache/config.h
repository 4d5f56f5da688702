/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The settings, from hotcache.conf then the environment: struct hc_config and
 * every key's type, default and bounds come from the contract
 * (contract/contract.json); the file is shared with the restore side
 * (hooks/config.ts, hooks/config.sh), which reads it by the same rules.
 */
#ifndef HOTCACHE_CONFIG_H
#define HOTCACHE_CONFIG_H

#include "contract.h"

/*
 * Defaults, then the file named by HOTCACHE_CONFIG (else HC_CONFIG_FILE),
 * then the environment. Never fails: a bad line or value is logged as a
 * warning and ignored.
 */
void hc_config_load(struct hc_config *cfg);

typedef void (*hc_config_fn)(void *ctx, const char *key, const char *text);

/*
 * Calls @fn for every key, in the contract's order, with its value as every
 * parser writes it: 1 or 0, an integer (a decimal scaled), a choice's name,
 * a path ("" for none).
 */
void hc_config_each(const struct hc_config *cfg, hc_config_fn fn, void *ctx);

#endif /* HOTCACHE_CONFIG_H */
