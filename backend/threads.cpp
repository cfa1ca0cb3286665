#include "backend/threads.hpp"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

#include "backend/error.hpp"

namespace anneal {
namespace {

int initial_threads() {
  if (const char* env = std::getenv("ANNEAL_NUM_THREADS")) {
    try {
      int n = std::stoi(env);
      if (n >= 1) return n;
    } catch (const std::exception&) {
    }
    throw InvalidInput(std::string("ANNEAL_NUM_THREADS='") + env + "' is not a positive integer");
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

thread_local int tls_share = 0;  // 0: no share, use the budget

std::atomic<int>& budget() {
  static std::atomic<int> n{[] {
    int t = initial_threads();
    omp_set_num_threads(t);
    return t;
  }()};
  return n;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw InvalidInput("set_num_threads: need at least 1 thread, got " + std::to_string(n));
  budget().store(n);
  // Why OpenMP: Debian's oneDNN runs its kernels on libgomp's pool, so our
  // elementwise loops use the same pool rather than a second one whose
  // workers would fight libgomp's spinning threads for the same cores.
  omp_set_num_threads(n);
}

int thread_budget() { return budget().load(); }

int num_threads() { return tls_share > 0 ? tls_share : budget().load(); }

ThreadShare::ThreadShare(int n) : saved_(tls_share) {
  tls_share = n < 1 ? 1 : n;
  omp_set_num_threads(tls_share);  // a per-thread setting: oneDNN reads it
}

ThreadShare::~ThreadShare() {
  tls_share = saved_;
  omp_set_num_threads(num_threads());
}

}  // namespace anneal

namespace anneal {

void bounded_omp_spinning(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (::setenv("GOMP_SPINCOUNT", "10000", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: the exec failed; run on with libgomp's default.
}

}  // namespace anneal
