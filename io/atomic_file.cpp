#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "backend/error.hpp"

namespace anneal {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw RunError(what + " " + path + ": " + std::strerror(err));
}

// Closes a descriptor on scope exit unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  if (path.empty() || path.back() == '/') throw RunError("write_file_atomic: bad path '" + path + "'");
  // Unique per process and per call, so concurrent writers (threads or
  // processes) of the same target never share a temporary file.
  static std::atomic<unsigned long> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);

  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (f.fd < 0) fail("cannot create", tmp, errno);
  auto abandon = [&](const char* what) {
    int err = errno;
    ::close(f.fd);
    f.fd = -1;
    ::unlink(tmp.c_str());
    fail(what, tmp, err);
  };
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(f.fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("cannot write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // Data must be on disk before the rename makes it visible under `path`;
  // otherwise a crash can leave `path` naming an empty or partial file.
  if (::fsync(f.fd) != 0) abandon("cannot fsync");
  int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename to", path, err);
  }
  // The rename lives in the directory: fsync it so the new name survives a
  // power loss. Some filesystems cannot fsync directories (EINVAL); the
  // rename is still atomic there.
  const std::string dir = dir_of(path);
  Fd d;
  d.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd < 0) fail("cannot open directory", dir, errno);
  if (::fsync(d.fd) != 0 && errno != EINVAL) fail("cannot fsync directory", dir, errno);
}

std::string read_file(const std::string& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) throw InvalidInput(path + ": cannot open file: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw InvalidInput(path + ": cannot read file: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InvalidInput(path + ": is a directory, not a file");
  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InvalidInput(path + ": cannot read file: " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace anneal
