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
 * (with its start time) is handed over through a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "criu-abi.h"
#include "hotcache/log.h"
#include "hotcache/restore-key.h"
#include "restore-start.h"

/* The launcher returns at once; this only bounds a broken one. */
#define LAUNCH_TIMEOUT_MS 3000
/* Where the launcher finds the image open (HOTCACHE_IMAGE_FD). */
#define LAUNCHER_IMAGE_FD 3
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/*
 * <pid>.<start time> of a process (0: this one), by the restore key's rules:
 * one process, even after its pid is reused. The restore's directory is
 * CRIU's key; "PID START" in init-pid is the restored init's.
 */
static int process_key(int pid, char *key, size_t size)
{
	char path[64], stat[1024];
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	stat[n] = '\0';
	return hc_restore_key(stat, key, size);
}

/* The restore's directory: the key the action script derives from its parent, CRIU, is ours to make here. */
static int restore_dir(const struct hc_config *cfg, char *out, size_t size)
{
	char key[64];
	int len, ret;

	ret = process_key(0, key, sizeof(key));
	if (ret < 0)
		return ret;
	len = snprintf(out, size, "%s/" HC_RESTORE_DIR "/%s", cfg->state_dir, key);
	return len > 0 && (size_t)len < size ? 0 : -ENAMETOOLONG;
}

/*
 * hotcache.img opened read-only when it is a regular file: resolved without
 * following a link (O_PATH | O_NOFOLLOW), its type checked on that fd, then
 * reopened through /proc/self/fd (the same inode, checked), so that a FIFO,
 * a device or a link put in its place is never opened. The fd is handed to
 * the launcher: the prefetcher reads the image from it even after a runtime
 * has deleted the image directory, and nothing is copied inside CRIU's wait.
 * Returns the fd, or -1 (logged) when there is no image to prefetch from.
 */
static int open_image(int dirfd)
{
	struct stat path_st, st;
	char proc[64];
	int pathfd, fd;

	pathfd = openat(dirfd, HC_IMAGE_FILE, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pathfd < 0) {
		if (errno == ENOENT)
			pr_info("no " HC_IMAGE_FILE " in the images: nothing to prefetch");
		else
			pr_perror("cannot open " HC_IMAGE_FILE);
		return -1;
	}
	if (fstat(pathfd, &path_st)) {
		pr_perror("cannot stat " HC_IMAGE_FILE);
		close(pathfd);
		return -1;
	}
	if (!S_ISREG(path_st.st_mode)) {
		pr_warn(HC_IMAGE_FILE " is not a regular file (mode %o): refused, nothing is prefetched", path_st.st_mode);
		close(pathfd);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(pathfd);
	if (fd < 0) {
		pr_perror("cannot open " HC_IMAGE_FILE);
		return -1;
	}
	if (fstat(fd, &st) || st.st_dev != path_st.st_dev || st.st_ino != path_st.st_ino) {
		pr_warn(HC_IMAGE_FILE " was replaced while it was opened: refused, nothing is prefetched");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * In the child: only stdio and the image (fd 3) survive into the launcher,
 * as only stdio with CRIU's own action scripts. Without close_range(2) (before Linux 5.9) the open fds are
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
	if (syscall(SYS_close_range, LAUNCHER_IMAGE_FD + 1u, ~0u, 0u) == 0)
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
				if (*name == '\0' && fd > LAUNCHER_IMAGE_FD && fd != dir && close(fd) == 0)
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

/* The launcher's environment: CRIU's, with the variables of a pre-restore action and the image's fd. */
static char **launcher_env(const char *image_dir_var)
{
	static char action[] = "CRTOOLS_SCRIPT_ACTION=pre-restore";
	static char image_fd[] = "HOTCACHE_IMAGE_FD=" STRINGIFY(LAUNCHER_IMAGE_FD);
	size_t n = 0, i, kept = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "CRTOOLS_SCRIPT_ACTION=", 22) && strncmp(environ[i], "CRTOOLS_IMAGE_DIR=", 18) &&
		    strncmp(environ[i], "HOTCACHE_IMAGE_FD=", 18))
			env[kept++] = environ[i];
	}
	env[kept++] = action;
	env[kept++] = image_fd;
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
	int dirfd, imgfd, out[2], devnull;
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
	imgfd = open_image(dirfd);
	if (imgfd < 0)
		return;
	snprintf(image_dir_var, sizeof(image_dir_var), "CRTOOLS_IMAGE_DIR=/proc/%d/fd/%d", getpid(), dirfd);
	/* Everything the child needs is made here: it only calls async-signal-safe functions. */
	env = launcher_env(image_dir_var);
	if (!env) {
		pr_perror("cannot start %s", cfg->action_script);
		close(imgfd);
		return;
	}
	sigemptyset(&none);
	if (pipe2(out, O_CLOEXEC)) {
		pr_perror("cannot start %s: pipe", cfg->action_script);
		close(imgfd);
		free(env);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	child = fork();
	if (child < 0) {
		pr_perror("cannot start %s: fork", cfg->action_script);
		close(out[0]);
		close(out[1]);
		close(imgfd);
		free(env);
		return;
	}
	if (child == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		/* dup2() onto itself would keep close-on-exec. */
		if (imgfd == LAUNCHER_IMAGE_FD ? fcntl(imgfd, F_SETFD, 0) < 0 : dup2(imgfd, LAUNCHER_IMAGE_FD) < 0)
			_exit(126);
		close_other_fds();
		/* CRIU's signal mask would be inherited by the prefetcher, with SIGTERM blocked. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(cfg->action_script, argv, env);
		_exit(127);
	}
	free(env);
	close(imgfd);
	close(out[1]);
	relay_output(out[0], &start);
	close(out[0]);
	/* Reaped here, synchronously: nothing of ours is left for CRIU's SIGCHLD handler to see. */
	reap(child, cfg->action_script, &start);
}

void hc_restore_note_init_pid(const struct hc_config *cfg, int pid)
{
	char dir[4096], key[64];
	int dirfd, fd, len;

	if (restore_dir(cfg, dir, sizeof(dir)))
		return;
	/* Its start time with it: the prefetcher checks that the pid still names this process. */
	if (process_key(pid, key, sizeof(key))) {
		pr_warn("cannot read the start time of the restored root (pid %d): the prefetcher will not find its root", pid);
		return;
	}
	*strchr(key, '.') = ' ';
	/* Only for a restore whose prefetcher was started (the launcher made the directory). */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return;
	fd = openat(dirfd, HC_RESTORE_FILE_INIT_PID, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		len = (int)strlen(key);
		key[len++] = '\n';
		if (write(fd, key, (size_t)len) != len)
			pr_perror("cannot write %s/" HC_RESTORE_FILE_INIT_PID, dir);
		close(fd);
	} else if (errno != EEXIST) {
		pr_perror("cannot create %s/" HC_RESTORE_FILE_INIT_PID, dir);
	}
	close(dirfd);
}
