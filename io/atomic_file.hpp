// Crash-safe file writes: a reader sees either the old file or the whole new
// one, never a torn mix, even if the process is killed mid-write.
#pragma once

#include <string>
#include <string_view>

namespace anneal {

// Writes `bytes` to `path` atomically: a temporary file in the same directory
// is written, fsync'ed, renamed over `path`, and the directory is fsync'ed so
// the rename itself is durable. On any failure the temporary file is removed,
// `path` is untouched, and anneal::RunError is thrown naming the path and the
// system error.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads a whole file. Throws anneal::InvalidInput naming the path if it
// cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace anneal
