#include "pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace moelab {
namespace {

thread_local bool in_job = false;

int default_threads() {
  if (const char* env = std::getenv("MOELAB_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n < kMaxThreads ? n : kMaxThreads;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

// How long an idle thread keeps polling for the next job before it sleeps (MOELAB_SPIN_US, default 1000 µs):
// kernels come back to back in a training step with JS work between them, and waking a sleeping thread costs ~0.1 ms
// on a VM. Measured on the 2-core machine, alternating runs: 1000 µs gives 1024³ tfjs matmuls 3-5% more than 100 µs
// and trims the benchmark transformer step by ~3% (OpenMP runtimes spin for a similar time by default).
std::chrono::microseconds spin_time() {
  if (const char* env = std::getenv("MOELAB_SPIN_US")) {
    const int us = std::atoi(env);
    if (us >= 0) return std::chrono::microseconds(us);
  }
  return std::chrono::microseconds(1000);
}

// Polls `done` until it is true or `limit` passed; true if it became true.
template <typename Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    for (int i = 0; i < 16; i++) __builtin_ia32_pause();
  }
  return true;
}

// One run(): its own counters, so a thread still finishing one job can never take or count an item of the next.
struct Job {
  const std::function<void(size_t)>* task;
  size_t n;
  std::atomic<size_t> next{0};
  std::atomic<size_t> pending;
};

class Pool final : public ThreadPool {
 public:
  // Starts threads - 1 workers; when the system refuses a thread (EAGAIN: a process or memory limit), runs with the
  // ones it got instead of letting std::system_error abort the process.
  explicit Pool(int threads) : requested_(threads), spin_(spin_time()) {
    for (int i = 1; i < threads; i++) {
      try {
        workers_.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        break;
      }
    }
    threads_ = static_cast<int>(workers_.size()) + 1;
  }

  ~Pool() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  int size() const override { return threads_; }
  int requested() const override { return requested_; }

  void run(size_t n, const std::function<void(size_t)>& task) override {
    if (n == 0) return;
    if (n == 1 || threads_ == 1 || in_job) {
      for (size_t i = 0; i < n; i++) task(i);
      return;
    }
    std::lock_guard<std::mutex> job_lock(job_mu_);  // one job at a time (JavaScript calls from one thread anyway)
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->n = n;
    job->pending.store(n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    drain(*job);
    auto finished = [&] { return job->pending.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished, spin_)) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, finished);
    }
    std::lock_guard<std::mutex> lock(mu_);
    job_.reset();  // a thread that still holds the job finds no item left and never calls `task` again
  }

 private:
  void drain(Job& job) {
    in_job = true;
    for (size_t i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1)) {
      (*job.task)(i);
      if (job.pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_all();
      }
    }
    in_job = false;
  }

  void work() {
    unsigned long seen = 0;
    for (;;) {
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, spin_);
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        if (stop_) return;
        seen = generation_.load(std::memory_order_acquire);
        job = job_;
      }
      if (job) drain(*job);
    }
  }

  const int requested_;
  int threads_ = 1;  // set once in the constructor, before any job
  const std::chrono::microseconds spin_;
  std::vector<std::thread> workers_;
  std::mutex mu_, job_mu_;
  std::condition_variable wake_, done_;
  std::shared_ptr<Job> job_;  // the job being run, guarded by mu_
  std::atomic<unsigned long> generation_{0};
  bool stop_ = false;  // guarded by mu_
};

}  // namespace

ThreadPool& pool() {
  static Pool p(default_threads());
  return p;
}

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& body) {
  if (n == 0) return;
  const size_t g = grain > 0 ? grain : 1;
  size_t chunks = (n + g - 1) / g;
  const size_t threads = static_cast<size_t>(pool().size());
  if (chunks > threads) chunks = threads;
  if (chunks <= 1) {
    body(0, n);
    return;
  }
  const size_t per = (n + chunks - 1) / chunks;
  pool().run(chunks, [&](size_t c) {
    const size_t begin = c * per;
    const size_t end = begin + per < n ? begin + per : n;
    if (begin < end) body(begin, end);
  });
}

}  // namespace moelab
