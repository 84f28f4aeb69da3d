/* The heap sampler's C interface (memmon/memmon_preload.h), built against
 * the installed headers: whether the sampler is loaded in this process
 * (LD_PRELOAD=libmemmon_preload.so, or libmemmon_heap.so linked in) and,
 * if it is, its exact counters. Looked up with dlsym, as the header asks,
 * so the program runs with or without it. */
#include <dlfcn.h>
#include <memmon/memmon_preload.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  memmon_preload_counters_fn read_counters = (memmon_preload_counters_fn)dlsym(
      RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL);
  if (read_counters == NULL) {
    puts("sampler: not loaded");
    return 0;
  }
  void* volatile block = malloc(4096); /* at least one allocation counted */
  struct memmon_preload_counters counters;
  read_counters(&counters, sizeof counters);
  free(block);
  printf("sampler: allocations=%llu\n",
         (unsigned long long)counters.allocations);
  return counters.allocations > 0 ? 0 : 1;
}
