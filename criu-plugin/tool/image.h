/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotcache-capture --check: validating hotcache.img (the magic, a u32
 * little-endian payload length, the protobuf payload) with the bounds of the
 * contract (contract/contract.json), as proto/image.ts does.
 */
#ifndef HOTCACHE_IMAGE_H
#define HOTCACHE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"

/* What a validated image holds. */
struct hc_image_counts {
	uint64_t files;
	uint64_t ranges;
	uint64_t resident;
	uint64_t hot;
	uint64_t warm;
	uint64_t fds;
};

/* The same kinds as ImageError in proto/image.ts. */
enum hc_image_error {
	HC_IMAGE_OK = 0,
	HC_IMAGE_TRUNCATED,
	HC_IMAGE_BAD_MAGIC,
	HC_IMAGE_TOO_LARGE,
	HC_IMAGE_MALFORMED,
	HC_IMAGE_BAD_VERSION,
	HC_IMAGE_INVALID,
};

const char *hc_image_error_kind(enum hc_image_error e);

/* Unframes, decodes and validates @buf; on error @why says what is wrong. */
enum hc_image_error hc_image_check(const uint8_t *buf, size_t len, struct hc_image_counts *counts, char *why,
				   size_t why_len);

#endif /* HOTCACHE_IMAGE_H */
