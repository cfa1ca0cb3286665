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

TEST_CASE("every compound kernel names chunkable ops and wires them consistently") {
  CHECK(chunk_compounds().size() >= 2);  // Adam and SGD momentum
  for (const ChunkCompound& c : chunk_compounds()) {
    INFO("compound of ", c.ops.size(), " ops, first ", c.ops.front());
    const bool has_kernel = c.fn != nullptr;
    REQUIRE(has_kernel);
    REQUIRE(c.ops.size() == c.inputs.size());
    CHECK(c.ops.size() >= 2);
    CHECK(c.ops.size() <= kMaxCompoundMembers);
    std::set<char> letters;
    for (std::size_t k = 0; k < c.ops.size(); ++k) {
      const OpDef* op = find_op(c.ops[k]);
      REQUIRE(op != nullptr);
      const bool chunkable = op->chunk != nullptr;
      CHECK(chunkable);
      const auto inputs = static_cast<int>(c.inputs[k].size());
      CHECK(inputs >= op->min_inputs);
      CHECK((op->max_inputs < 0 || inputs <= op->max_inputs));
      for (char x : c.inputs[k]) {
        if (x >= '0' && x <= '9') CHECK(static_cast<std::size_t>(x - '0') < k);  // an earlier member
        else letters.insert(x);
      }
    }
    // fn receives the outside operands as letters a, b, c, ... with none skipped.
    CHECK(letters.size() <= kMaxCompoundInputs);
    CHECK(*letters.begin() == 'a');
    CHECK(*letters.rbegin() == static_cast<char>('a' + letters.size() - 1));
    for (char s : c.scalars) CHECK(letters.count(s) == 1);
  }
}
