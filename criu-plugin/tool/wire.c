// SPDX-License-Identifier: GPL-2.0
#include "wire.h"

/* A varint of at most 10 bytes at *pos; advances *pos past it. */
static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *value)
{
	unsigned int shift;

	*value = 0;
	for (shift = 0; shift < 70 && *pos < len; shift += 7) {
		uint8_t b = buf[(*pos)++];

		*value |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

bool hc_wire_walk(const uint8_t *buf, size_t len, hc_wire_fn fn, void *ctx)
{
	size_t pos = 0;

	while (pos < len) {
		struct hc_wire_field f = { 0 };
		uint64_t tag, n;

		if (!read_varint(buf, len, &pos, &tag) || tag > UINT32_MAX || tag >> 3 == 0)
			return false;
		f.number = (uint32_t)(tag >> 3);
		f.type = (enum hc_wire_type)(tag & 7);
		switch (f.type) {
		case HC_WIRE_VARINT:
			if (!read_varint(buf, len, &pos, &f.varint))
				return false;
			break;
		case HC_WIRE_I64:
		case HC_WIRE_I32:
			n = f.type == HC_WIRE_I64 ? 8 : 4;
			if (len - pos < n)
				return false;
			pos += n;
			break;
		case HC_WIRE_LEN:
			if (!read_varint(buf, len, &pos, &n) || n > len - pos)
				return false;
			f.data = buf + pos;
			f.len = (size_t)n;
			pos += f.len;
			break;
		default:
			return false;
		}
		if (!fn(ctx, &f))
			return false;
	}
	return true;
}
