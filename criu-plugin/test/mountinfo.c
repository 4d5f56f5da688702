// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "mountinfo.h"
#include "unit.h"

static void a_line_gives_its_point_root_type_and_options(void)
{
	struct hc_mount m;

	CHECK(hc_mountinfo_parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n", &m) == 0,
	      "the kernel documentation's example parses");
	CHECK(!strcmp(m.root, "/mnt1") && !strcmp(m.point, "/mnt2"), "root %s, point %s", m.root, m.point);
	CHECK(!strcmp(m.fstype, "ext3") && !strcmp(m.options, "rw,errors=continue"), "type %s, options %s", m.fstype, m.options);
	hc_mount_free(&m);
	CHECK(hc_mountinfo_parse("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory", &m) == 0,
	      "no optional field, no newline");
	CHECK(!strcmp(m.point, "/sys/fs/cgroup/memory") && hc_option_has(m.options, "memory"), "%s %s", m.point, m.options);
	hc_mount_free(&m);
}

static void escapes_are_undone(void)
{
	struct hc_mount m;

	CHECK(hc_mountinfo_parse("40 1 8:1 /a\\040b /data\\011x\\134y\\012 rw shared:3 - fuse.sshfs host:/ rw,user_id=0\n", &m) == 0,
	      "parses");
	CHECK(!strcmp(m.root, "/a b"), "root '%s'", m.root);
	CHECK(!strcmp(m.point, "/data\tx\\y\n"), "point '%s'", m.point);
	CHECK(!strcmp(m.fstype, "fuse.sshfs"), "type %s", m.fstype);
	hc_mount_free(&m);
}

static void what_is_not_a_line_is_refused(void)
{
	static const char *const bad[] = {
		"",
		"36 35 98:0",
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw",
		"36 35 98:0 /mnt1 /mnt2 rw - ext3",
		"36 35 98:0 mnt1 /mnt2 rw - ext3 /dev/root rw",
		"36 35 98:0 /mnt1 mnt2 rw - ext3 /dev/root rw",
	};
	struct hc_mount m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(hc_mountinfo_parse(bad[i], &m) == -EINVAL, "'%s' parsed", bad[i]);
}

static void options_are_whole_words(void)
{
	CHECK(hc_option_has("rw,memory", "memory"), "last");
	CHECK(hc_option_has("memory,rw", "memory"), "first");
	CHECK(!hc_option_has("rw,memory_recursiveprot", "memory"), "a longer word");
	CHECK(!hc_option_has("rw,nomemory", "memory"), "a word ending the same");
	CHECK(!hc_option_has("", "memory"), "empty");
}

UNIT_TESTS(unit_mountinfo) = {
	{ "mountinfo: a line gives its mount point, root, type and options", a_line_gives_its_point_root_type_and_options },
	{ "mountinfo: the kernel's octal escapes are undone", escapes_are_undone },
	{ "mountinfo: what is not a mountinfo line is refused", what_is_not_a_line_is_refused },
	{ "mountinfo: options are matched as whole words", options_are_whole_words },
};
const unsigned int unit_mountinfo_n = UNIT_COUNT(unit_mountinfo);
