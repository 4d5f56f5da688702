// Native calls Node lacks, for the prefetch engine. Filled by the restore-side issue.
#include <napi.h>
#include <unistd.h>

static Napi::Value PageSize(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), static_cast<double>(sysconf(_SC_PAGESIZE)));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("pageSize", Napi::Function::New(env, PageSize, "pageSize"));
	return exports;
}

NODE_API_MODULE(hotcache_native, Init)
