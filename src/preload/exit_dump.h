// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The heap at an ending that runs no exit handlers: a fatal signal (abort,
// SIGSEGV, SIGTERM, ... at their default disposition) or _exit/_Exit.
// Writing a pprof there is not safe (it loads the writer, symbolizes and
// allocates; the signal may have come inside malloc, with its locks
// held), so the live samples, the stack table and a copy of
// /proc/self/maps are written raw, with write(2) alone, to
// DIR/heap[.pidPID].raw (memmon/memmon_preload.h); memmon run, and memmon
// leaks on the directory, turn it into heap.pb.gz afterwards.
//
// The signal handlers are installed only where the disposition is SIG_DFL
// when the sampler starts; a handler the program installs later replaces
// ours (its own ending is then the program's). Ours dumps, restores
// SIG_DFL and lets the signal kill the process as it would have: a fault
// (SIGSEGV from an instruction) returns and faults again, anything else is
// raised again; the exit status, and whether a core is dumped, are the
// same as without memmon.
//
// Contract: DumpRawHeap is async-signal-safe: no allocation, no lock, no
// stdio; at most one dump per process (the first caller; another thread
// ending meanwhile waits for it, a few seconds at most).
#ifndef MEMMON_SRC_PRELOAD_EXIT_DUMP_H_
#define MEMMON_SRC_PRELOAD_EXIT_DUMP_H_

#include <sys/types.h>

namespace memmon::preload {

// Where this process dumps (DIR/NAME.raw, written as NAME.raw.tmp and
// renamed once complete); `start_nanos` is the monotonic time the sampler
// started. Called at start and in a fork child. Not async-signal-safe.
void SetRawDumpTarget(const char* dir, const char* name, long long start_nanos);

// Installs the fatal-signal handlers (see above). Once, at start.
void InstallFatalSignalDumps(int skip_signal);

// The dump; `reason` is "signal N", "_exit" ... Async-signal-safe.
void DumpRawHeap(const char* reason);

// The heap profile at exit() was written: no dump needed any more.
void RawDumpNotNeeded();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_EXIT_DUMP_H_
