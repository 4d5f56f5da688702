/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The file systems the capture skips and the prefetcher never opens (the
 * contract's refusedFs: kernel interfaces with no storage behind their page
 * cache, and FUSE-like ones served by a process that may never answer).
 * Shared by the capture and hooks/native/open_in_root.cc.
 */
#ifndef HOTCACHE_REFUSED_FS_H
#define HOTCACHE_REFUSED_FS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The contract's name of the file system whose statfs f_type is @magic, or NULL when it is not refused. */
const char *hc_refused_fs(unsigned long magic);

#ifdef __cplusplus
}
#endif

#endif /* HOTCACHE_REFUSED_FS_H */
