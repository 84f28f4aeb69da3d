// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/procfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace memmon::internal {
namespace {

// A real /proc/<pid>/stat line (Linux 6.x), command name with a space and a
// parenthesis to check that parsing starts after the *last* ')'.
constexpr char kStat[] =
    "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1234 0 56 0 700 300 0 0 "
    "20 0 7 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 "
    "17664 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ParseProcStat, ReadsTheFieldsMemmonUses) {
  ProcStat st;
  ASSERT_TRUE(ParseProcStat(kStat, &st));
  EXPECT_EQ(st.state, 'S');
  EXPECT_EQ(st.minor_faults, 1234u);
  EXPECT_EQ(st.major_faults, 56u);
  EXPECT_EQ(st.utime_ticks, 700u);
  EXPECT_EQ(st.stime_ticks, 300u);
  EXPECT_EQ(st.num_threads, 7u);
  EXPECT_EQ(st.vsize_bytes, 104857600u);
  EXPECT_EQ(st.rss_pages, 2560u);
}

TEST(ParseProcStat, RejectsTruncatedAndGarbage) {
  ProcStat st;
  std::string text(kStat);
  EXPECT_FALSE(ParseProcStat(text.substr(0, text.size() / 2), &st));
  EXPECT_FALSE(ParseProcStat("", &st));
  EXPECT_FALSE(ParseProcStat("4242 no parenthesis S 1 2 3", &st));
  EXPECT_FALSE(
      ParseProcStat("1 (x) S 1 2 3 4 5 6 x 8 9 10 11 12 13 14 15 16 "
                    "17 18 19 20 21 22 23",
                    &st));
}

TEST(ParseKeyedValue, StatusAndSmapsRollup) {
  constexpr char kStatus[] =
      "Name:\tmemmon\nVmPeak:\t  200000 kB\nVmRSS:\t    5120 kB\n"
      "Threads:\t7\nFDSize:\t64\n";
  EXPECT_EQ(ParseKeyedValue(kStatus, "VmRSS"), 5120u * 1024);
  EXPECT_EQ(ParseKeyedValue(kStatus, "Threads"), 7u);
  EXPECT_EQ(ParseKeyedValue(kStatus, "VmSwap"), std::nullopt);
  // "Vm" must not match "VmPeak".
  EXPECT_EQ(ParseKeyedValue(kStatus, "Vm"), std::nullopt);

  constexpr char kRollup[] =
      "55d0c0a00000-7ffd6f5fe000 ---p 00000000 00:00 0  [rollup]\n"
      "Rss:                8964 kB\nPss:                2345 kB\n"
      "Pss_Anon:           1000 kB\n";
  EXPECT_EQ(ParseKeyedValue(kRollup, "Pss"), 2345u * 1024);
  EXPECT_EQ(ParseKeyedValue("Pss: lots kB\n", "Pss"), std::nullopt);
}

TEST(CountDirents, SkipsDotEntries) {
  // Build a getdents64 buffer by hand: ".", "..", "0", "1", "17".
  alignas(8) char buf[256] = {};
  long off = 0;
  for (const char* name : {".", "..", "0", "1", "17"}) {
    uint16_t reclen = 24;
    std::memcpy(buf + off + 16, &reclen, sizeof(reclen));
    std::strcpy(buf + off + 19, name);
    off += reclen;
  }
  EXPECT_EQ(CountDirents(buf, off), 3u);
}

TEST(CountDirents, StaysInsideTheBuffer) {
  // Found by the fuzzer: a record whose length runs past the buffer, and a
  // name at the buffer's very end. (The ASan build checks the reads.)
  alignas(8) char buf[24] = {};
  uint16_t reclen = 200;
  std::memcpy(buf + 16, &reclen, sizeof(reclen));
  EXPECT_EQ(CountDirents(buf, sizeof(buf)), 0u);
  reclen = 20;  // room for one name byte: "." without its terminator
  std::memcpy(buf + 16, &reclen, sizeof(reclen));
  buf[19] = '.';
  EXPECT_EQ(CountDirents(buf, 20), 1u);
}

// The fuzzer's seeds (tests/fuzz/procfs/) go through every parser in the
// sanitizer builds too.
TEST(ProcParsers, SeedCorpus) {
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(MEMMON_PROCFS_SEEDS)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    ProcStat st;
    (void)ParseProcStat(text, &st);
    (void)ParseKeyedValue(text, "VmRSS");
    (void)CountDirents(text.data(), static_cast<long>(text.size()));
    ++files;
  }
  EXPECT_GE(files, 4);
  std::ifstream stat_seed(std::string(MEMMON_PROCFS_SEEDS) + "/stat_self");
  std::string line((std::istreambuf_iterator<char>(stat_seed)), {});
  ProcStat st;
  EXPECT_TRUE(ParseProcStat(line, &st));  // a real /proc/self/stat parses
}

TEST(ProcReader, ReadsThisProcess) {
  // Sanitizer runtimes start a helper thread with the first thread; start
  // it now so the thread count below sees only ours.
  std::thread([] {}).join();
  ProcReader reader;
  ASSERT_TRUE(reader.Open().ok());
  Sample s;
  ASSERT_TRUE(reader.Read(&s, /*with_pss=*/true));
  ASSERT_TRUE(s.rss_bytes && s.virtual_bytes && s.threads && s.open_fds &&
              s.pss_bytes && s.minor_faults && s.cpu_seconds);
  EXPECT_GT(*s.rss_bytes, 0u);
  EXPECT_GE(*s.virtual_bytes, *s.rss_bytes);
  EXPECT_GE(*s.threads, 1u);
  EXPECT_GT(*s.pss_bytes, 0u);

  // Descriptors and threads are counted, not guessed.
  int extra[10];
  for (int& fd : extra) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  Sample more;
  ASSERT_TRUE(reader.Read(&more, false));
  EXPECT_EQ(*more.open_fds, *s.open_fds + 10);
  EXPECT_FALSE(more.pss_bytes.has_value());  // not requested: unknown, not 0
  for (int fd : extra) close(fd);

  std::thread t([&] {
    Sample during;
    ASSERT_TRUE(reader.Read(&during, false));
    EXPECT_EQ(*during.threads, *s.threads + 1);
  });
  t.join();
}

TEST(ProcReader, MissingProcessIsNotFound) {
  // PIDs are below /proc/sys/kernel/pid_max (at most 2^22).
  ProcReader reader(1 << 23);
  Status s = reader.Open();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/proc/8388608"), std::string::npos);
}

}  // namespace
}  // namespace memmon::internal
