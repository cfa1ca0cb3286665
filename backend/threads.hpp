// One thread budget for the whole process. oneDNN (OpenMP-threaded in Debian)
// and Anneal's own parallel loops share it, so the cores are never
// oversubscribed.
#pragma once

namespace anneal {

// Sets the number of threads every kernel may use (>= 1). The initial value
// comes from ANNEAL_NUM_THREADS, else the hardware concurrency.
void set_num_threads(int n);
// The threads the calling thread's kernels may use: the budget, or a share
// of it while a ThreadShare is alive on this thread.
int num_threads();
// The whole budget, whatever share the calling thread runs with.
int thread_budget();

// Runs the calling thread's kernels (oneDNN included) on `n` threads until
// destroyed: how concurrent branches split the budget instead of each
// taking all of it.
// For a program's main(): unless OMP_WAIT_POLICY is set, re-executes the
// program with OMP_WAIT_POLICY=passive (libgomp reads it once, before main).
// libgomp's default keeps idle threads spinning; when another process holds
// one of the cores, a 2-thread step then runs 5-40x slower than on 1 thread,
// where with passive waiting it never falls below 1-thread speed. Returns if
// the variable is already set or the re-exec fails.
void prefer_passive_omp_waiting(char** argv);

class ThreadShare {
 public:
  explicit ThreadShare(int n);
  ~ThreadShare();
  ThreadShare(const ThreadShare&) = delete;
  ThreadShare& operator=(const ThreadShare&) = delete;

 private:
  int saved_;
};

}  // namespace anneal
