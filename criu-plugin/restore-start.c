// SPDX-License-Identifier: GPL-2.0
/*
 * The restore side of the plugin: start the prefetcher from init(RESTORE),
 * and tell it the restored root pid from RESUME_DEVICES_LATE.
 *
 * Why the plugin does this as well as the action script: CRIU 3.17 and 3.18
 * crash when runc or crun restore with an action script configured, so there
 * the plugin is the only way in; and init(RESTORE) comes before the
 * pre-restore action, so the prefetch starts a little earlier everywhere.
 * The plugin runs the action script itself, as CRIU would at pre-restore, so
 * there is one launcher; its marker (restores/<criu pid>.<start>/claimed)
 * makes sure one restore starts one prefetcher, whoever comes first.
 *
 * init(RESTORE) runs before CRIU installs its SIGCHLD handler: a child may be
 * forked and reaped there. Later hooks must not fork at all, so the root pid
 * is handed over through a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "criu-abi.h"
#include "image.h"
#include "log.h"
#include "restore-start.h"

/* The launcher returns at once; this only bounds a broken one. */
#define LAUNCH_TIMEOUT_MS 3000

/* restores/<pid>.<start time>: the key the action script derives from its parent, CRIU. */
static int restore_dir(const struct hc_config *cfg, char *out, size_t size)
{
	char stat[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field, len;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	stat[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(stat, ')');
	if (!p)
		return -EIO;
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EIO;
	len = snprintf(out, size, "%s/restores/%d.%llu", cfg->state_dir, getpid(), start);
	return len > 0 && (size_t)len < size ? 0 : -ENAMETOOLONG;
}

/*
 * In the child: only stdio survives into the launcher, as with CRIU's own
 * action scripts. Without close_range(2) (before Linux 5.9) the open fds are
 * listed from /proc/self/fd with getdents64 into a stack buffer: no malloc
 * after fork, and no loop over CRIU's raised fd limit (about a million).
 */
static void close_other_fds(void)
{
	char buf[4096];
	bool closed;
	long n, pos;
	int dir;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
#endif
	do {
		closed = false;
		dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return;
		while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
			for (pos = 0; pos < n;) {
				/* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
				unsigned short reclen;
				const char *name = buf + pos + 19;
				int fd = 0;

				memcpy(&reclen, buf + pos + 16, sizeof(reclen));
				pos += reclen;
				while (*name >= '0' && *name <= '9')
					fd = fd * 10 + (*name++ - '0');
				if (*name == '\0' && fd > 2 && fd != dir && close(fd) == 0)
					closed = true;
			}
		}
		close(dir);
	} while (closed);	/* closing while listing may skip entries: list again */
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Logs the launcher's output line by line until it closes its end or the launch time is up. */
static void relay_output(int fd, const struct timespec *start)
{
	char buf[2048];
	size_t used = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		long left = LAUNCH_TIMEOUT_MS - elapsed_ms(start);
		char *nl;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			return;
		used += (size_t)n;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			pr_info("init(RESTORE): %s", buf);
			used -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0;	/* an endless line: drop it rather than block */
	}
}

/* Reaps the launcher within what is left of the launch time, killing it past that; logs a failure. */
static void reap(pid_t child, const char *script, const struct timespec *start)
{
	int status = 0;
	pid_t got;

	while ((got = waitpid(child, &status, WNOHANG)) == 0 && elapsed_ms(start) < LAUNCH_TIMEOUT_MS)
		poll(NULL, 0, 5);
	if (got == 0) {
		pr_warn("%s did not return within %d ms: stopped", script, LAUNCH_TIMEOUT_MS);
		kill(child, SIGKILL);
		while ((got = waitpid(child, &status, 0)) < 0 && errno == EINTR)
			;
	}
	if (got < 0)
		pr_perror("cannot reap %s", script);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		pr_warn("cannot execute %s", script);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		pr_warn("%s failed (status %#x): no prefetch started by the plugin", script, status);
}

/* The launcher's environment: CRIU's, with the two variables of a pre-restore action. */
static char **launcher_env(const char *image_dir_var)
{
	static char action[] = "CRTOOLS_SCRIPT_ACTION=pre-restore";
	size_t n = 0, i, kept = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "CRTOOLS_SCRIPT_ACTION=", 22) && strncmp(environ[i], "CRTOOLS_IMAGE_DIR=", 18))
			env[kept++] = environ[i];
	}
	env[kept++] = action;
	env[kept] = (char *)image_dir_var;
	return env;
}

void hc_restore_start(const struct hc_config *cfg)
{
	char image_dir_var[64];
	char *argv[] = { (char *)cfg->action_script, NULL };
	char **env;
	struct timespec start;
	sigset_t none;
	int dirfd, out[2], devnull;
	pid_t child;

	if (access(cfg->action_script, X_OK)) {
		pr_info("no action script at %s: the plugin starts no prefetcher", cfg->action_script);
		return;
	}
	dirfd = criu_get_image_dir();
	if (dirfd < 0) {
		pr_info("no image directory at init(RESTORE): the action script starts the prefetcher");
		return;
	}
	if (faccessat(dirfd, HC_IMAGE_FILE, F_OK, 0)) {
		pr_info("no " HC_IMAGE_FILE " in the images: nothing to prefetch");
		return;
	}
	snprintf(image_dir_var, sizeof(image_dir_var), "CRTOOLS_IMAGE_DIR=/proc/%d/fd/%d", getpid(), dirfd);
	/* Everything the child needs is made here: it only calls async-signal-safe functions. */
	env = launcher_env(image_dir_var);
	if (!env) {
		pr_perror("cannot start %s", cfg->action_script);
		return;
	}
	sigemptyset(&none);
	if (pipe2(out, O_CLOEXEC)) {
		pr_perror("cannot start %s: pipe", cfg->action_script);
		free(env);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	child = fork();
	if (child < 0) {
		pr_perror("cannot start %s: fork", cfg->action_script);
		close(out[0]);
		close(out[1]);
		free(env);
		return;
	}
	if (child == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		close_other_fds();
		/* CRIU's signal mask would be inherited by the prefetcher, with SIGTERM blocked. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(cfg->action_script, argv, env);
		_exit(127);
	}
	free(env);
	close(out[1]);
	relay_output(out[0], &start);
	close(out[0]);
	/* Reaped here, synchronously: nothing of ours is left for CRIU's SIGCHLD handler to see. */
	reap(child, cfg->action_script, &start);
}

void hc_restore_note_init_pid(const struct hc_config *cfg, int pid)
{
	char dir[4096], text[16];
	int dirfd, fd, len;

	if (restore_dir(cfg, dir, sizeof(dir)))
		return;
	/* Only for a restore whose prefetcher was started (the launcher made the directory). */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return;
	fd = openat(dirfd, "init-pid", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		len = snprintf(text, sizeof(text), "%d\n", pid);
		if (write(fd, text, (size_t)len) != len)
			pr_perror("cannot write %s/init-pid", dir);
		close(fd);
	} else if (errno != EEXIST) {
		pr_perror("cannot create %s/init-pid", dir);
	}
	close(dirfd);
}
