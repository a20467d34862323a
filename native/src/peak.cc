// Measured compute peak: register-only multiply-add throughput loops, one per instruction kind, run on every pool
// thread at once (no memory traffic in the loop, many independent accumulators to hide the instruction latency).
// A benchmark's GFLOP/s as a share of this is a share of what the cores can do, unlike a peak derived from a clock.
// Reference: the usual FMA-throughput microbenchmarks (e.g. Intel's "peak FLOPS" loop; uops.info latency/throughput).
//   peakFlops(kind, iterations) -> { flops, seconds, threads }: kind "avx512-fma" | "avx2-fma" | "avx512-bf16" |
//     "amx-bf16"; `iterations` loop trips in all (split over the threads); throws where the CPU lacks the kind.
//   peakKinds() -> the kinds this CPU can run (MOELAB_ISA caps them like the kernels)
#include <immintrin.h>
#include <napi.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bf16_engine.h"
#include "cpu.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

struct Kind {
  const char* name;
  double flops_per_trip;       // floating-point operations of one loop trip
  bool (*available)();
  float (*loop)(int64_t trips);  // returns a value depending on every accumulator (so nothing is optimised away)
};

constexpr int kFmaAcc512 = 16;  // 16 chains × 4-cycle latency covers 2 FMA ports
constexpr int kFmaAcc256 = 12;  // of the 16 ymm registers, 12 accumulate
constexpr int kDotAcc = 16;

__attribute__((target("avx512f,fma"))) float fma512(int64_t trips) {
  __m512 acc[kFmaAcc512];
  for (int i = 0; i < kFmaAcc512; i++) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);  // acc → y/(1−x): no overflow, no denormals
  for (int64_t t = 0; t < trips; t++)
    for (int i = 0; i < kFmaAcc512; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 s = acc[0];
  for (int i = 1; i < kFmaAcc512; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) float fma256(int64_t trips) {
  __m256 acc[kFmaAcc256];
  for (int i = 0; i < kFmaAcc256; i++) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
  for (int64_t t = 0; t < trips; t++)
    for (int i = 0; i < kFmaAcc256; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < kFmaAcc256; i++) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx512f,avx512bf16"))) float dot512(int64_t trips) {
  __m512 acc[kDotAcc];
  for (int i = 0; i < kDotAcc; i++) acc[i] = _mm512_setzero_ps();
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3a80);  // bf16 0.0009765625 (2^-10): sums stay far from overflow
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  for (int64_t t = 0; t < trips; t++)
    for (int i = 0; i < kDotAcc; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < kDotAcc; i++) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

// AMX: four 16×16 fp32 accumulator tiles, two A and two B tiles of 16 rows × 32 bf16 loaded once; four TDPBF16PS a trip.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

__attribute__((target("amx-tile,amx-bf16,avx512f"))) float amx(int64_t trips) {
  TileConfig cfg;
  for (int t = 0; t < 8; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  alignas(64) uint16_t operand[16 * 32];
  for (uint16_t& v : operand) v = 0x3a80;  // 2^-10
  alignas(64) float out[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  for (int64_t t = 0; t < trips; t++) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  float total = 0;
  _tile_stored(0, out, 64);
  total += out[0];
  _tile_stored(1, out, 64);
  total += out[0];
  _tile_stored(2, out, 64);
  total += out[0];
  _tile_stored(3, out, 64);
  total += out[0];
  _tile_release();
  return total;
}

bool has_avx512() { return best_isa() == Isa::avx512; }
bool has_avx2() { return best_isa() != Isa::scalar; }
bool has_dot() { return has_avx512() && cpu_features().avx512bf16; }

const Kind kKinds[] = {
    {"avx512-fma", kFmaAcc512 * 16 * 2.0, has_avx512, fma512},
    {"avx2-fma", kFmaAcc256 * 8 * 2.0, has_avx2, fma256},
    {"avx512-bf16", kDotAcc * 16 * 2 * 2.0, has_dot, dot512},     // 16 lanes × a pair of products, each a multiply-add
    {"amx-bf16", 4 * 16 * 16 * 32 * 2.0, amx_bf16_usable, amx},  // four 16×16×32 tile products
};

constexpr const char* kFn = "peakFlops";
volatile float sink;  // where every loop's result goes

Napi::Value PeakFlops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw_arg(info, kFn, 0, "a kind string");
    return env.Undefined();
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  int64_t trips;
  if (!dim_arg(info, kFn, 1, trips)) return env.Undefined();
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds)
    if (name == k.name) kind = &k;
  if (!kind || !kind->available()) {
    Napi::Error::New(env, std::string(kFn) + ": kind \"" + name + "\" is " + (kind ? "not available on this CPU" : "unknown"))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Many more pieces than threads, so a thread that starts late takes fewer and all stay busy to the end.
  const size_t threads = static_cast<size_t>(pool().size());
  const size_t pieces = threads * 16;
  const int64_t per = (trips + static_cast<int64_t>(pieces) - 1) / static_cast<int64_t>(pieces);
  std::vector<float> results(pieces);
  const auto start = std::chrono::steady_clock::now();
  pool().run(pieces, [&](size_t i) { results[i] = kind->loop(per); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  float total = 0;
  for (float r : results) total += r;
  sink = total;
  Napi::Object out = Napi::Object::New(env);
  out.Set("flops", Napi::Number::New(env, kind->flops_per_trip * static_cast<double>(per) * static_cast<double>(pieces)));
  out.Set("seconds", Napi::Number::New(env, seconds));
  out.Set("threads", Napi::Number::New(env, static_cast<double>(threads)));
  return out;
}
MOELAB_EXPORT("peakFlops", PeakFlops);

Napi::Value PeakKinds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const Kind& k : kKinds)
    if (k.available()) out.Set(n++, Napi::String::New(env, k.name));
  return out;
}
MOELAB_EXPORT("peakKinds", PeakKinds);

}  // namespace
}  // namespace moelab
