// Opening a file of the restored process inside its root without ever leaving that root.
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the kernel has it (5.6+); otherwise a walk,
// component by component with O_NOFOLLOW, that refuses symlinks and "..". The path is first resolved
// to an O_PATH fd: a device or FIFO is reported (fd -1) without ever being opened, so opening it cannot
// have side effects. A regular file is then reopened read-only through /proc/self/fd.
#include "worker.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

enum class Resolver { Auto, Openat2, Walk };

class OpenInRootWorker : public PromiseWorker {
public:
	OpenInRootWorker(Napi::Env env, int root_fd, std::string path, Resolver resolver)
		: PromiseWorker(env, "hotcache:openInRoot"), root_fd_(root_fd), path_(std::move(path)), resolver_(resolver) {}

	void Execute() override
	{
		int pathfd = -1;
		if (resolver_ != Resolver::Walk) {
			pathfd = ResolveOpenat2();
			if (pathfd < 0 && resolver_ == Resolver::Auto && (errno == ENOSYS || errno == E2BIG))
				pathfd = ResolveWalk();
			else if (pathfd < 0)
				Fail(errno, "openat2");
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
		return out;
	}
	std::string ErrorPath() const override { return path_; }

private:
	int ResolveOpenat2()
	{
		struct open_how how = {};
		how.flags = O_PATH | O_CLOEXEC;
		how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
		via_ = "openat2";
		return static_cast<int>(syscall(SYS_openat2, root_fd_, path_.c_str(), &how, sizeof(how)));
	}

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
				// Without openat2 a link cannot be followed safely inside the root: refuse it.
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
		if (!S_ISREG(before.st_mode))
			return;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
		int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			Fail(errno, "open");
			return;
		}
		struct stat after;
		if (fstat(fd, &after) != 0 || after.st_dev != before.st_dev || after.st_ino != before.st_ino) {
			int err = errno ? errno : ESTALE;
			close(fd);
			Fail(err, "fstat");
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
};

// openInRoot(rootFd, path, resolver): Promise<{fd, mode, resolver}>. fd is -1 when the path is not a
// regular file (mode tells what it is). resolver: 0 auto, 1 openat2 only, 2 walk only (for tests).
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
	return Start<OpenInRootWorker>(info.Env(), static_cast<int>(root_fd), path, static_cast<Resolver>(resolver));
}

} // namespace

void InitOpenInRoot(Napi::Env env, Napi::Object exports)
{
	exports.Set("openInRoot", Napi::Function::New(env, OpenInRoot, "openInRoot"));
}
