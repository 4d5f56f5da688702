// Which pages of a file are in the page cache: mincore(2) on a read-only shared mapping (per page), and
// cachestat(2) (Linux 6.5+, aggregate counts, no mapping needed; the capture library's call).
#include "worker.h"

#include <cerrno>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "hotcache/cachestat.h"

namespace {

// Bounds one call's vector (1 byte per page): 1 GiB of 4 KiB pages is a 256 KiB vector.
constexpr int64_t kMaxMincoreBytes = INT64_C(1) << 30;

class MincoreWorker : public PromiseWorker {
public:
	MincoreWorker(Napi::Env env, int fd, int64_t offset, int64_t length)
		: PromiseWorker(env, "hotcache:mincore"), fd_(fd), offset_(offset), length_(length) {}

	void Execute() override
	{
		if (length_ == 0)
			return;
		long page = sysconf(_SC_PAGESIZE);
		void *map = mmap(nullptr, static_cast<size_t>(length_), PROT_READ, MAP_SHARED, fd_, offset_);
		if (map == MAP_FAILED) {
			Fail(errno, "mmap");
			return;
		}
		vec_.resize(static_cast<size_t>((length_ + page - 1) / page));
		if (mincore(map, static_cast<size_t>(length_), vec_.data()) != 0)
			Fail(errno, "mincore");
		munmap(map, static_cast<size_t>(length_));
	}
	Napi::Value Result() override
	{
		// Only bit 0 is defined (the others are reserved): hand back 0 or 1 per page.
		auto out = Napi::Uint8Array::New(Env(), vec_.size());
		for (size_t i = 0; i < vec_.size(); i++)
			out[i] = vec_[i] & 1;
		return out;
	}

private:
	int fd_;
	int64_t offset_, length_;
	std::vector<unsigned char> vec_;
};

class CachestatWorker : public PromiseWorker {
public:
	CachestatWorker(Napi::Env env, int fd, int64_t offset, int64_t length)
		: PromiseWorker(env, "hotcache:cachestat"), fd_(fd), offset_(static_cast<uint64_t>(offset)), length_(static_cast<uint64_t>(length)) {}

	void Execute() override
	{
		int ret = hc_cachestat(fd_, offset_, length_, &stat_);
		if (ret < 0)
			Fail(-ret, "cachestat");
	}
	Napi::Value Result() override
	{
		Napi::Object out = Napi::Object::New(Env());
		out.Set("cache", static_cast<double>(stat_.cached));
		out.Set("dirty", static_cast<double>(stat_.dirty));
		out.Set("writeback", static_cast<double>(stat_.writeback));
		out.Set("evicted", static_cast<double>(stat_.evicted));
		out.Set("recentlyEvicted", static_cast<double>(stat_.recently_evicted));
		return out;
	}

private:
	int fd_;
	uint64_t offset_, length_;
	struct hc_cachestat stat_{};
};

} // namespace

int64_t CountResident(int fd, int64_t offset, int64_t length, int *err)
{
	struct hc_cachestat stat {};
	int ret = hc_cachestat(fd, static_cast<uint64_t>(offset), static_cast<uint64_t>(length), &stat);
	if (ret == 0)
		return static_cast<int64_t>(stat.cached);
	if (ret != -ENOSYS) {
		*err = -ret;
		return -1;
	}
	// Before Linux 6.5: mincore on a read-only mapping of the range.
	long page = sysconf(_SC_PAGESIZE);
	void *map = mmap(nullptr, static_cast<size_t>(length), PROT_READ, MAP_SHARED, fd, offset);
	if (map == MAP_FAILED) {
		*err = errno;
		return -1;
	}
	std::vector<unsigned char> vec(static_cast<size_t>((length + page - 1) / page));
	int64_t count = 0;
	if (mincore(map, static_cast<size_t>(length), vec.data()) != 0)
		*err = errno, count = -1;
	else
		for (unsigned char v : vec)
			count += v & 1;
	munmap(map, static_cast<size_t>(length));
	return count;
}

namespace {

// mincore(fd, offset, length): Promise<Uint8Array>, one 0/1 per page. offset page-aligned, length <= 1 GiB.
Napi::Value Mincore(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length;
	if (!ArgRange(info, kMaxMincoreBytes, true, &fd, &offset, &length))
		return info.Env().Undefined();
	return Start<MincoreWorker>(info.Env(), fd, offset, length);
}

// cachestat(fd, offset, length): Promise<{cache, dirty, writeback, evicted, recentlyEvicted}> in pages;
// length 0 means to the end of the file. Rejects with ENOSYS before Linux 6.5.
Napi::Value CachestatCall(const Napi::CallbackInfo &info)
{
	int fd;
	int64_t offset, length;
	if (!ArgRange(info, INT64_C(1) << 53, true, &fd, &offset, &length))
		return info.Env().Undefined();
	return Start<CachestatWorker>(info.Env(), fd, offset, length);
}

} // namespace

void InitResidency(Napi::Env env, Napi::Object exports)
{
	exports.Set("mincore", Napi::Function::New(env, Mincore, "mincore"));
	exports.Set("cachestat", Napi::Function::New(env, CachestatCall, "cachestat"));
}
