// Every op in the registry has a test case, and every differentiable op a
// gradient check: adding an op without one fails here.
#include <doctest/doctest.h>

#include <set>

#include "tests/op_check.hpp"

using namespace anneal;

TEST_CASE("every registered op has a kernel test and a gradient check or a no-gradient declaration") {
  std::set<std::string> tested, grad_checked;
  for (const auto& c : test::registered_cases())
    for (const auto& op : c.ops) {
      tested.insert(op);
      if (c.check_grad && !c.stochastic) grad_checked.insert(op);
    }
  for (const OpDef* op : all_ops()) {
    INFO("op ", op->name);
    bool source = op->role == OpRole::input || op->role == OpRole::param || op->role == OpRole::state;
    if (source) {
      CHECK(op->not_differentiable != nullptr);
      continue;
    }
    CHECK(bool(op->fast));
    CHECK(bool(op->ref));
    CHECK(tested.count(op->name) == 1);
    if (op->not_differentiable) {
      CHECK_FALSE(bool(op->grad));
    } else {
      CHECK(bool(op->grad));
      CHECK(grad_checked.count(op->name) == 1);
    }
  }
}

TEST_CASE("op names are unique and findable") {
  std::set<std::string> names;
  for (const OpDef* op : all_ops()) {
    CHECK(names.insert(op->name).second);
    CHECK(find_op(op->name) == op);
  }
  CHECK(find_op("no_such_op") == nullptr);
}
