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
// For a program's main(): unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set,
// re-executes the program with GOMP_SPINCOUNT=10000 (libgomp reads it once,
// before main): an idle OpenMP thread spins briefly, then sleeps.
// Why bounded: a training step opens dozens of parallel regions a few
// microseconds apart. Sleeping at once (passive) pays a wake-up for each,
// which made 2-thread steps 1.3-1.8x slower than short spinning on a quiet
// machine; spinning long (libgomp's default) made them 5-40x slower when
// another process holds a core, where a 10000 spin count costs 1.4-1.7x.
// Returns if either variable is already set or the re-exec fails.
void bounded_omp_spinning(char** argv);

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
