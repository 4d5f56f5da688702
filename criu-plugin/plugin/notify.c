// SPDX-License-Identifier: GPL-2.0
/*
 * The capture's notification: `hotcache migrate --warm freeze|precopy` ships
 * the plan to the destination the moment hotcache.img is written, at the
 * freeze, while CRIU goes on to dump the memory. It names a unix stream
 * socket in HOTCACHE_NOTIFY (the contract's migration.env.notify); this sends
 * one line to it:
 *   "written <bytes>\n"   the image is in place (renamed into the directory)
 *   "failed <reason>\n"   no image from this dump
 * The socket is non-blocking from the start: connect() to a unix socket never
 * waits (a full backlog is EAGAIN), and one short line always fits a fresh
 * socket's buffer. A listener that is gone, slow or absent costs a log line,
 * never the dump.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "contract.h"
#include "hotcache/log.h"
#include "notify.h"

void hc_notify_image(int ret, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = getenv(HC_MIGRATION_ENV_NOTIFY);
	char line[128];
	ssize_t sent;
	int fd, n;

	if (!path || !*path)
		return;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_warn(HC_MIGRATION_ENV_NOTIFY " is longer than a socket path may be: nobody told");
		return;
	}
	strcpy(addr.sun_path, path);
	if (ret == 0)
		n = snprintf(line, sizeof(line), "written %zu\n", len);
	else
		n = snprintf(line, sizeof(line), "failed %s\n", strerror(-ret));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("cannot tell %s: socket", path);
		return;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		pr_perror("cannot tell %s", path);
		close(fd);
		return;
	}
	sent = send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent < 0)
		pr_perror("cannot tell %s", path);
	else if (sent != n)
		pr_warn("cannot tell %s: %zd of %d bytes sent", path, sent, n);
	else
		pr_info("told %s: %.*s", path, n - 1, line);
	close(fd);
}
