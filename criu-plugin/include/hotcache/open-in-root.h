/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A path resolved inside a root without ever leaving it and without following
 * any symlink, with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS) (Linux
 * 5.6+): for the capture (a mapped file of a task, inside the task's root) and
 * the prefetcher's native addon (a file of the image, inside the restored
 * root: hooks/native/open_in_root.cc, which falls back to a walk without
 * openat2). Both resolve paths the kernel already resolved (/proc/<pid>/maps,
 * the fds' links): a link on the way means the tree changed, and following
 * links would let the tree make each lookup cost up to 40 hops.
 */
#ifndef HOTCACHE_OPEN_IN_ROOT_H
#define HOTCACHE_OPEN_IN_ROOT_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An O_PATH descriptor of @path inside @rootfd: nothing is opened, so a
 * device or FIFO has no open side effects. Retried a few times on EAGAIN
 * (a rename raced with the lookup). -errno (-ELOOP: a symlink on the way);
 * -ENOSYS or -E2BIG without openat2 or its flags.
 */
int hc_openat2_in_root(int rootfd, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* HOTCACHE_OPEN_IN_ROOT_H */
