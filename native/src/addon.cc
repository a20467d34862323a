// Module entry: exports every registered function, plus what this build and CPU can do.
#include "cpu.h"
#include "pool.h"
#include "registry.h"

namespace moelab {

std::vector<Export>& exports_registry() {
  static std::vector<Export> all;
  return all;
}

namespace {

// info() -> { isa: "avx512" | "avx2" | "scalar", threads, threadsRequested, maxThreads, features: {avx2, fma, avx512f, avx512bw, avx512vl,
// avx512bf16, amxbf16} }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const CpuFeatures& f = cpu_features();
  out.Set("isa", isa_name(best_isa()));
  out.Set("threads", Napi::Number::New(env, static_cast<double>(pool().size())));
  out.Set("threadsRequested", Napi::Number::New(env, static_cast<double>(pool().requested())));
  out.Set("maxThreads", Napi::Number::New(env, static_cast<double>(kMaxThreads)));
  Napi::Object feats = Napi::Object::New(env);
  feats.Set("avx2", f.avx2);
  feats.Set("fma", f.fma);
  feats.Set("avx512f", f.avx512f);
  feats.Set("avx512bw", f.avx512bw);
  feats.Set("avx512vl", f.avx512vl);
  feats.Set("avx512bf16", f.avx512bf16);
  feats.Set("amxbf16", f.amx_bf16);
  out.Set("features", feats);
  return out;
}
MOELAB_EXPORT("info", Info);

}  // namespace
}  // namespace moelab

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  for (const moelab::Export& e : moelab::exports_registry()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

NODE_API_MODULE(moelab_native, InitAddon)
