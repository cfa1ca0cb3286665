// Training progress on stderr. On a terminal: a live bar redrawn in place at
// most ten times a second (epoch, step, running loss, steps/s, ETA of the
// run); otherwise (a log file, CI) nothing but one plain line per epoch.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace anneal::cli {

class Progress {
 public:
  // live: draw the bar (stderr is a terminal). Steps count over the whole run.
  Progress(bool live, int epochs, std::int64_t steps_per_epoch);

  void start_epoch(int epoch, std::int64_t first_batch);
  // `batch` batches of the current epoch are done; `loss` is the epoch's
  // running mean.
  void update(std::int64_t batch, double loss);
  // Replaces the bar with the epoch's summary line.
  void line(const std::string& text);
  // Clears the bar (before an error message).
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  bool live_;
  int epochs_;
  std::int64_t per_epoch_;
  int epoch_ = 0;
  std::int64_t first_batch_ = 0;
  Clock::time_point epoch_start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace anneal::cli
