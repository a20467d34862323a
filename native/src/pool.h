// A persistent thread pool sized to the cores this process may use (MOELAB_THREADS overrides, at most kMaxThreads; a
// thread the system refuses to start is done without; idle threads poll for MOELAB_SPIN_US µs, default 1000, before
// sleeping). The calling thread
// takes part in every job; a job started from inside a job runs serially on the caller (no nested oversubscription).
#pragma once
#include <cstddef>
#include <functional>

namespace moelab {

// Upper bound of MOELAB_THREADS: larger values are clamped to it (beyond a few threads per core they only contend).
inline constexpr int kMaxThreads = 1024;

class ThreadPool {
 public:
  virtual ~ThreadPool() = default;
  // Threads that run a job, the caller included.
  virtual int size() const = 0;
  // Threads asked for (MOELAB_THREADS after clamping, or the core count); size() is less when the system refused some.
  virtual int requested() const = 0;
  // Runs task(i) for every i in [0, n) and returns when all are done.
  virtual void run(size_t n, const std::function<void(size_t)>& task) = 0;
};

ThreadPool& pool();

// Splits [0, n) into at most pool().size() contiguous ranges of at least `grain` items and runs body(begin, end)
// on each; small n runs inline on the caller.
void parallel_for(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)>& body);

}  // namespace moelab
