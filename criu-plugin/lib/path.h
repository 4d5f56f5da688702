/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_PATH_H
#define HOTCACHE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A path the image may carry: absolute, at most HC_LIMIT_PATH_BYTES, valid
 * UTF-8 (protobuf strings), no NUL and no ".." component. The same rule as
 * decodeImage() in proto/image.ts.
 */
bool hc_path_ok(const char *path, size_t len);

/*
 * @path as a process whose root is @root sees it: @root stripped. NULL when
 * the path lies outside that root. @root "/" returns @path.
 */
const char *hc_path_in_root(const char *path, const char *root);

#endif /* HOTCACHE_PATH_H */
