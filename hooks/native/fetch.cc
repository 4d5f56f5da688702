// Bringing a range of a file into the page cache and waiting until it is there, in one pool job: count
// the pages already resident (a fully resident range costs nothing more), POSIX_FADV_WILLNEED for the
// whole range (one large read), then splice the range to /dev/null (sendfile), which waits for every
// page without copying it and marks it accessed as a read would, and count again. A file system that
// cannot splice is read with pread into a per-thread scratch buffer instead.
#include "worker.h"

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sys/sendfile.h>
#include <unistd.h>

namespace {

constexpr size_t kScratchBytes = 1 << 20;
// One sendfile call moves at most this much (the kernel's own limit is just under 2 GiB).
constexpr int64_t kSpliceStep = INT64_C(1) << 30;

// Opened once, shared by every pool thread (a C++11 static is initialised thread-safely).
int DevNull()
{
	static const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return fd;
}

class FetchWorker : public PromiseWorker {
public:
	FetchWorker(Napi::Env env, int fd, int64_t offset, int64_t length, bool again)
		: PromiseWorker(env, "hotcache:fetch"), fd_(fd), offset_(offset), length_(length), again_(again) {}

	void Execute() override
	{
		int err = 0;
		before_ = CountResident(fd_, offset_, length_, &err);
		if (before_ < 0) {
			Fail(err, "cachestat");
			return;
		}
		long page = sysconf(_SC_PAGESIZE);
		after_ = before_;
		if (before_ >= (length_ + page - 1) / page && !again_)
			return;
		Read();
		if (err_ != 0)
			return;
		after_ = CountResident(fd_, offset_, length_, &err);
		if (after_ < 0)
			Fail(err, "cachestat");
	}
	Napi::Value Result() override
	{
		Napi::Object out = Napi::Object::New(Env());
		out.Set("before", static_cast<double>(before_));
		out.Set("after", static_cast<double>(after_));
		out.Set("bytes", static_cast<double>(bytes_));
		return out;
	}

private:
	void Fail(int err, const char *syscall)
	{
		err_ = err;
		PromiseWorker::Fail(err, syscall);
	}

	void Read()
	{
		int err = posix_fadvise(fd_, offset_, length_, POSIX_FADV_WILLNEED);
		if (err != 0) {
			Fail(err, "posix_fadvise");
			return;
		}
		off_t pos = offset_;
		int64_t end = offset_ + length_;
		int out = DevNull();
		while (out >= 0 && pos < end) {
			ssize_t n = sendfile(out, fd_, &pos, static_cast<size_t>(std::min(end - pos, kSpliceStep)));
			if (n > 0) {
				bytes_ += n;
				continue;
			}
			if (n == 0)
				return; // end of file
			if (errno == EINTR)
				continue;
			if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
				Fail(errno, "sendfile");
				return;
			}
			break; // this file system does not splice: read it
		}
		ReadRest(pos, end);
	}

	void ReadRest(int64_t pos, int64_t end)
	{
		thread_local std::unique_ptr<char[]> scratch(new char[kScratchBytes]);
		while (pos < end) {
			ssize_t n = pread(fd_, scratch.get(), static_cast<size_t>(std::min<int64_t>(end - pos, kScratchBytes)), pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				Fail(errno, "pread");
				return;
			}
			if (n == 0)
				return;
			pos += n;
			bytes_ += n;
		}
	}

	int fd_;
	int64_t offset_, length_;
	bool again_;
	int64_t before_ = 0, after_ = 0, bytes_ = 0;
	int err_ = 0;
};

// fetch(fd, offset, length, again): Promise<{before, after, bytes}>: pages resident before and after,
// bytes read through (none when all was resident, unless `again`: then the range is read anyway, which
// marks its pages accessed a second time; less than length at the end of the file).
Napi::Value Fetch(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length;
	if (!ArgRange(info, INT64_C(1) << 53, true, &fd, &offset, &length))
		return info.Env().Undefined();
	bool again = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
	return Start<FetchWorker>(info.Env(), fd, offset, length, again);
}

// exitNow(code): ends the process at once, without exit handlers. libuv's handler joins its pool
// threads, and a thread blocked in a read that never returns (a FUSE daemon that does not answer)
// would then hold the process forever; exit_group takes every thread down with it.
Napi::Value ExitNow(const Napi::CallbackInfo &info)
{
	int64_t code;
	if (!ArgInt(info, 0, "code", 0, 255, &code))
		return info.Env().Undefined();
	_exit(static_cast<int>(code));
}

} // namespace

void InitFetch(Napi::Env env, Napi::Object exports)
{
	exports.Set("fetch", Napi::Function::New(env, Fetch, "fetch"));
	exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
}
