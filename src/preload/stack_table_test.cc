// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The stack table: one record per distinct stack, found again by its
// frames, and the hint the sampler passes (the thread's last record), which
// must be used only when it is the very same stack.

#include "preload/stack_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace memmon::preload {
namespace {

// Two stacks that differ in their outermost frame only.
class StackTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(table_.Init(64, 1 << 16)); }
  // Held by reference: a StackTable ends in a flexible array member, so it
  // cannot be a member of a class that is derived from.
  std::unique_ptr<StackTable> owned_ = std::make_unique<StackTable>();
  StackTable& table_ = *owned_;
  const uintptr_t a_[3] = {0x401000, 0x402000, 0x403000};
  const uintptr_t b_[3] = {0x401000, 0x402000, 0x403004};
};

TEST_F(StackTableTest, InternsOneRecordPerStack) {
  StackRecord* ra = table_.Intern(a_, 3);
  StackRecord* rb = table_.Intern(b_, 3);
  ASSERT_NE(ra, table_.overflow());
  ASSERT_NE(rb, table_.overflow());
  EXPECT_NE(ra, rb);
  EXPECT_EQ(table_.Intern(a_, 3), ra);
  EXPECT_EQ(table_.Intern(a_, 2), table_.Intern(b_, 2));  // same two frames
  EXPECT_EQ(table_.count(), 3u);
  EXPECT_EQ(table_.Intern(a_, 0), table_.overflow());
}

TEST_F(StackTableTest, HintIsUsedOnlyForItsOwnStack) {
  StackRecord* ra = table_.Intern(a_, 3);
  StackRecord* rb = table_.Intern(b_, 3);
  EXPECT_EQ(table_.Intern(a_, 3, ra), ra);
  // A wrong hint (another stack, a prefix of it, the overflow record) is
  // ignored: the index answers.
  EXPECT_EQ(table_.Intern(a_, 3, rb), ra);
  EXPECT_EQ(table_.Intern(b_, 3, ra), rb);
  StackRecord* prefix = table_.Intern(a_, 2, ra);
  EXPECT_NE(prefix, ra);
  EXPECT_EQ(prefix->depth, 2u);
  EXPECT_EQ(table_.Intern(a_, 3, table_.overflow()), ra);
  EXPECT_EQ(table_.count(), 3u);  // no record was added for a hint
}

}  // namespace
}  // namespace memmon::preload
