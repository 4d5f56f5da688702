// Bringing a range of a file into the page cache and waiting until it is there, in one pool job: count
// the pages already resident (a fully resident range costs nothing more), bring the rest in, and count
// again. Two ways to bring it in:
// - sparse: POSIX_FADV_WILLNEED for the whole range (one large read of exactly the range), then splice
//   the range to /dev/null (sendfile), which waits for every page without copying it and marks it
//   accessed as a read would. WILLNEED is a forced read (mm/readahead.c force_page_cache_ra): it fills
//   the cache with 4 KiB folios, which cost the kernel per page to read and re-read;
// - sequential (a long run): the range read with pread into a per-thread buffer from another open file
//   of it in normal readahead mode (its own fd is in POSIX_FADV_RANDOM mode): the caller's `seqFd`
//   (reopen), whose readahead state carries on from one request to the next, or one opened for this
//   call: the kernel's on-demand readahead reads it, in large folios, and ramps up past the range's
//   end. Resident pages are read through too, so the readahead their marker asks for goes on. Not a
//   splice: splicing a large folio in pipe-sized pieces marks it accessed at each piece (measured:
//   the prefetched pages all landed on the active list), a read only once.
// Either way the pages that appear in a `span` after the range during the call can be counted: a forced
// read that meets a readahead marker an earlier sequential read left starts a readahead window too.
// A file system that cannot splice is read with pread into a per-thread scratch buffer instead.
#include "worker.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <sys/sendfile.h>
#include <sys/stat.h>
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

// A new open file of the inode `fd` reads, read-only, in the default (normal) readahead mode; -1 with
// errno set when it cannot be had (no /proc, or not the same file: ESTALE). O_NONBLOCK makes an open
// that would break a lease fail instead (none can be taken while `fd` is open).
int Reopen(int fd)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int out = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (out < 0)
		return -1;
	struct stat a, b;
	if (fstat(fd, &a) != 0 || fstat(out, &b) != 0 || fcntl(out, F_SETFL, 0) != 0) {
		int err = errno;
		close(out);
		errno = err;
		return -1;
	}
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino || !S_ISREG(b.st_mode)) {
		close(out);
		errno = ESTALE;
		return -1;
	}
	return out;
}

class FetchWorker : public PromiseWorker {
public:
	FetchWorker(Napi::Env env, int fd, int64_t offset, int64_t length, bool again, int64_t span, bool sequential, int seqFd)
		: PromiseWorker(env, "hotcache:fetch"), fd_(fd), offset_(offset), length_(length), again_(again), span_(span),
		  sequential_(sequential), seqFd_(seqFd) {}

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
		// A sequential read goes through resident pages too: it carries the readahead on (their marker).
		if (before_ >= (length_ + page - 1) / page && !again_ && !sequential_)
			return;
		int64_t end = offset_ + length_, was = 0;
		if (span_ > 0 && (was = CountResident(fd_, end, span_, &err)) < 0) {
			Fail(err, "cachestat");
			return;
		}
		int seq = !sequential_ ? -1 : seqFd_ >= 0 ? seqFd_ : Reopen(fd_);
		if (seq >= 0) {
			ReadRest(seq, offset_, end);
			if (seq != seqFd_)
				close(seq);
		} else {
			Read();
		}
		if (err_ != 0)
			return;
		if (span_ > 0) {
			int64_t now = CountResident(fd_, end, span_, &err);
			if (now < 0) {
				Fail(err, "cachestat");
				return;
			}
			beyond_ = std::max<int64_t>(0, now - was);
		}
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
		out.Set("beyond", static_cast<double>(beyond_));
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
		Splice(fd_, offset_, offset_ + length_);
	}

	// Reads [pos, end) of `fd` through the page cache without copying it where the file system splices.
	void Splice(int fd, off_t pos, int64_t end)
	{
		int out = DevNull();
		while (out >= 0 && pos < end) {
			ssize_t n = sendfile(out, fd, &pos, static_cast<size_t>(std::min(end - pos, kSpliceStep)));
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
		ReadRest(fd, pos, end);
	}

	void ReadRest(int fd, int64_t pos, int64_t end)
	{
		thread_local std::unique_ptr<char[]> scratch(new char[kScratchBytes]);
		while (pos < end) {
			ssize_t n = pread(fd, scratch.get(), static_cast<size_t>(std::min<int64_t>(end - pos, kScratchBytes)), pos);
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
	int64_t span_;
	bool sequential_;
	int seqFd_;
	int64_t before_ = 0, after_ = 0, bytes_ = 0, beyond_ = 0;
	int err_ = 0;
};

// fetch(fd, offset, length, again, span, sequential): Promise<{before, after, bytes, beyond}>: pages
// resident before and after, bytes read through (none when all was resident, unless `again`: then the
// range is read anyway, which marks its pages accessed a second time; less than length at the end of
// the file). `sequential` reads the range the sequential way (above); `beyond`: pages that became
// resident in the `span` bytes after the range during the call (0 without a span).
Napi::Value Fetch(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length;
	if (!ArgRange(info, INT64_C(1) << 53, true, &fd, &offset, &length))
		return info.Env().Undefined();
	bool again = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
	int64_t span = 0;
	if (info.Length() > 4 && !info[4].IsUndefined() && !ArgInt(info, 4, "span", 0, INT64_C(1) << 40, &span))
		return info.Env().Undefined();
	bool sequential = info.Length() > 5 && info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
	int64_t seqFd = -1;
	if (info.Length() > 6 && !info[6].IsUndefined() && !ArgInt(info, 6, "seqFd", -1, INT32_MAX, &seqFd))
		return info.Env().Undefined();
	return Start<FetchWorker>(info.Env(), fd, offset, length, again, span, sequential, static_cast<int>(seqFd));
}

class ReopenWorker : public PromiseWorker {
public:
	ReopenWorker(Napi::Env env, int fd) : PromiseWorker(env, "hotcache:reopen"), fd_(fd) {}

	void Execute() override
	{
		out_ = Reopen(fd_);
		if (out_ < 0)
			Fail(errno, "open");
	}
	Napi::Value Result() override { return Napi::Number::New(Env(), out_); }

private:
	int fd_;
	int out_ = -1;
};

// reopen(fd): Promise<number>: a new fd of the same regular file, read-only, in normal readahead mode.
Napi::Value ReopenCall(const Napi::CallbackInfo &info)
{
	int64_t fd;
	if (!ArgInt(info, 0, "fd", 0, INT32_MAX, &fd))
		return info.Env().Undefined();
	return Start<ReopenWorker>(info.Env(), static_cast<int>(fd));
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
	exports.Set("reopen", Napi::Function::New(env, ReopenCall, "reopen"));
	exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
}
