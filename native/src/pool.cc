#include "pool.h"

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace moelab {
namespace {

thread_local bool in_job = false;

int default_threads() {
  if (const char* env = std::getenv("MOELAB_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

class Pool final : public ThreadPool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { work(); });
  }

  ~Pool() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  int size() const override { return threads_; }

  void run(size_t n, const std::function<void(size_t)>& task) override {
    if (n == 0) return;
    if (n == 1 || threads_ == 1 || in_job) {
      for (size_t i = 0; i < n; i++) task(i);
      return;
    }
    std::lock_guard<std::mutex> job_lock(job_mu_);  // one job at a time (JavaScript calls from one thread anyway)
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = &task;
      n_ = n;
      next_.store(0);
      pending_.store(n);
      generation_++;
    }
    wake_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_.load() == 0; });
    task_ = nullptr;
  }

 private:
  void drain() {
    in_job = true;
    for (size_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) {
      (*task_)(i);
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_all();
      }
    }
    in_job = false;
  }

  void work() {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (task_ == nullptr) continue;
      }
      drain();
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_, job_mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::atomic<size_t> pending_{0};
  unsigned long generation_ = 0;
  bool stop_ = false;
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
