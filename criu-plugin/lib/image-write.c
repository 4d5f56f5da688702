// SPDX-License-Identifier: GPL-2.0
/* Encoding a capture as hotcache.img and writing it. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotcache.pb-c.h"
#include "hotcache/log.h"
#include "record.h"

/* protoc-c numbers the schema's enums itself: they must be the contract's. */
_Static_assert((int)HOTCACHE__HOTNESS__HOTNESS_RESIDENT == (int)HC_CLASS_RESIDENT && (int)HOTCACHE__HOTNESS__HOTNESS_WARM == (int)HC_CLASS_WARM &&
		       (int)HOTCACHE__HOTNESS__HOTNESS_HOT == (int)HC_CLASS_HOT,
	       "proto/hotcache.proto and the contract disagree on the classes");
_Static_assert((int)HOTCACHE__BACKEND__BACKEND_KMOD == (int)HC_BACKEND_KMOD && (int)HOTCACHE__BACKEND__BACKEND_KPAGEFLAGS == (int)HC_BACKEND_KPAGEFLAGS &&
		       (int)HOTCACHE__BACKEND__BACKEND_MINCORE == (int)HC_BACKEND_MINCORE,
	       "proto/hotcache.proto and the contract disagree on the backends");
_Static_assert((int)HOTCACHE__LRU__LRU_CLASSIC == (int)HC_LRU_CLASSIC && (int)HOTCACHE__LRU__LRU_MGLRU == (int)HC_LRU_MGLRU,
	       "proto/hotcache.proto and the contract disagree on the LRU flavours");
_Static_assert((int)HOTCACHE__SCOPE__SCOPE_TREE == (int)HC_SCOPE_TREE && (int)HOTCACHE__SCOPE__SCOPE_CGROUP == (int)HC_SCOPE_CGROUP,
	       "proto/hotcache.proto and the contract disagree on the scopes");

#define TMP_NAME ".hotcache.img.tmp"
/* Room kept for the version and the Capture message when fitting files. */
#define HEADER_RESERVE 4096u

struct file_msg {
	Hotcache__File f;
	Hotcache__Identity id;
	Hotcache__OpenFd *fds;
	Hotcache__OpenFd **fd_ptrs;
	uint64_t *gaps;
	uint64_t *lengths;
	Hotcache__Hotness *classes;
};

static void free_file_msg(struct file_msg *m)
{
	free(m->fds);
	free(m->fd_ptrs);
	free(m->gaps);
	free(m->lengths);
	free(m->classes);
}

/* Points @m at @file's data; the ranges become gaps, lengths and classes. */
static int build_file_msg(const struct hc_file *file, struct file_msg *m)
{
	size_t n = file->ranges.n, i;
	uint64_t end = 0;

	memset(m, 0, sizeof(*m));
	hotcache__file__init(&m->f);
	hotcache__identity__init(&m->id);
	m->id.size = file->size;
	m->id.mtime_ns = file->mtime_ns;
	m->id.inode = file->inode;
	m->id.dev = file->dev;
	m->id.handle.data = (uint8_t *)file->handle;
	m->id.handle.len = file->handle_bytes;
	m->id.handle_type = file->handle_type;
	m->f.path = file->path;
	m->f.identity = &m->id;
	m->f.mapped = file->mapped;
	m->f.size_pages = file->size_pages;
	m->f.dirty_synced = file->dirty_synced;

	m->fds = calloc(file->n_fds + 1, sizeof(*m->fds));
	m->fd_ptrs = calloc(file->n_fds + 1, sizeof(*m->fd_ptrs));
	m->gaps = calloc(n + 1, sizeof(*m->gaps));
	m->lengths = calloc(n + 1, sizeof(*m->lengths));
	m->classes = calloc(n + 1, sizeof(*m->classes));
	if (!m->fds || !m->fd_ptrs || !m->gaps || !m->lengths || !m->classes) {
		free_file_msg(m);
		return -ENOMEM;
	}
	for (i = 0; i < file->n_fds; i++) {
		hotcache__open_fd__init(&m->fds[i]);
		m->fds[i].pid = file->fds[i].pid;
		m->fds[i].fd = file->fds[i].fd;
		m->fds[i].offset = file->fds[i].offset;
		m->fd_ptrs[i] = &m->fds[i];
	}
	m->f.n_fds = file->n_fds;
	m->f.fds = m->fd_ptrs;
	for (i = 0; i < n; i++) {
		const struct hc_range *r = &file->ranges.v[i];

		m->gaps[i] = r->start - end;
		m->lengths[i] = r->count;
		m->classes[i] = (Hotcache__Hotness)r->class;
		end = r->start + r->count;
		m->f.resident_pages += r->count;
		if (r->class == HC_CLASS_HOT)
			m->f.hot_pages += r->count;
		else if (r->class == HC_CLASS_WARM)
			m->f.warm_pages += r->count;
	}
	m->f.n_gaps = m->f.n_lengths = m->f.n_classes = n;
	m->f.gaps = m->gaps;
	m->f.lengths = m->lengths;
	m->f.classes = m->classes;
	return 0;
}

int hc_record_pack(struct hc_record *c, uint8_t **buf, size_t *len)
{
	Hotcache__HotcacheImage img = HOTCACHE__HOTCACHE_IMAGE__INIT;
	Hotcache__Capture cap = HOTCACHE__CAPTURE__INIT;
	struct file_msg *msgs = calloc(c->n_files + 1, sizeof(*msgs));
	Hotcache__File **ptrs = calloc(c->n_files + 1, sizeof(*ptrs));
	size_t i, n = 0, bytes = HEADER_RESERVE, payload;
	uint32_t le;
	int ret = -ENOMEM;

	*buf = NULL;
	if (!msgs || !ptrs) {
		pr_err("out of memory encoding the image");
		goto out;
	}
	for (n = 0; n < c->n_files; n++) {
		size_t size;

		if (build_file_msg(&c->files[n], &msgs[n]) < 0) {
			pr_err("out of memory encoding the image");
			goto out;
		}
		/* Tag and length prefix of a nested message: at most 1 + 10 bytes. */
		size = hotcache__file__get_packed_size(&msgs[n].f) + 11;
		if (bytes + size > HC_LIMIT_IMAGE_BYTES) {
			free_file_msg(&msgs[n]);
			hc_record_partial(c, "image would exceed %u bytes: %zu of %zu files kept", HC_LIMIT_IMAGE_BYTES, n,
					   c->n_files);
			break;
		}
		bytes += size;
		ptrs[n] = &msgs[n].f;
	}
	cap.host = c->host;
	cap.kernel = c->kernel;
	cap.time_ns = c->time_ns;
	cap.backend = (Hotcache__Backend)c->backend;
	cap.lru = (Hotcache__Lru)c->lru;
	cap.hot_warm_exact = c->hot_warm_exact;
	cap.page_size = c->page_size;
	cap.duration_ms = c->duration_ms;
	cap.root_pid = c->root_pid;
	cap.own_root = c->own_root;
	cap.partial = c->partial;
	cap.partial_reason = c->partial_reason;
	cap.tool = (char *)(c->tool ? c->tool : "");
	cap.scope = (Hotcache__Scope)c->scope;
	cap.cgroup = c->cgroup;
	img.version = HC_FORMAT_VERSION;
	img.capture = &cap;
	img.n_files = n;
	img.files = ptrs;

	payload = hotcache__hotcache_image__get_packed_size(&img);
	*buf = malloc(HC_HEADER_BYTES + payload);
	if (!*buf) {
		pr_err("out of memory for an image of %zu bytes", payload);
		goto out;
	}
	memcpy(*buf, HC_MAGIC, HC_MAGIC_BYTES);
	le = htole32((uint32_t)payload);
	memcpy(*buf + HC_MAGIC_BYTES, &le, sizeof(le));
	hotcache__hotcache_image__pack(&img, *buf + HC_HEADER_BYTES);
	*len = HC_HEADER_BYTES + payload;
	ret = 0;
out:
	for (i = 0; msgs && i < n; i++)
		free_file_msg(&msgs[i]);
	free(msgs);
	free(ptrs);
	return ret;
}

int hc_image_write_fd(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pr_perror("cannot write the image");
			return -EIO;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int hc_image_write_at(int dirfd, const uint8_t *buf, size_t len)
{
	int fd, ret;

	fd = openat(dirfd, TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left over by an interrupted run. */
		unlinkat(dirfd, TMP_NAME, 0);
		fd = openat(dirfd, TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0) {
		pr_perror("cannot create %s in the image directory", TMP_NAME);
		return -errno;
	}
	ret = hc_image_write_fd(fd, buf, len);
	if (ret == 0 && fsync(fd) < 0) {
		pr_perror("cannot fsync %s", TMP_NAME);
		ret = -EIO;
	}
	if (close(fd) < 0 && ret == 0) {
		pr_perror("cannot close %s", TMP_NAME);
		ret = -EIO;
	}
	if (ret == 0 && renameat(dirfd, TMP_NAME, dirfd, HC_IMAGE_FILE) < 0) {
		pr_perror("cannot rename %s to " HC_IMAGE_FILE, TMP_NAME);
		ret = -errno;
	}
	if (ret < 0) {
		unlinkat(dirfd, TMP_NAME, 0);
		return ret;
	}
	if (fsync(dirfd) < 0)
		pr_perror("cannot fsync the image directory");
	return 0;
}
