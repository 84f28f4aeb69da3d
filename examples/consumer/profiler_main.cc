// A service that uses the installed Profiler API: writes a thread profile
// (every thread's name and stack, pprof) into a directory it is given.
#include <memmon/memmon.h>
#include <memmon/profiler.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: profiler_consumer DIR\n";
    return 2;
  }
  memmon::Profiler profiler(argv[1]);
  if (!profiler.status().ok()) {
    std::cerr << "memmon: " << profiler.status().message() << "\n";
    return 1;
  }
  memmon::Status s = profiler.WriteThreadProfile("threads.pb.gz");
  std::cout << "thread profile: " << (s.ok() ? "written" : s.message()) << "\n";
  return s.ok() ? 0 : 1;
}
