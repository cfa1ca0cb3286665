// Exceptions that name the culprit. Library code never aborts the process.
#pragma once
#include <stdexcept>
#include <string>

namespace anneal {

// Base of every error Anneal throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from the user: a wrong shape, a malformed file, an unknown name.
// The command line maps it to exit code 2.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

// A failure while running: NaN/Inf in training, a kernel error.
// The command line maps it to exit code 1.
class RunError : public Error {
 public:
  using Error::Error;
};

// A message as one printable line: newlines and control characters escaped
// (names from hostile files may carry them), so "one line on stderr" holds.
inline std::string one_line(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    else out += static_cast<char>(c);
  }
  return out;
}

}  // namespace anneal
