// sgemm driver (gemm.h): GotoBLAS/BLIS blocking (Goto & van de Geijn 2008; Van Zee & van de Geijn, "BLIS", 2015).
// For each block of nc columns of B, each thread takes a range of rows of C (or of columns, when there are few rows):
// it packs mc×kc blocks of A into mr-row micro-panels and runs the register-tile kernel over them and B's k×nr
// micro-panels, which the threads pack on first use (transposes are handled while packing); C accumulates across kc
// blocks, and the epilogue runs on each tile after its last kc block, while it is in L1. Small products stay on the
// calling thread; a row-major B is read in place when A has too few rows to amortise packing it, and so is a transposed
// B when A has at most one micro-panel of rows (a Linear's x·Wᵀ at decode: KernelSet::few_rows); a product much deeper
// than its output is wide (a weight gradient) splits its depth across the threads and adds the partial products.
// A group of independent products (sgemm_grouped) is cut into the same row tasks, all of them in one pool job per
// wave of products whose packed B fits a budget.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "cpu.h"
#include "gemm_kernel.h"
#include "pool.h"

namespace moelab {
namespace {

using gemm::EpilogueTile;
using gemm::KernelSet;

// Depth of a packed block: fewer passes over C against micro-panels that stream from L2 (measured on Sapphire Rapids,
// 2 threads, quiet machine, alternating builds: 512 beats 384 by 3-5% from 512³ to 2048³ and on transposed and
// transformer-shaped products; 256 is no better than 384).
constexpr int64_t kKc = 512;
// Rows of a packed A block (about: a whole number of micro-panels), also the rows one pool task takes: mc·kc floats
// stay in L2 while every B micro-panel of the column block passes over them, and the C rows they update stay in L2
// across kc blocks.
constexpr int64_t kMc = 100;
// Floats of B packed at once (8 MB): the column block is nc = this / k columns (at least one micro-panel).
constexpr int64_t kPackedB = int64_t(2) << 20;
// A product below this many flops runs on the calling thread: a pool thread takes ~0.1 ms to wake on our 2-core VM,
// which only pays off above ~256³ (measured: 192³-256³ break even, 320³ gains 20%, 128³ loses 40%).
constexpr double kParallelFlops = 3e7;
// A batch of smaller products goes to the pool (one product per task) from this many flops in all: the caller starts
// on the first products at once and a late worker takes the rest (measured: 16 × 64³ loses 5%, 32 × 64³ gains 25%).
constexpr double kParallelBatchFlops = 1.2e7;
// Floats of packed B one wave of a grouped call holds (16 MB): the products whose B fits run in one pool job.
constexpr int64_t kGroupedPackedB = int64_t(4) << 20;
// Rows of a row-major B (or of a transposed A) packed per pass over a group of panels.
constexpr int64_t kPackRows = 16;
// A row-major B is used in place (not packed) when A has at most this many micro-panels of rows.
constexpr int64_t kDirectBPanels = 2;
// A product whose depth is at least this many times its larger output side (a weight gradient dW = Xᵀ·dY of a
// transformer: k = B·T tokens, m and n the layer's widths) splits its depth across the threads instead of its rows:
// each thread streams only its part of both operands once, where a row split has every thread read all of B.
constexpr int64_t kSplitDepthRatio = 4;
// Depth chunks per thread in a depth split (taken dynamically, so a thread that loses its core is not waited for).
constexpr int64_t kDepthChunksPerThread = 2;
// B floats from which a few-rows product (gemm_few_rows) splits its columns over the pool. It streams B once: from
// memory, one core's outstanding misses cap its bandwidth, and two cores streaming halves of B pull more; 2¹⁷ floats
// (512 KiB, a 512×256 weight) take tens of µs, the work other kernels hand to the pool (fused.cc kElementGrain).
// Measured only on the loaded 2-core machine (a sweep of the small preset's 31 decode products, 6 interleaved runs:
// median 2.3 ms on one thread, 1.8 ms on two, with a wide spread); bench:serve at MOELAB_THREADS=1 vs 2 checks it.
constexpr int64_t kParallelFewRowsFloats = int64_t(1) << 17;
// Floats of partial products a depth split may hold (64 MB; the LM's weight gradients need under 1 MB): with fewer
// chunks than threads' worth, the product splits its rows instead.
constexpr int64_t kMaxPartialFloats = int64_t(16) << 20;

const KernelSet& kernels() {
  static const KernelSet& set = best_isa() == Isa::avx512 ? gemm::kernels_avx512()
                                : best_isa() == Isa::avx2   ? gemm::kernels_avx2()
                                                            : gemm::kernels_portable();
  return set;
}

// A grow-only 64-byte-aligned scratch buffer (one per thread for A blocks, one per thread for B blocks).
class Scratch {
 public:
  ~Scratch() { std::free(data_); }
  // At least n floats, or nullptr when the allocation fails.
  float* get(int64_t n) {
    if (n > capacity_) {
      std::free(data_);
      const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      capacity_ = data_ ? n : 0;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

thread_local Scratch scratch_a, scratch_b, scratch_partial, scratch_grouped;

// A matrix operand: element (r, c) at p[r * rs + c * cs].
struct Mat {
  const float* p;
  int64_t rs, cs;
  const float* at(int64_t r, int64_t c) const { return p + r * rs + c * cs; }
};

// One product with its operands resolved (batch offsets applied).
struct Problem {
  int64_t m, n, k;
  Mat a;  // (i, p), m × k
  Mat b;  // (p, j), k × n
  float* c;
  int64_t ldc;
  const Epilogue* ep;  // with bias/prelu pointing at this matrix's values
};

// The product of `shape` on these operands (batch offsets already applied).
Problem resolve(const GemmShape& shape, const float* a, const float* b, float* c, const Epilogue* ep) {
  const int64_t m = shape.m, n = shape.n, k = shape.k;
  const int64_t lda = shape.lda ? shape.lda : (shape.trans_a ? m : k);
  const int64_t ldb = shape.ldb ? shape.ldb : (shape.trans_b ? k : n);
  return Problem{m,
                 n,
                 k,
                 shape.trans_a ? Mat{a, 1, lda} : Mat{a, lda, 1},
                 shape.trans_b ? Mat{b, 1, ldb} : Mat{b, ldb, 1},
                 c,
                 shape.ldc ? shape.ldc : n,
                 ep};
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Splits `total` into ceil(total / target) near-equal blocks, rounded up to a multiple of `unit`.
int64_t balanced_block(int64_t total, int64_t target, int64_t unit) {
  const int64_t blocks = ceil_div(total, target);
  return ceil_div(ceil_div(total, blocks), unit) * unit;
}

// A rows [i0, i0 + rows), depth [p0, p0 + kc) → mr-row micro-panels (kc·mr floats each). A transposed A (rows
// contiguous) is copied a few depth steps at a time across all the panels, so each of its rows is read sequentially.
void pack_a(const KernelSet& ks, const Mat& a, int64_t i0, int64_t rows, int64_t p0, int64_t kc, float* dst) {
  const int mr = ks.mr;
  const int64_t steps_per_pass = a.rs == 1 ? kPackRows : kc;
  for (int64_t s0 = 0; s0 < kc; s0 += steps_per_pass) {
    const int64_t steps = std::min(steps_per_pass, kc - s0);
    for (int64_t ip = 0; ip < rows; ip += mr)
      ks.pack_a(a.at(i0 + ip, p0 + s0), a.rs, a.cs, steps, static_cast<int>(std::min<int64_t>(mr, rows - ip)),
                dst + ip * kc + s0 * mr);
  }
}

EpilogueTile epilogue_at(const Epilogue& ep, int64_t i, int64_t j) {
  EpilogueTile t{nullptr, ep.bias.row_stride, ep.bias.col_stride, ep.activation, ep.alpha,
                 nullptr, ep.prelu.row_stride, ep.prelu.col_stride};
  if (ep.bias.data) t.bias = ep.bias.data + i * ep.bias.row_stride + j * ep.bias.col_stride;
  if (ep.prelu.data) t.prelu = ep.prelu.data + i * ep.prelu.row_stride + j * ep.prelu.col_stride;
  return t;
}

// The packed micro-panels of one column block of B, packed on first use: the threads that share the block each claim
// groups of panels as they reach them (starting at different groups), so packing needs no separate pass over the pool
// and overlaps the other thread's multiplications. A thread that reaches a group another is still packing waits
// for it; no thread waits while holding a claim, so this cannot deadlock, also when one thread runs every task.
class PackedB {
 public:
  // Panels per claim: a row-major B is then read kPanelsPerClaim·nr floats at a time per row.
  static constexpr int64_t kPanelsPerClaim = 4;

  PackedB(const KernelSet& ks, const Mat& b, int64_t k, int64_t j0, int64_t ncols, float* data)
      : ks_(ks), b_(b), k_(k), j0_(j0), ncols_(ncols), data_(data),
        panels_(ceil_div(ncols, ks.nr)), state_(new std::atomic<uint8_t>[ceil_div(panels_, kPanelsPerClaim)]) {
    for (int64_t g = 0; g < ceil_div(panels_, kPanelsPerClaim); g++) state_[g].store(kTodo, std::memory_order_relaxed);
  }

  // Micro-panel q (k·nr floats), packed by this thread if nobody has claimed it yet.
  const float* panel(int64_t q) {
    std::atomic<uint8_t>& state = state_[q / kPanelsPerClaim];
    if (state.load(std::memory_order_acquire) != kDone) {
      uint8_t todo = kTodo;
      if (state.compare_exchange_strong(todo, kPacking, std::memory_order_acq_rel)) {
        pack_group(q / kPanelsPerClaim);
        state.store(kDone, std::memory_order_release);
      } else {
        // Short waits spin; a packer that lost its core (a loaded machine) gets the core back through yield().
        for (int spins = 0; state.load(std::memory_order_acquire) != kDone; spins++) {
          if (spins < kSpinsBeforeYield) __builtin_ia32_pause();
          else std::this_thread::yield();
        }
      }
    }
    return data_ + q * k_ * ks_.nr;
  }

  // Where micro-panel q will be (for prefetching; it may not be packed yet).
  const float* location(int64_t q) const { return data_ + q * k_ * ks_.nr; }

 private:
  static constexpr uint8_t kTodo = 0, kPacking = 1, kDone = 2;
  static constexpr int kSpinsBeforeYield = 4096;

  // A row-major B is copied a few rows at a time across the group's panels, so each row is read sequentially.
  void pack_group(int64_t g) {
    const int nr = ks_.nr;
    const int64_t q0 = g * kPanelsPerClaim, q1 = std::min(panels_, q0 + kPanelsPerClaim);
    const int64_t rows_per_pass = b_.cs == 1 ? kPackRows : k_;
    for (int64_t p0 = 0; p0 < k_; p0 += rows_per_pass) {
      const int64_t rows = std::min(rows_per_pass, k_ - p0);
      for (int64_t q = q0; q < q1; q++) {
        const int64_t j = j0_ + q * nr;
        ks_.pack_b(b_.at(p0, j), b_.cs, b_.rs, rows, static_cast<int>(std::min<int64_t>(nr, j0_ + ncols_ - j)),
                   data_ + q * k_ * nr + p0 * nr);
      }
    }
  }

  const KernelSet& ks_;
  const Mat b_;
  const int64_t k_, j0_, ncols_;
  float* const data_;
  const int64_t panels_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
};

// C rows [i_begin, i_end) × micro-panels [q_begin, q_end) of the column block starting at j0 (ncols wide), visiting
// the panels from q_first on (wrapping). packed: the block's B micro-panels, or nullptr to read a row-major B in place.
bool compute_block(const KernelSet& ks, const Problem& pr, PackedB* packed, int64_t j0, int64_t ncols,
                   int64_t i_begin, int64_t i_end, int64_t q_begin, int64_t q_end, int64_t q_first) {
  const int mr = ks.mr, nr = ks.nr;
  const int64_t k = pr.k;
  const int64_t kc_max = balanced_block(k, kKc, 1);
  const int64_t mc_max = balanced_block(i_end - i_begin, kMc, mr);
  float* abuf = scratch_a.get(mc_max * kc_max);
  if (!abuf) return false;
  const bool epilogue = !pr.ep->trivial();
  const int64_t count = q_end - q_begin;
  for (int64_t ic = i_begin; ic < i_end; ic += mc_max) {
    const int64_t mc = std::min(mc_max, i_end - ic);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, k - pc);
      const bool last = pc + kc == k;
      pack_a(ks, pr.a, ic, mc, pc, kc, abuf);
      for (int64_t step = 0; step < count; step++) {
        const int64_t q = q_begin + (q_first - q_begin + step) % count;
        const int64_t j = j0 + q * nr;
        const int cols = static_cast<int>(std::min<int64_t>(nr, j0 + ncols - j));
        const float* b = packed ? packed->panel(q) + pc * nr : pr.b.at(pc, j);
        const int64_t bs = packed ? nr : pr.b.rs;
        // The next micro-panel's kc·nr floats (kc·nr/16 lines), prefetched kc lines per tile by the first tiles.
        const int64_t q_next = q_begin + (q_first - q_begin + step + 1) % count;
        const float* next = packed && step + 1 < count ? packed->location(q_next) + pc * nr : nullptr;
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
          float* c = pr.c + (ic + ir) * pr.ldc + j;
          const int64_t t = ir / mr;
          const float* pf = next && t * 16 < nr ? next + t * kc * 16 : nullptr;
          ks.tile(kc, abuf + ir * kc, b, bs, c, pr.ldc, rows, cols, pc > 0, packed == nullptr, pf);
          if (last && epilogue) ks.epilogue(c, pr.ldc, rows, cols, epilogue_at(*pr.ep, ic + ir, j));
        }
      }
    }
  }
  return true;
}

// k == 0: C = epilogue(0).
void fill_empty_product(const KernelSet& ks, const Problem& pr) {
  constexpr int64_t kChunk = int64_t(1) << 20;  // columns per epilogue call (its count is an int)
  for (int64_t i = 0; i < pr.m; i++) {
    float* row = pr.c + i * pr.ldc;
    std::memset(row, 0, sizeof(float) * pr.n);
    if (pr.ep->trivial()) continue;
    for (int64_t j = 0; j < pr.n; j += kChunk)
      ks.epilogue(row + j, pr.ldc, 1, static_cast<int>(std::min(kChunk, pr.n - j)), epilogue_at(*pr.ep, i, j));
  }
}

bool gemm_one(const KernelSet& ks, const Problem& pr, bool parallel);

// Whether a product of m rows whose B has row stride b_rs runs gemm_few_rows: at most one micro-panel of rows and B's
// columns contiguous (a transposed B: x·Wᵀ of a Linear, at decode), where packing B would read and write all of it
// to use it once or a few times.
bool few_rows_path(const KernelSet& ks, int64_t m, int64_t b_rs) { return b_rs == 1 && m <= ks.mr; }

// A few-rows product (few_rows_path): A packed once into one micro-panel (m·k floats), B read once in place
// (KernelSet::few_rows, bit-for-bit the packed path's sums), on the pool in groups of column micro-panels when
// `parallel`. Returns false when scratch memory could not be allocated.
bool gemm_few_rows(const KernelSet& ks, const Problem& pr, bool parallel) {
  float* a = scratch_a.get(pr.k * ks.mr);
  if (!a) return false;
  pack_a(ks, pr.a, 0, pr.m, 0, pr.k, a);
  const int64_t kc = balanced_block(pr.k, kKc, 1);  // the depth blocks compute_block uses
  const bool epilogue = !pr.ep->trivial();
  auto columns = [&](int64_t j0, int64_t j1) {
    const EpilogueTile e = epilogue_at(*pr.ep, 0, j0);
    ks.few_rows(pr.k, kc, a, pr.b.at(0, j0), pr.b.cs, pr.c + j0, pr.ldc, static_cast<int>(pr.m), j1 - j0,
                epilogue ? &e : nullptr);
  };
  const int64_t per_task = PackedB::kPanelsPerClaim * ks.nr;  // columns per task, as in gemm_one's column split
  if (!parallel || pr.n <= per_task) {
    columns(0, pr.n);
    return true;
  }
  pool().run(static_cast<size_t>(ceil_div(pr.n, per_task)), [&](size_t t) {
    const int64_t j0 = static_cast<int64_t>(t) * per_task;
    columns(j0, std::min(pr.n, j0 + per_task));
  });
  return true;
}

// How a product walks B: `direct` reads a row-major B in place (A has too few rows to amortise packing it), else B is
// packed nc columns at a time (kPackedB floats at most, at least one micro-panel).
struct ColumnBlocks {
  bool direct;
  int64_t nc;
};
ColumnBlocks column_blocks(const KernelSet& ks, const Problem& pr) {
  const bool direct = pr.b.cs == 1 && ceil_div(pr.m, ks.mr) <= kDirectBPanels;
  return {direct, direct ? pr.n : std::min(pr.n, std::max<int64_t>(ks.nr, kPackedB / pr.k / ks.nr * ks.nr))};
}

// Depth chunks for a depth split of `pr` over `threads`, or 0 when it should not be split by depth: the depth is not
// much larger than both output sides, the epilogue is not trivial (it must follow the sum), or the partial products
// would not fit kMaxPartialFloats.
int64_t depth_chunks(const Problem& pr, int64_t threads) {
  if (threads < 2 || !pr.ep->trivial() || pr.k < kSplitDepthRatio * std::max(pr.m, pr.n) || pr.k < threads * kKc)
    return 0;
  const int64_t chunks = std::min({threads * kDepthChunksPerThread, std::max<int64_t>(threads, pr.k / kKc),
                                   1 + kMaxPartialFloats / (pr.m * pr.n)});
  return chunks >= threads ? chunks : 0;
}

// A deep product on the pool, its depth split into `chunks` (depth_chunks): chunk 0 writes C, the others write partial
// products to scratch, which are then added into C (rows split across the threads).
bool gemm_split_depth(const KernelSet& ks, const Problem& pr, int64_t chunks) {
  const int64_t m = pr.m, n = pr.n;
  float* partial = scratch_partial.get((chunks - 1) * m * n);
  if (!partial) return false;
  std::atomic<bool> ok{true};
  pool().run(static_cast<size_t>(chunks), [&](size_t t) {
    const int64_t c = static_cast<int64_t>(t);
    const int64_t p0 = pr.k * c / chunks, p1 = pr.k * (c + 1) / chunks;
    Problem part{m, n, p1 - p0, Mat{pr.a.at(0, p0), pr.a.rs, pr.a.cs}, Mat{pr.b.at(p0, 0), pr.b.rs, pr.b.cs},
                 c == 0 ? pr.c : partial + (c - 1) * m * n, c == 0 ? pr.ldc : n, pr.ep};
    if (!gemm_one(ks, part, false)) ok = false;
  });
  if (!ok) return false;
  parallel_for(static_cast<size_t>(m), 16, [&](size_t i0, size_t i1) {
    for (int64_t i = static_cast<int64_t>(i0); i < static_cast<int64_t>(i1); i++) {
      float* __restrict row = pr.c + i * pr.ldc;
      for (int64_t c = 0; c + 1 < chunks; c++) {
        const float* __restrict src = partial + c * m * n + i * n;
        for (int64_t j = 0; j < n; j++) row[j] += src[j];
      }
    }
  });
  return true;
}

// One product, on the pool when `parallel`: rows split across threads (each starting on a different group of B
// panels), or columns when there are too few rows, or the depth when it is much larger than both output sides.
bool gemm_one(const KernelSet& ks, const Problem& pr, bool parallel) {
  if (pr.m == 0 || pr.n == 0) return true;
  if (pr.k == 0) {
    fill_empty_product(ks, pr);
    return true;
  }
  if (few_rows_path(ks, pr.m, pr.b.rs)) return gemm_few_rows(ks, pr, parallel);
  const int mr = ks.mr, nr = ks.nr;
  const int64_t row_panels = ceil_div(pr.m, mr);
  const auto [direct, nc] = column_blocks(ks, pr);
  const int64_t threads = parallel ? pool().size() : 1;
  if (const int64_t chunks = depth_chunks(pr, threads)) return gemm_split_depth(ks, pr, chunks);
  std::atomic<bool> ok{true};
  for (int64_t j0 = 0; j0 < pr.n; j0 += nc) {
    const int64_t ncols = std::min(nc, pr.n - j0);
    const int64_t panels = ceil_div(ncols, nr);
    std::unique_ptr<PackedB> packed;
    if (!direct) {
      float* data = scratch_b.get(panels * pr.k * nr);
      if (!data) return false;
      packed = std::make_unique<PackedB>(ks, pr.b, pr.k, j0, ncols, data);
    }
    // Tasks are taken dynamically by the pool's threads (the caller included), so a thread that wakes late or loses
    // its core to another process still finds work, and nobody waits for it.
    if (threads > 1 && row_panels >= 2 * threads) {
      // About one A block of rows per task, a multiple of `threads` tasks of near-equal size.
      const int64_t tasks = ceil_div(ceil_div(row_panels, std::max<int64_t>(1, kMc / mr)), threads) * threads;
      pool().run(static_cast<size_t>(tasks), [&](size_t t) {
        const int64_t i0 = row_panels * static_cast<int64_t>(t) / tasks * mr;
        const int64_t i1 = std::min<int64_t>(pr.m, row_panels * (static_cast<int64_t>(t) + 1) / tasks * mr);
        // Tasks that start together (t and t + 1) start packing B far apart: one thread's groups never wait on the other's.
        const int64_t first =
            panels * (static_cast<int64_t>(t) % threads) / threads / PackedB::kPanelsPerClaim * PackedB::kPanelsPerClaim;
        if (!compute_block(ks, pr, packed.get(), j0, ncols, i0, i1, 0, panels, first)) ok = false;
      });
    } else if (threads > 1) {
      const int64_t per_task = PackedB::kPanelsPerClaim;  // column micro-panels per task: one packing claim
      pool().run(static_cast<size_t>(ceil_div(panels, per_task)), [&](size_t t) {
        const int64_t q0 = static_cast<int64_t>(t) * per_task, q1 = std::min(panels, q0 + per_task);
        if (!compute_block(ks, pr, packed.get(), j0, ncols, 0, pr.m, q0, q1, q0)) ok = false;
      });
    } else if (!compute_block(ks, pr, packed.get(), j0, ncols, 0, pr.m, 0, panels, 0)) {
      return false;
    }
  }
  return ok;
}

double flops_of(const Problem& pr) {
  return 2.0 * static_cast<double>(pr.m) * static_cast<double>(pr.n) * static_cast<double>(pr.k);
}

// One column block of B of a grouped product, packed into its wave's buffer (unless B is read in place).
struct GroupBlock {
  const Problem* pr;
  int64_t j0, ncols, panels;
  bool direct;
  int64_t packed_at;  // float offset in the wave's buffer
};

// Rows [i0, i1) of one block, visiting its B panels from `first` on.
struct GroupTask {
  int64_t block, i0, i1, first;
};

// Row tasks of about one packed A block each for a product of m rows in a grouped call.
int64_t row_tasks(const KernelSet& ks, int64_t m) { return ceil_div(ceil_div(m, ks.mr), std::max<int64_t>(1, kMc / ks.mr)); }

// A wave of a grouped call: blocks whose packed B fits kGroupedPackedB (or one larger block), all tasks in one job.
class GroupWave {
 public:
  explicit GroupWave(const KernelSet& ks) : ks_(ks) {}

  bool empty() const { return blocks_.empty(); }

  // Floats of packed B the block of `ncols` columns of `pr` needs.
  int64_t packed_floats(const Problem& pr, int64_t ncols, bool direct) const {
    return direct ? 0 : ceil_div(ncols, ks_.nr) * ks_.nr * pr.k;
  }
  bool fits(int64_t floats) const { return floats_ + floats <= kGroupedPackedB; }

  // Adds columns [j0, j0 + ncols) of `pr` as row tasks of about one A block each (the tasks of a block start packing
  // B at different panel groups, so threads that share the block do not wait on each other's packing).
  void add(const Problem& pr, int64_t j0, int64_t ncols, bool direct, int64_t threads) {
    const int64_t panels = ceil_div(ncols, ks_.nr), row_panels = ceil_div(pr.m, ks_.mr);
    const int64_t b = static_cast<int64_t>(blocks_.size());
    blocks_.push_back(GroupBlock{&pr, j0, ncols, panels, direct, floats_});
    floats_ += packed_floats(pr, ncols, direct);
    const int64_t tasks = row_tasks(ks_, pr.m);
    for (int64_t t = 0; t < tasks; t++) {
      const int64_t first =
          panels * (t % threads) / threads / PackedB::kPanelsPerClaim * PackedB::kPanelsPerClaim;
      tasks_.push_back(GroupTask{b, row_panels * t / tasks * ks_.mr,
                                 std::min(pr.m, row_panels * (t + 1) / tasks * ks_.mr), first});
    }
  }

  // Runs every task on the pool and starts a new wave.
  bool run() {
    float* buffer = floats_ > 0 ? scratch_grouped.get(floats_) : nullptr;
    if (floats_ > 0 && !buffer) return false;
    std::vector<std::unique_ptr<PackedB>> packed(blocks_.size());
    for (size_t i = 0; i < blocks_.size(); i++) {
      const GroupBlock& bl = blocks_[i];
      if (!bl.direct)
        packed[i] = std::make_unique<PackedB>(ks_, bl.pr->b, bl.pr->k, bl.j0, bl.ncols, buffer + bl.packed_at);
    }
    std::atomic<bool> ok{true};
    pool().run(tasks_.size(), [&](size_t i) {
      const GroupTask& t = tasks_[i];
      const GroupBlock& bl = blocks_[t.block];
      if (!compute_block(ks_, *bl.pr, packed[t.block].get(), bl.j0, bl.ncols, t.i0, t.i1, 0, bl.panels, t.first))
        ok = false;
    });
    blocks_.clear();
    tasks_.clear();
    floats_ = 0;
    return ok;
  }

 private:
  const KernelSet& ks_;
  std::vector<GroupBlock> blocks_;
  std::vector<GroupTask> tasks_;
  int64_t floats_ = 0;
};

}  // namespace

bool sgemm_batched(const GemmShape& shape, int64_t batch, const float* a, const float* b, float* c,
                   const Epilogue& epilogue, const BatchOffsets& offsets) {
  const int64_t m = shape.m, n = shape.n, k = shape.k;
  if (batch <= 0 || m <= 0 || n <= 0) return true;
  const int64_t ldc = shape.ldc ? shape.ldc : n;
  const KernelSet& ks = kernels();
  auto run = [&](int64_t i, bool parallel) {
    Epilogue ep = epilogue;
    if (ep.bias.data && offsets.bias) ep.bias.data += offsets.bias[i];
    if (ep.prelu.data && offsets.prelu) ep.prelu.data += offsets.prelu[i];
    const float* ai = a + (offsets.a ? offsets.a[i] : 0);
    const float* bi = b + (offsets.b ? offsets.b[i] : 0);
    return gemm_one(ks, resolve(shape, ai, bi, c + (offsets.c ? offsets.c[i] : i * m * ldc), &ep), parallel);
  };
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(std::max<int64_t>(k, 1));
  const int64_t threads = pool().size();
  const bool split_batch = threads > 1 && batch > 1 && flops * static_cast<double>(batch) >= kParallelBatchFlops &&
                           (batch % threads == 0 || batch >= 4 * threads || flops < kParallelFlops);
  if (split_batch) {
    std::atomic<bool> ok{true};
    pool().run(static_cast<size_t>(batch), [&](size_t i) {
      if (!run(static_cast<int64_t>(i), false)) ok = false;
    });
    return ok;
  }
  const bool parallel = threads > 1 && (few_rows_path(ks, m, shape.trans_b ? 1 : (shape.ldb ? shape.ldb : n))
                                            ? static_cast<double>(n) * static_cast<double>(k) >= kParallelFewRowsFloats
                                            : flops >= kParallelFlops);
  for (int64_t i = 0; i < batch; i++)
    if (!run(i, parallel)) return false;
  return true;
}

bool sgemm_grouped(const GemmProblem* problems, int64_t count) {
  const KernelSet& ks = kernels();
  static const Epilogue kNone{};
  std::vector<Problem> prs;
  prs.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
  double flops = 0;
  for (int64_t i = 0; i < count; i++) {
    const GemmProblem& g = problems[i];
    if (g.shape.m <= 0 || g.shape.n <= 0) continue;
    const Problem pr = resolve(g.shape, g.a, g.b, g.c, &kNone);
    if (pr.k <= 0) {
      fill_empty_product(ks, pr);
      continue;
    }
    prs.push_back(pr);
    flops += flops_of(pr);
  }
  const int64_t threads = pool().size();
  // Few or small products: one at a time, each on the pool when large enough (gemm_one's own splits).
  if (threads == 1 || flops < kParallelBatchFlops || prs.size() < static_cast<size_t>(threads)) {
    for (const Problem& pr : prs)
      if (!gemm_one(ks, pr, threads > 1 && flops_of(pr) >= kParallelFlops)) return false;
    return true;
  }
  GroupWave wave(ks);
  for (const Problem& pr : prs) {
    // A product much deeper than wide (the weight gradient of a large group) that would be cut into several row tasks,
    // each reading all of B, splits its depth on its own instead; with one row task it reads B once as it is.
    if (row_tasks(ks, pr.m) > 1 && depth_chunks(pr, threads)) {
      if (!wave.empty() && !wave.run()) return false;
      if (!gemm_one(ks, pr, true)) return false;
      continue;
    }
    const auto [direct, nc] = column_blocks(ks, pr);
    for (int64_t j0 = 0; j0 < pr.n; j0 += nc) {
      const int64_t ncols = std::min(nc, pr.n - j0);
      const bool full = !wave.empty() && !wave.fits(wave.packed_floats(pr, ncols, direct));
      if (full && !wave.run()) return false;
      wave.add(pr, j0, ncols, direct, threads);
    }
  }
  return wave.empty() || wave.run();
}

const char* sgemm_kernel_name() { return kernels().name; }

}  // namespace moelab
