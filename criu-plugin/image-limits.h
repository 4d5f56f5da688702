/* SPDX-License-Identifier: GPL-2.0 */
/* Bounds of hotcache.img: the same numbers as LIMITS in proto/image.ts. */
#ifndef HOTCACHE_IMAGE_LIMITS_H
#define HOTCACHE_IMAGE_LIMITS_H

#define HC_FORMAT_VERSION 1u
#define HC_MAGIC "HOTCACHE"
#define HC_MAGIC_BYTES 8u
#define HC_HEADER_BYTES (HC_MAGIC_BYTES + 4u)

#define HC_LIMIT_IMAGE_BYTES (64u << 20)
#define HC_LIMIT_FILES 100000u
#define HC_LIMIT_RANGES 4000000u
#define HC_LIMIT_FDS_PER_FILE 4096u
/* fd records in the whole image (24 bytes each in a capture's memory, about 10 in the image). */
#define HC_LIMIT_FDS 1000000u
#define HC_LIMIT_PATH_BYTES 4096u
#define HC_LIMIT_HANDLE_BYTES 128u
#define HC_LIMIT_SIZE_PAGES (1ULL << 40)

/* Not in the image format: how many processes one capture walks. */
#define HC_LIMIT_TASKS 4096u

#endif /* HOTCACHE_IMAGE_LIMITS_H */
