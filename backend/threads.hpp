// One thread budget for the whole process. oneDNN (OpenMP-threaded in Debian)
// and Anneal's own parallel loops share it, so the cores are never
// oversubscribed.
#pragma once

namespace anneal {

// Sets the number of threads every kernel may use (>= 1). The initial value
// comes from ANNEAL_NUM_THREADS, else the hardware concurrency.
void set_num_threads(int n);
int num_threads();

}  // namespace anneal
