/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The protobuf wire format, walked without decoding anything: for checks
 * that must run before protobuf-c allocates a message per repeated entry.
 * Groups (wire types 3 and 4) count as malformed, as protobuf-c refuses them.
 */
#ifndef HOTCACHE_WIRE_H
#define HOTCACHE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hc_wire_type {
	HC_WIRE_VARINT = 0,
	HC_WIRE_I64 = 1,
	HC_WIRE_LEN = 2,
	HC_WIRE_I32 = 5,
};

struct hc_wire_field {
	uint32_t number;
	enum hc_wire_type type;
	uint64_t varint;	/* HC_WIRE_VARINT */
	const uint8_t *data;	/* HC_WIRE_LEN: the bytes, not walked */
	size_t len;
};

/* Returns false to stop the walk. */
typedef bool (*hc_wire_fn)(void *ctx, const struct hc_wire_field *f);

/*
 * Calls @fn for each field of the message in @buf, in order; false if @buf
 * is not well-formed up to where @fn stopped it, or if @fn stopped it.
 */
bool hc_wire_walk(const uint8_t *buf, size_t len, hc_wire_fn fn, void *ctx);

#endif /* HOTCACHE_WIRE_H */
