// Asking the kernel to read ahead: posix_fadvise(2) and readahead(2). Both are clamped by the kernel to
// its per-call readahead cap, so callers pass chunks no larger than that cap.
#include "worker.h"

#include <cerrno>
#include <fcntl.h>

namespace {

class AdviseWorker : public PromiseWorker {
public:
	AdviseWorker(Napi::Env env, int fd, int64_t offset, int64_t length, int advice)
		: PromiseWorker(env, "hotcache:fadvise"), fd_(fd), offset_(offset), length_(length), advice_(advice) {}

	void Execute() override
	{
		// posix_fadvise returns the error number instead of setting errno.
		int err = posix_fadvise(fd_, offset_, length_, advice_);
		if (err != 0)
			Fail(err, "posix_fadvise");
	}
	Napi::Value Result() override { return Env().Undefined(); }

private:
	int fd_;
	int64_t offset_, length_;
	int advice_;
};

class ReadaheadWorker : public PromiseWorker {
public:
	ReadaheadWorker(Napi::Env env, int fd, int64_t offset, int64_t length)
		: PromiseWorker(env, "hotcache:readahead"), fd_(fd), offset_(offset), length_(length) {}

	void Execute() override
	{
		if (readahead(fd_, offset_, static_cast<size_t>(length_)) != 0)
			Fail(errno, "readahead");
	}
	Napi::Value Result() override { return Env().Undefined(); }

private:
	int fd_;
	int64_t offset_, length_;
};

// fadvise(fd, offset, length, advice): advice is one of the POSIX_FADV_* numbers exported below.
Napi::Value Fadvise(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length, advice;
	if (!ArgRange(info, INT64_C(1) << 53, false, &fd, &offset, &length) || !ArgInt(info, 3, "advice", 0, 5, &advice))
		return info.Env().Undefined();
	return Start<AdviseWorker>(info.Env(), fd, offset, length, static_cast<int>(advice));
}

Napi::Value Readahead(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length;
	if (!ArgRange(info, INT64_C(1) << 53, false, &fd, &offset, &length))
		return info.Env().Undefined();
	return Start<ReadaheadWorker>(info.Env(), fd, offset, length);
}

} // namespace

void InitAdvise(Napi::Env env, Napi::Object exports)
{
	exports.Set("fadvise", Napi::Function::New(env, Fadvise, "fadvise"));
	exports.Set("readahead", Napi::Function::New(env, Readahead, "readahead"));
	Napi::Object advice = Napi::Object::New(env);
	advice.Set("NORMAL", POSIX_FADV_NORMAL);
	advice.Set("RANDOM", POSIX_FADV_RANDOM);
	advice.Set("SEQUENTIAL", POSIX_FADV_SEQUENTIAL);
	advice.Set("WILLNEED", POSIX_FADV_WILLNEED);
	advice.Set("DONTNEED", POSIX_FADV_DONTNEED);
	advice.Set("NOREUSE", POSIX_FADV_NOREUSE);
	exports.Set("advice", advice);
}
