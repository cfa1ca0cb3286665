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

}  // namespace anneal
