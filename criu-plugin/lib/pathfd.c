// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/statfs.h>

#include "pathfd.h"

int hc_reopen(int pathfd, int flags)
{
	char self[32];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", pathfd);
	fd = open(self, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOATIME);
	/* O_NOATIME needs ownership or CAP_FOWNER. */
	if (fd < 0 && errno == EPERM)
		fd = open(self, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd;
}

bool hc_on_overlayfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && (long)sfs.f_type == OVERLAYFS_SUPER_MAGIC;
}
