// The README's quick start, built against the installed memmon.
#include <memmon/memmon.h>

#include <chrono>
#include <iostream>

int main() {
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.sample_interval = std::chrono::milliseconds(10);
  memmon::MemoryMonitor monitor(config);
  if (memmon::Status s = monitor.Start(); !s.ok()) {
    std::cerr << "memmon: " << s.message() << "\n";
    return 1;
  }
  memmon::Sample sample = monitor.TakeSample();
  monitor.Stop();
  std::cout << "allocator=" << memmon::ToString(sample.allocator)
            << " rss_bytes=" << sample.rss_bytes.value_or(0)
            << " threads=" << sample.threads.value_or(0) << "\n";
  return sample.rss_bytes ? 0 : 1;
}
