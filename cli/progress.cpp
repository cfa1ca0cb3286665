#include "cli/progress.hpp"

#include <cstdio>

namespace anneal::cli {

namespace {

std::string clock_time(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  auto s = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(bool live, int epochs, std::int64_t steps_per_epoch)
    : live_(live), epochs_(epochs), per_epoch_(steps_per_epoch) {}

void Progress::start_epoch(int epoch, std::int64_t first_batch) {
  epoch_ = epoch;
  first_batch_ = first_batch;
  epoch_start_ = Clock::now();
  last_draw_ = Clock::time_point{};
}

void Progress::update(std::int64_t batch, double loss) {
  if (!live_) return;
  auto now = Clock::now();
  if (batch < per_epoch_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(batch - first_batch_) / elapsed : 0;
  const std::int64_t left = (per_epoch_ - batch) + static_cast<std::int64_t>(epochs_ - epoch_ - 1) * per_epoch_;
  constexpr int width = 24;
  const int filled = per_epoch_ > 0 ? static_cast<int>(width * batch / per_epoch_) : width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %lld/%lld  loss %.4f  %.1f steps/s  ETA %s", epoch_ + 1, epochs_,
               bar.c_str(), static_cast<long long>(batch), static_cast<long long>(per_epoch_), loss, rate,
               rate > 0 ? clock_time(static_cast<double>(left) / rate).c_str() : "--:--");
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (live_ && drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

void Progress::line(const std::string& text) {
  clear();
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

}  // namespace anneal::cli
