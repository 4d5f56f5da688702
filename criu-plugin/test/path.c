// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "contract.h"
#include "path.h"
#include "unit.h"

static bool ok(const char *p)
{
	return hc_path_ok(p, strlen(p));
}

static void the_rules_of_a_recorded_path(void)
{
	static const char *const good[] = { "/", "/a/b", "/a/..b", "/a/b..", "/a/.../b", "/a/./b", "/caf\xc3\xa9", "/\xf0\x9f\x98\x80" };
	static const char *const bad[] = {
		"", "a/b", "/a/../b", "/..", "/a/..",
		"/\xc0\xaf",		/* overlong '/' */
		"/\xe0\x80\xaf",	/* overlong, three bytes */
		"/\xed\xa0\x80",	/* a surrogate */
		"/\xf4\x90\x80\x80",	/* past U+10FFFF */
		"/\xe2\x82",		/* cut short */
		"/\x80",		/* a lone continuation byte */
		"/\xff",
	};
	char longest[HC_LIMIT_PATH_BYTES + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(ok(good[i]), "refused %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!ok(bad[i]), "accepted entry %zu", i);
	CHECK(!hc_path_ok("/a\0b", 4), "a NUL inside");
	memset(longest, 'x', sizeof(longest));
	longest[0] = '/';
	CHECK(hc_path_ok(longest, HC_LIMIT_PATH_BYTES), "%u bytes", HC_LIMIT_PATH_BYTES);
	CHECK(!hc_path_ok(longest, HC_LIMIT_PATH_BYTES + 1), "one byte more");
}

static void a_path_as_a_process_in_its_root_sees_it(void)
{
	const char *p;

	CHECK(!strcmp(hc_path_in_root("/srv/a", "/"), "/srv/a"), "root /");
	p = hc_path_in_root("/var/lib/c1/srv/a", "/var/lib/c1");
	CHECK(p && !strcmp(p, "/srv/a"), "inside: %s", p ? p : "(null)");
	p = hc_path_in_root("/var/lib/c1", "/var/lib/c1");
	CHECK(p && !strcmp(p, "/"), "the root itself: %s", p ? p : "(null)");
	CHECK(!hc_path_in_root("/var/lib/c10/srv/a", "/var/lib/c1"), "a sibling sharing the prefix");
	CHECK(!hc_path_in_root("/etc/passwd", "/var/lib/c1"), "outside");
}

UNIT_TESTS(unit_path) = {
	{ "path: absolute, bounded, UTF-8 (no overlong forms, surrogates or past U+10FFFF), no NUL, no '..'", the_rules_of_a_recorded_path },
	{ "path: the root stripped, and nothing outside it", a_path_as_a_process_in_its_root_sees_it },
};
const unsigned int unit_path_n = UNIT_COUNT(unit_path);
