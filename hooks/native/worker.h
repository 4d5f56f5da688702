// The base of every asynchronous native call: runs one syscall family on libuv's pool and settles a
// promise. Execute() only touches plain C++ members; JS values are built in OnOK/OnError.
#pragma once
#include <napi.h>

#include <string>
#include <utility>

// An Error shaped like Node's fs errors: message "CODE: text, syscall", code, errno (negative), syscall.
Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall, const std::string &path = "");

class PromiseWorker : public Napi::AsyncWorker {
public:
	Napi::Promise Promise() { return deferred_.Promise(); }

protected:
	PromiseWorker(Napi::Env env, const char *resource)
		: Napi::AsyncWorker(env, resource), deferred_(Napi::Promise::Deferred::New(env)) {}

	// Called from Execute() when a syscall fails; errno is captured by the caller.
	void Fail(int err, const char *syscall)
	{
		err_ = err;
		syscall_ = syscall;
		SetError(syscall);
	}
	virtual Napi::Value Result() = 0;
	virtual std::string ErrorPath() const { return ""; }

private:
	void OnOK() override { deferred_.Resolve(Result()); }
	void OnError(const Napi::Error &) override
	{
		deferred_.Reject(ErrnoError(Env(), err_, syscall_, ErrorPath()).Value());
	}

	Napi::Promise::Deferred deferred_;
	int err_ = 0;
	const char *syscall_ = "";
};

// Queues a new worker and returns its promise.
template <class Worker, class... Args> Napi::Value Start(Args &&...args)
{
	auto *worker = new Worker(std::forward<Args>(args)...);
	worker->Queue();
	return worker->Promise();
}

// Argument readers: on a bad argument they throw a TypeError or RangeError and return false.
bool ArgInt(const Napi::CallbackInfo &info, size_t i, const char *name, int64_t min, int64_t max, int64_t *out);
bool ArgString(const Napi::CallbackInfo &info, size_t i, const char *name, std::string *out);
// (fd, offset, length) as the first three arguments; offset page-aligned when `aligned`.
bool ArgRange(const Napi::CallbackInfo &info, int64_t max_length, bool aligned, int *fd, int64_t *offset, int64_t *length);

// Pages of [offset, offset + length) in the page cache: cachestat(2), or mincore(2) before Linux 6.5.
// -1 with *err set on failure. (residency.cc)
int64_t CountResident(int fd, int64_t offset, int64_t length, int *err);

// One registration function per syscall family, each in its own file.
void InitAdvise(Napi::Env env, Napi::Object exports);
void InitResidency(Napi::Env env, Napi::Object exports);
void InitOpenInRoot(Napi::Env env, Napi::Object exports);
void InitFetch(Napi::Env env, Napi::Object exports);
