/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_RESTORE_KEY_H
#define HOTCACHE_RESTORE_KEY_H

#include <stddef.h>

/*
 * The restore's key, <criu pid>.<criu start time>, the name of the restore's
 * directory, from the text of /proc/<pid>/stat: the pid (up to the first
 * space), a dot, then field HC_RESTORE_START_TIME_FIELD counted from field 3
 * just after the last ") " (the command name may hold anything). The same
 * rules as hooks/restore-key.sh and hooks/restore-key.ts. -EINVAL unless both
 * are numbers (at most 10 and 20 digits); -ENAMETOOLONG when @out is short.
 */
int hc_restore_key(const char *stat, char *out, size_t size);

#endif /* HOTCACHE_RESTORE_KEY_H */
