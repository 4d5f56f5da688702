// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <string.h>

#include "contract.h"
#include "path.h"

static bool utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t more, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			more = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= more)
			return false;
		for (k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += more + 1;
	}
	return true;
}

bool hc_path_ok(const char *path, size_t len)
{
	const char *p;

	if (len == 0 || len > HC_LIMIT_PATH_BYTES || path[0] != '/' || memchr(path, '\0', len))
		return false;
	for (p = path; p && p < path + len; p = memchr(p + 1, '/', (size_t)(path + len - p - 1))) {
		size_t rest = (size_t)(path + len - p - 1);

		if (rest >= 2 && p[1] == '.' && p[2] == '.' && (rest == 2 || p[3] == '/'))
			return false;
	}
	return utf8_ok((const unsigned char *)path, len);
}

const char *hc_path_in_root(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path;
	if (strncmp(path, root, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "/";
	return path[n] == '/' ? path + n : NULL;
}
