// Native calls Node lacks, for the prefetch engine: readahead/fadvise, mincore/cachestat, openat2,
// a fetch that waits for a range without copying it.
// Node's own fs already runs pread and fstat on the pool; those stay in TypeScript.
#include "worker.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <unistd.h>

Napi::Error ErrnoError(Napi::Env env, int err, const char *syscall, const std::string &path)
{
	const char *code = strerrorname_np(err);
	std::string name = code ? code : "EUNKNOWN";
	std::string message = name + ": " + strerror(err) + ", " + syscall;
	if (!path.empty())
		message += " '" + path + "'";
	Napi::Error error = Napi::Error::New(env, message);
	error.Set("code", Napi::String::New(env, name));
	error.Set("errno", Napi::Number::New(env, -err));
	error.Set("syscall", Napi::String::New(env, syscall));
	if (!path.empty())
		error.Set("path", Napi::String::New(env, path));
	return error;
}

bool ArgInt(const Napi::CallbackInfo &info, size_t i, const char *name, int64_t min, int64_t max, int64_t *out)
{
	if (i >= info.Length() || !info[i].IsNumber()) {
		Napi::TypeError::New(info.Env(), std::string(name) + " must be a number").ThrowAsJavaScriptException();
		return false;
	}
	double value = info[i].As<Napi::Number>().DoubleValue();
	if (!std::isfinite(value) || value != std::floor(value) || value < static_cast<double>(min) ||
	    value > static_cast<double>(max)) {
		Napi::RangeError::New(info.Env(), std::string(name) + " is out of range").ThrowAsJavaScriptException();
		return false;
	}
	*out = static_cast<int64_t>(value);
	return true;
}

bool ArgString(const Napi::CallbackInfo &info, size_t i, const char *name, std::string *out)
{
	if (i >= info.Length() || !info[i].IsString()) {
		Napi::TypeError::New(info.Env(), std::string(name) + " must be a string").ThrowAsJavaScriptException();
		return false;
	}
	*out = info[i].As<Napi::String>().Utf8Value();
	return true;
}

bool ArgRange(const Napi::CallbackInfo &info, int64_t max_length, bool aligned, int *fd, int64_t *offset, int64_t *length)
{
	int64_t fd64;
	if (!ArgInt(info, 0, "fd", 0, INT32_MAX, &fd64) || !ArgInt(info, 1, "offset", 0, INT64_C(1) << 53, offset) ||
	    !ArgInt(info, 2, "length", 0, max_length, length))
		return false;
	if (aligned && *offset % sysconf(_SC_PAGESIZE) != 0) {
		Napi::RangeError::New(info.Env(), "offset must be a multiple of the page size").ThrowAsJavaScriptException();
		return false;
	}
	*fd = static_cast<int>(fd64);
	return true;
}

static Napi::Value PageSize(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), static_cast<double>(sysconf(_SC_PAGESIZE)));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("pageSize", Napi::Function::New(env, PageSize, "pageSize"));
	InitAdvise(env, exports);
	InitResidency(env, exports);
	InitOpenInRoot(env, exports);
	InitFetch(env, exports);
	return exports;
}

NODE_API_MODULE(hotcache_native, Init)
