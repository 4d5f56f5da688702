/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files reached with O_PATH first (no open side effects, e.g. of a device
 * node), checked with fstat() and fstatfs(), then opened for real: the same
 * inode, whatever happened to its name meanwhile.
 */
#ifndef HOTCACHE_PATHFD_H
#define HOTCACHE_PATHFD_H

#include <stdbool.h>

/* What the O_PATH descriptor @pathfd holds, opened with @flags (O_RDONLY, O_DIRECTORY), non-blocking, no atime; -1 with errno. */
int hc_reopen(int pathfd, int flags);

/*
 * Whether @fd is on overlayfs, where cachestat(2) reports the overlay inode's
 * own page cache, which stays empty: the pages live in the upper or lower
 * file's cache (which mincore() of a mapping does see). Every file of a
 * podman or docker container's root is on overlayfs.
 */
bool hc_on_overlayfs(int fd);

#endif /* HOTCACHE_PATHFD_H */
