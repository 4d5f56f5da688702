// Opening a file of the restored process inside its root without ever leaving that root and without
// following any symlink: image paths are the kernel's own resolved paths (readlink of the captured
// fds and mappings), so a link on the way means the tree is not the one captured, and following links
// would let the tree make each lookup cost up to 40 hops of PATH_MAX-long targets.
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS) where the kernel has it (5.6+; the capture library's
// call, shared with the capture); otherwise a walk, component by component with O_NOFOLLOW, that
// refuses symlinks and "..". The path is first resolved to an O_PATH fd: a device or FIFO is reported
// (fd -1) without ever being opened, so opening it cannot have side effects. So is a file on a file
// system the contract refuses (the library's list, which the capture skips too: kernel interfaces,
// where reading an attribute can have effects, and those served by a process, FUSE, 9p, autofs, that
// may never answer; FUSE is opened all the same when the caller allows it, and then bounds its wait),
// and a file another process holds a lease on (any open, even one that fails, makes the kernel ask
// the holder to give the lease up). A regular file elsewhere is reopened read-only through
// /proc/self/fd.
#include "worker.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hotcache/open-in-root.h"
#include "hotcache/refused-fs.h"

namespace {

enum class Resolver { Auto, Openat2, Walk };

// The inodes with a lease that a read-only open would break: a write lease, or one already being
// broken. /proc/locks lists leases ("LEASE", and NFS delegations as "DELEG") as
// "ID: [-> ]LEASE STATE TYPE PID MAJ:MIN:INO START END", device numbers in hex; read leases never
// conflict with a read. Reading /proc/locks costs about as much as the rest of an open, and the kernel
// serialises it: the list is read at most once per kLeaseListMs and shared by the opens in flight. A
// lease taken after the list was read still makes the open fail with EWOULDBLOCK (O_NONBLOCK), which
// the caller reports as such.
constexpr auto kLeaseListMs = std::chrono::milliseconds(10);

struct LeasedInode {
	unsigned int major_no, minor_no;
	unsigned long inode;
};

std::vector<LeasedInode> ReadLeases()
{
	std::vector<LeasedInode> leased;
	FILE *locks = fopen("/proc/locks", "re");
	if (!locks)
		return leased;
	char line[256];
	while (fgets(line, sizeof(line), locks)) {
		char kind[16], state[16], type[16];
		LeasedInode l;
		const char *fields = strchr(line, ':');
		if (!fields)
			continue;
		fields++;
		if (strncmp(fields, " ->", 3) == 0)
			fields += 3;
		if (sscanf(fields, "%15s %15s %15s %*d %x:%x:%lu", kind, state, type, &l.major_no, &l.minor_no, &l.inode) == 6 &&
		    (strcmp(kind, "LEASE") == 0 || strcmp(kind, "DELEG") == 0) && strcmp(type, "READ") != 0)
			leased.push_back(l);
	}
	fclose(locks);
	return leased;
}

bool LeaseConflicts(dev_t dev, ino_t ino)
{
	static std::mutex mutex;
	static std::vector<LeasedInode> leased;
	static std::chrono::steady_clock::time_point read_at;
	static bool read_once = false;
	std::lock_guard<std::mutex> hold(mutex);
	auto now = std::chrono::steady_clock::now();
	if (!read_once || now - read_at >= kLeaseListMs) {
		leased = ReadLeases();
		read_at = now;
		read_once = true;
	}
	for (const LeasedInode &l : leased)
		if (l.major_no == major(dev) && l.minor_no == minor(dev) && l.inode == ino)
			return true;
	return false;
}

class OpenInRootWorker : public PromiseWorker {
public:
	OpenInRootWorker(Napi::Env env, int root_fd, std::string path, Resolver resolver, bool allow_fuse)
		: PromiseWorker(env, "hotcache:openInRoot"), root_fd_(root_fd), path_(std::move(path)), resolver_(resolver),
		  allow_fuse_(allow_fuse) {}

	void Execute() override
	{
		int pathfd = -1;
		if (resolver_ != Resolver::Walk) {
			via_ = "openat2";
			pathfd = hc_openat2_in_root(root_fd_, path_.c_str());
			if (pathfd < 0 && resolver_ == Resolver::Auto && (pathfd == -ENOSYS || pathfd == -E2BIG))
				pathfd = ResolveWalk();
			else if (pathfd < 0)
				Fail(-pathfd, "openat2");
		} else {
			pathfd = ResolveWalk();
		}
		if (pathfd < 0)
			return;
		Reopen(pathfd);
		close(pathfd);
	}

	Napi::Value Result() override
	{
		Napi::Object out = Napi::Object::New(Env());
		out.Set("fd", fd_);
		out.Set("mode", static_cast<double>(mode_));
		out.Set("resolver", via_);
		out.Set("refusedFs", refused_fs_ ? Napi::Value(Napi::String::New(Env(), refused_fs_)) : Env().Null());
		out.Set("leased", leased_);
		out.Set("fuse", fuse_);
		return out;
	}
	std::string ErrorPath() const override { return path_; }

private:
	// Returns an O_PATH fd or -1 after Fail().
	int ResolveWalk()
	{
		via_ = "walk";
		int dir = dup(root_fd_);
		if (dir < 0) {
			Fail(errno, "dup");
			return -1;
		}
		size_t pos = 0;
		while (pos < path_.size()) {
			size_t end = path_.find('/', pos);
			if (end == std::string::npos)
				end = path_.size();
			std::string part = path_.substr(pos, end - pos);
			pos = end + 1;
			if (part.empty() || part == ".")
				continue;
			if (part == "..") {
				close(dir);
				Fail(EXDEV, "openat");
				return -1;
			}
			int next = openat(dir, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
			int err = errno;
			close(dir);
			if (next < 0) {
				Fail(err, "openat");
				return -1;
			}
			struct stat st;
			if (fstat(next, &st) != 0) {
				err = errno;
				close(next);
				Fail(err, "fstat");
				return -1;
			}
			if (S_ISLNK(st.st_mode)) {
				// As RESOLVE_NO_SYMLINKS: no link is followed.
				close(next);
				Fail(ELOOP, "openat");
				return -1;
			}
			dir = next;
		}
		return dir;
	}

	void Reopen(int pathfd)
	{
		struct stat before;
		if (fstat(pathfd, &before) != 0) {
			Fail(errno, "fstat");
			return;
		}
		mode_ = before.st_mode;
		struct statfs fs;
		if (fstatfs(pathfd, &fs) != 0) {
			Fail(errno, "fstatfs");
			return;
		}
		refused_fs_ = hc_refused_fs(static_cast<unsigned long>(fs.f_type));
		fuse_ = fs.f_type == FUSE_SUPER_MAGIC;
		if (fuse_ && allow_fuse_)
			refused_fs_ = nullptr;
		if (refused_fs_ || !S_ISREG(before.st_mode))
			return;
		leased_ = LeaseConflicts(before.st_dev, before.st_ino);
		if (leased_)
			return;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
		int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			Fail(errno, "open");
			return;
		}
		struct stat after;
		if (fstat(fd, &after) != 0) {
			int err = errno;
			close(fd);
			Fail(err, "fstat");
			return;
		}
		if (after.st_dev != before.st_dev || after.st_ino != before.st_ino) {
			// Not the inode the path resolved to (swapped under /proc/self/fd): refuse it.
			close(fd);
			Fail(ESTALE, "fstat");
			return;
		}
		fd_ = fd;
	}

	int root_fd_;
	std::string path_;
	Resolver resolver_;
	const char *via_ = "";
	int fd_ = -1;
	mode_t mode_ = 0;
	const char *refused_fs_ = nullptr;
	bool leased_ = false;
	bool allow_fuse_;
	bool fuse_ = false;
};

// openInRoot(rootFd, path, resolver, allowFuse): Promise<{fd, mode, resolver, refusedFs, leased, fuse}>.
// fd is -1 when the path is not a regular file (mode tells what it is), is on a refused file system
// (refusedFs names it) or another process holds a lease on it that the open would break (leased).
// resolver: 0 auto, 1 openat2 only, 2 walk only (for tests). allowFuse (optional, false): open files
// on FUSE too (fuse says the file is on FUSE).
Napi::Value OpenInRoot(const Napi::CallbackInfo &info)
{
	int64_t root_fd, resolver;
	std::string path;
	if (!ArgInt(info, 0, "rootFd", 0, INT32_MAX, &root_fd) || !ArgString(info, 1, "path", &path) ||
	    !ArgInt(info, 2, "resolver", 0, 2, &resolver))
		return info.Env().Undefined();
	if (path.find('\0') != std::string::npos) {
		Napi::TypeError::New(info.Env(), "path contains a NUL byte").ThrowAsJavaScriptException();
		return info.Env().Undefined();
	}
	bool allow_fuse = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
	return Start<OpenInRootWorker>(info.Env(), static_cast<int>(root_fd), path, static_cast<Resolver>(resolver), allow_fuse);
}

} // namespace

void InitOpenInRoot(Napi::Env env, Napi::Object exports)
{
	exports.Set("openInRoot", Napi::Function::New(env, OpenInRoot, "openInRoot"));
}
