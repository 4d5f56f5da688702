// SPDX-License-Identifier: GPL-2.0
#include <linux/magic.h>
#include <string.h>

#include "hotcache/refused-fs.h"
#include "unit.h"

static void named(unsigned long magic, const char *name)
{
	const char *got = hc_refused_fs(magic);

	CHECK(got && !strcmp(got, name), "0x%lx is %s, not %s", magic, got ? got : "(not refused)", name);
}

/* The contract writes the magic numbers out: the kernel's headers say what they must be. */
static void the_contract_numbers_the_kernels_file_systems(void)
{
	named(PROC_SUPER_MAGIC, "proc");
	named(SYSFS_MAGIC, "sysfs");
	named(DEBUGFS_MAGIC, "debugfs");
	named(TRACEFS_MAGIC, "tracefs");
	named(SECURITYFS_MAGIC, "securityfs");
	named(SELINUX_MAGIC, "selinuxfs");
	named(SMACK_MAGIC, "smackfs");
	named(CGROUP_SUPER_MAGIC, "cgroup");
	named(CGROUP2_SUPER_MAGIC, "cgroup2");
	named(RDTGROUP_SUPER_MAGIC, "resctrl");
	named(BPF_FS_MAGIC, "bpf");
	named(PSTOREFS_MAGIC, "pstore");
	named(EFIVARFS_MAGIC, "efivarfs");
	named(FUSE_SUPER_MAGIC, "fuse");
	named(AUTOFS_SUPER_MAGIC, "autofs");
	named(V9FS_MAGIC, "9p");
}

static void storage_is_not_refused(void)
{
	static const unsigned long storage[] = { EXT4_SUPER_MAGIC,  XFS_SUPER_MAGIC,	   BTRFS_SUPER_MAGIC, TMPFS_MAGIC,
						 NFS_SUPER_MAGIC,   OVERLAYFS_SUPER_MAGIC, F2FS_SUPER_MAGIC,  CIFS_SUPER_MAGIC,
						 CEPH_SUPER_MAGIC,  OCFS2_SUPER_MAGIC };
	size_t i;

	for (i = 0; i < sizeof(storage) / sizeof(storage[0]); i++)
		CHECK(!hc_refused_fs(storage[i]), "0x%lx refused as %s", storage[i], hc_refused_fs(storage[i]));
}

UNIT_TESTS(unit_refused_fs) = {
	{ "refused fs: the contract's numbers are the kernel's", the_contract_numbers_the_kernels_file_systems },
	{ "refused fs: file systems with storage behind them are not refused", storage_is_not_refused },
};
const unsigned int unit_refused_fs_n = UNIT_COUNT(unit_refused_fs);
