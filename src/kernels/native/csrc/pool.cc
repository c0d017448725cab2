#include "pool.h"
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#include "ops.h"

namespace dsts {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// The job word: generation (16 bits) | chunk count (24) | next chunk (24). Workers claim a chunk by
// compare-and-swap on the whole word, so a claim can only succeed for the job it read the count of.
constexpr uint64_t IDX_BITS = 24, CNT_BITS = 24, IDX_MASK = (1ull << IDX_BITS) - 1, CNT_MASK = (1ull << CNT_BITS) - 1;
inline uint64_t genOf(uint64_t w) { return w >> (IDX_BITS + CNT_BITS); }
inline uint64_t cntOf(uint64_t w) { return (w >> IDX_BITS) & CNT_MASK; }
inline uint64_t idxOf(uint64_t w) { return w & IDX_MASK; }

struct Pool {
  std::atomic<uint64_t> word{0};
  std::atomic<int64_t> done{0};
  // Two job slots: a job's function is read only after one of its chunks was claimed, which cannot
  // happen once the caller has moved on two jobs.
  const std::function<void(int64_t)>* fn[2] = {nullptr, nullptr};
  std::vector<std::thread> workers;
  std::mutex m;
  std::condition_variable cv;
  std::atomic<int> sleeping{0};
  std::atomic<bool> stop{false};
  int started = 0;

  // Claims chunks of the job in `w`'s generation until none is left; false when the job moved on.
  void drain(uint64_t gen) {
    uint64_t w = word.load(std::memory_order_acquire);
    for (;;) {
      if (genOf(w) != gen || idxOf(w) >= cntOf(w)) return;
      if (!word.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel)) continue;
      (*fn[gen & 1])(int64_t(idxOf(w)));
      done.fetch_add(1, std::memory_order_release);
      w = word.load(std::memory_order_acquire);
    }
  }

  void work() {
    uint64_t seen = genOf(word.load(std::memory_order_acquire));
    while (!stop.load(std::memory_order_relaxed)) {
      // Spin ~50 µs for the next job, then sleep until one is announced.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
      uint64_t w;
      int spins = 0;
      while (genOf(w = word.load(std::memory_order_acquire)) == seen) {
        cpuRelax();
        if (++spins % 64 == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lock(m);
          sleeping++;
          cv.wait(lock, [&] { return stop.load() || genOf(word.load(std::memory_order_acquire)) != seen; });
          sleeping--;
          if (stop.load()) return;
        }
      }
      seen = genOf(w);
      drain(seen);
    }
  }

  void ensure(int n) {
    while (started < n) {
      workers.emplace_back([this] { work(); });
      started++;
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destruction order
  return *p;
}

std::mutex callerLock;  // one parallel job at a time (the JS thread is the only caller)

}  // namespace

void parallelFor(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  const int nt = threads();
  if (nt <= 1 || n == 1) {
    for (int64_t i = 0; i < n; i++) fn(i);
    return;
  }
  std::lock_guard<std::mutex> guard(callerLock);
  Pool& p = pool();
  p.ensure(nt - 1);
  const uint64_t gen = (genOf(p.word.load()) + 1) & 0xffff;
  p.fn[gen & 1] = &fn;
  p.done.store(0, std::memory_order_relaxed);
  p.word.store((gen << (IDX_BITS + CNT_BITS)) | (uint64_t(n) << IDX_BITS), std::memory_order_release);
  if (p.sleeping.load() > 0) {
    std::lock_guard<std::mutex> lock(p.m);
    p.cv.notify_all();
  }
  p.drain(gen);
  // Only chunks a worker has claimed are left: wait for those.
  while (p.done.load(std::memory_order_acquire) < n) cpuRelax();
}

void stopPool() {
  Pool& p = pool();
  p.stop.store(true);
  {
    std::lock_guard<std::mutex> lock(p.m);
    p.cv.notify_all();
  }
  for (auto& t : p.workers) t.join();
  p.workers.clear();
  p.started = 0;
  p.stop.store(false);
}

}  // namespace dsts
