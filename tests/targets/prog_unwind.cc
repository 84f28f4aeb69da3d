// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Non-local exits through frames that allocate (tests/programs_test.sh):
//
//   - longjmp: 2000 rounds; each descends 20 frames, each frame allocating
//     a block (registered, freed by main after the jump) before the deepest
//     longjmps back to main; each round also leaks 1000 bytes in JmpLeak.
//   - C++ exceptions: 20000 throws of std::runtime_error (a std::string
//     inside, so the throw allocates) through 10 frames that each hold a
//     std::vector and a std::string (RAII frees them during unwinding);
//     every 10th round leaks 1000 bytes in ThrowLeak first.
//   - std::bad_alloc: 100 impossible `new`s caught.
//
// Prints the counts and exits 0. Leaks: JmpLeak 2000 x 1000 bytes,
// ThrowLeak 2000 x 1000 bytes.

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::jmp_buf g_jump;
void* g_frames[64];
int g_depth_reached = 0;
// volatile: stores the compiler must keep, so the blocks are not elided.
void* volatile g_kept[4000];
int g_kept_n = 0;
char* volatile g_huge;

}  // namespace

__attribute__((noinline)) void JmpLeak() {
  char* p = static_cast<char*>(std::malloc(1000));
  std::memset(p, 1, 1000);
  g_kept[g_kept_n++] = p;
}

__attribute__((noinline)) void ThrowLeak() {
  char* p = new char[1000];
  std::memset(p, 2, 1000);
  g_kept[g_kept_n++] = p;
}

namespace {

// noipa: not found noreturn, so the recursion below has a visible end.
__attribute__((noipa)) void JumpBack() { std::longjmp(g_jump, 1); }

__attribute__((noinline)) void Descend(int depth) {
  g_frames[depth] = std::malloc(100 + static_cast<std::size_t>(depth) * 8);
  g_depth_reached = depth;
  if (depth == 19) {
    JumpBack();
    return;
  }
  Descend(depth + 1);
  __asm__ volatile("" ::: "memory");  // not a tail call
}

// One round: down 20 frames and back by longjmp; frees what the frames
// allocated. Returns the blocks freed (no local lives across setjmp).
__attribute__((noinline)) int JumpRound() {
  if (setjmp(g_jump) == 0) {
    Descend(0);
    return 0;  // never: Descend jumps back
  }
  for (int d = 0; d <= g_depth_reached; ++d) std::free(g_frames[d]);
  return g_depth_reached + 1;
}

__attribute__((noinline)) int Throwing(int depth, int round) {
  std::vector<int> held(50 + depth);
  std::string name(40 + depth, 'x');
  if (depth == 9) {
    throw std::runtime_error(std::string(100, 'e') + std::to_string(round));
  }
  return Throwing(depth + 1, round) + static_cast<int>(held.size()) +
         static_cast<int>(name.size());
}

}  // namespace

int main() {
  long freed = 0;
  for (int round = 0; round < 2000; ++round) {
    JmpLeak();
    freed += JumpRound();
  }
  std::printf("longjmp: 2000 rounds, %ld blocks freed after the jumps\n",
              freed);

  int caught = 0;
  for (int round = 0; round < 20000; ++round) {
    if (round % 10 == 0) ThrowLeak();
    try {
      Throwing(0, round);
    } catch (const std::runtime_error& e) {
      if (std::strlen(e.what()) >= 100) ++caught;
    }
  }
  std::printf("exceptions: %d caught\n", caught);

  int bad = 0;
  for (int i = 0; i < 100; ++i) {
    try {
      volatile std::size_t huge = static_cast<std::size_t>(1) << 62;
      g_huge = new char[huge];  // kept in a global: not elided
      delete[] g_huge;          // never reached
    } catch (const std::bad_alloc&) {
      ++bad;
    }
  }
  std::printf("bad_alloc: %d caught\n", bad);
  return 0;
}
