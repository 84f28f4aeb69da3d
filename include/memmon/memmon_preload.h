/* Copyright 2026 The memmon Authors.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The C interface the heap sampler (libmemmon_preload.so, or the linkable
 * libmemmon_heap.so) exports to the rest of memmon and to applications.
 *
 * Nothing links against these symbols: callers look them up with
 * dlsym(RTLD_DEFAULT, name) and fall back when they are absent, so the core
 * library carries no link-time dependency on the sampler.
 *
 * Thread-safety: every function may be called from any thread, never from a
 * signal handler and never from inside malloc.
 */
#ifndef MEMMON_MEMMON_PRELOAD_H_
#define MEMMON_MEMMON_PRELOAD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exact counters since the process started. They are batched per thread:
 * the calling thread's batch is flushed first; another live thread may
 * still hold up to 255 frees and eight sampling intervals of allocations
 * (MEMMON_SAMPLE_RATE bytes each, on average); an exited thread holds
 * nothing.
 * Bytes in use are glibc chunk sizes (malloc_usable_size() under jemalloc
 * and tcmalloc) of the blocks not yet freed. */
struct memmon_preload_counters {
  uint64_t allocations; /* calls that returned memory */
  uint64_t frees; /* calls that released memory (free(NULL) not counted) */
  uint64_t allocated_bytes; /* cumulative requested bytes */
  uint64_t inuse_bytes;     /* usable bytes of blocks not yet freed */
  uint64_t sample_rate;     /* mean bytes between samples */
  uint64_t samples;         /* allocations sampled */
  uint64_t live_samples;    /* sampled blocks not yet freed */
  uint64_t dropped_samples; /* sampled but not recorded (table full) */
  uint64_t unwind_failures; /* stacks that could not be captured */
  uint64_t stacks;          /* distinct stacks recorded */
};
typedef int (*memmon_preload_counters_fn)(struct memmon_preload_counters* out,
                                          size_t out_size);
#define MEMMON_PRELOAD_COUNTERS_SYMBOL "memmon_preload_read_counters"
/* Fills min(out_size, sizeof) bytes of *out; returns 0. */
int memmon_preload_read_counters(struct memmon_preload_counters* out,
                                 size_t out_size);

/* The allocator clock (issue 19): an estimate of the CPU time spent in
 * allocation calls -- the allocator's own work and the sampler's -- from a
 * sampled subset of calls timed with the time-stamp counter
 * (docs/profiler.md, "Allocator time", states which calls and the error),
 * with the process's CPU time read at the same moment, so that a reader
 * gets the allocator's share of an interval as
 *   (allocator_nanos - before) / (cpu_nanos - before), clamped to 0..1. */
struct memmon_preload_allocator_time {
  uint64_t allocator_nanos; /* cumulative estimate since the process started */
  uint64_t cpu_nanos;       /* CLOCK_PROCESS_CPUTIME_ID, at the same read */
};
typedef int (*memmon_preload_allocator_time_fn)(
    struct memmon_preload_allocator_time* out, size_t out_size);
#define MEMMON_PRELOAD_ALLOCATOR_TIME_SYMBOL \
  "memmon_preload_read_allocator_time"
/* Fills min(out_size, sizeof) bytes of *out (the calling thread's timed
 * calls flushed first; another live thread may hold its last ~255 calls'
 * share); returns 0. */
int memmon_preload_read_allocator_time(
    struct memmon_preload_allocator_time* out, size_t out_size);

/* Writes the current heap profile (pprof, gzip) to `path` atomically, mode
 * 0600. Returns 0, or -1 with a one-line reason in error[0..error_len). */
typedef int (*memmon_preload_write_profile_fn)(const char* path, char* error,
                                               size_t error_len);
#define MEMMON_PRELOAD_WRITE_PROFILE_SYMBOL "memmon_preload_write_profile"
int memmon_preload_write_profile(const char* path, char* error,
                                 size_t error_len);

/* Writes the profile named `kind` to `path` as memmon_preload_write_profile
 * does: "heap" (the same as that function), and the others the sampler
 * collects (docs/profiler.md lists them and the variables that turn each on
 * or off). Returns 0; -1 with a reason in error[0..error_len) when the
 * write fails; MEMMON_PRELOAD_PROFILE_OFF, with a reason, for an unknown
 * kind or one that is off in this process. */
typedef int (*memmon_preload_write_named_profile_fn)(const char* kind,
                                                     const char* path,
                                                     char* error,
                                                     size_t error_len);
int memmon_preload_write_named_profile(const char* kind, const char* path,
                                       char* error, size_t error_len);
#define MEMMON_PRELOAD_WRITE_NAMED_PROFILE_SYMBOL \
  "memmon_preload_write_named_profile"
/* What memmon_preload_write_named_profile returns for a kind it does not
 * know or that is off in this process (-1 is a failed write). */
#define MEMMON_PRELOAD_PROFILE_OFF (-2)

/* The malloc the sampler forwards to (glibc's, jemalloc's or tcmalloc's):
 * how a monitor in the process finds that allocator's statistics, which
 * are no longer in the object that defines malloc. */
typedef void* (*memmon_preload_real_malloc_fn)(void);
void* memmon_preload_real_malloc(void);
#define MEMMON_PRELOAD_REAL_MALLOC_SYMBOL "memmon_preload_real_malloc"

/* Writes the next numbered snapshot (heap.NNNN.pb.gz) into MEMMON_OUTPUT.
 * `reason` is recorded as a comment in the profile. Returns the snapshot
 * number, or -1 when no output directory is configured or writing failed. */
typedef int (*memmon_preload_snapshot_fn)(const char* reason);
#define MEMMON_PRELOAD_SNAPSHOT_SYMBOL "memmon_preload_snapshot"
int memmon_preload_snapshot(const char* reason);

/* The `max_sites` allocation sites holding the most sampled live bytes now,
 * largest first, as text into out[0..size): one line per site,
 *   <inuse_bytes>\t<line>\t<function>\t<file>\n
 * (un-biased bytes as an integer; line 0 and an empty file when unknown; a
 * site is the first frame outside the allocation API and the C++ standard
 * library, named as pprof names it). Symbolizes on the calling thread
 * (milliseconds). Returns the length written (lines that do not fit whole
 * are left out), or -1 with a one-line reason in `out`. */
typedef long (*memmon_preload_top_sites_fn)(char* out, size_t size,
                                            unsigned max_sites);
#define MEMMON_PRELOAD_TOP_SITES_SYMBOL "memmon_preload_top_sites"
long memmon_preload_top_sites(char* out, size_t size, unsigned max_sites);

/* The status page shared with `memmon run` (MEMMON_STATUS_FILE=PATH).
 *
 * `memmon run` creates PATH (at least one page, zeroed) before it starts
 * the program and maps it; the sampler of the run's first process maps it
 * too (it never creates it) and, from its `memmon-writer` thread every
 * MEMMON_STATUS_INTERVAL seconds and once more at exit, publishes its
 * counters there. So a process that cannot be read from outside (heap in
 * use is not in /proc) reports to the one watching it, without a socket,
 * a signal or a lock.
 *
 * Writer protocol (a seqlock): seq becomes odd, the fields are stored,
 * seq becomes even again (release). A reader copies the page and retries
 * while seq is odd or changed under it. Every field is a naturally
 * aligned 64-bit word accessed atomically (relaxed) on both sides.
 *
 * Snapshot requests go the other way: the reader increments
 * snapshot_requests; the writer thread, at its next status update, writes
 * one numbered snapshot (reason "request" unless snapshot_reason names
 * one) and sets snapshots_served to the requests
 * it saw. */
#define MEMMON_STATUS_MAGIC \
  0x31536e6f6d6d656dull /* "memmonS1", little-endian */
struct memmon_status_page {
  uint64_t magic;         /* MEMMON_STATUS_MAGIC once a sampler has attached */
  uint64_t seq;           /* seqlock sequence, odd while being written */
  uint64_t pid;           /* the process publishing */
  uint64_t updates;       /* updates published so far */
  int64_t time_nanos;     /* CLOCK_MONOTONIC of this update */
  uint64_t exited;        /* 1 once the final update at exit() is published */
  uint64_t last_snapshot; /* number of the last numbered snapshot written */
  struct memmon_preload_counters counters;
  /* The statistics of the allocator under the sampler (heap_stats_time_nanos
   * > 0, the CLOCK_MONOTONIC time they were read; heap_allocator says
   * which): glibc's mallinfo2(), jemalloc's mallctl("stats.*"), tcmalloc's
   * numeric properties, with the meanings of src/source/allocator_stats.h.
   * Read at most with 1 % of the writer's time (glibc's walks the free
   * lists). */
  uint64_t heap_free_bytes;   /* free but held, metadata included */
  uint64_t heap_system_bytes; /* held from the OS, metadata included */
  int64_t heap_stats_time_nanos;
  /* Written by the reader: */
  uint64_t snapshot_requests;
  char snapshot_reason[32]; /* NUL-terminated; empty: "request" */
  /* Written by the sampler: */
  uint64_t snapshots_served;
  /* Requests for one profile by kind (memmon_preload_write_named_profile's
   * names), served at the next status update by writing it to the file it
   * goes to at exit (DIR/KIND.pb.gz), and setting profiles_served to the
   * requests seen. One request at a time: the reader waits for it. */
  uint64_t profile_requests; /* written by the reader */
  char profile_kind[16];     /* written by the reader, NUL-terminated */
  uint64_t profiles_served;  /* written by the sampler */
  int64_t profile_result;    /* 0, or what the write returned */
  /* The allocator clock (memmon_preload_read_allocator_time), written
   * by the sampler at each update; both 0 from a sampler without it. */
  struct memmon_preload_allocator_time allocator_time;
  /* Which allocator heap_free_bytes and heap_system_bytes describe:
   * MEMMON_STATUS_ALLOCATOR_*; 0 from a sampler that predates the field
   * (then glibc whenever heap_stats_time_nanos > 0). */
  uint64_t heap_allocator;
};
#define MEMMON_STATUS_ALLOCATOR_GLIBC 1
#define MEMMON_STATUS_ALLOCATOR_JEMALLOC 2
#define MEMMON_STATUS_ALLOCATOR_TCMALLOC 3

/* The raw heap data the sampler hands to the profile writer
 * (libmemmon_writer.so, loaded with dlopen only when a profile is written, so
 * that libdw, zlib and the rest never sit in a process that writes none). */
struct memmon_raw_site {
  const uintptr_t* frames; /* return addresses, innermost first */
  uint32_t depth;
  double alloc_objects;
  double alloc_bytes;
  double inuse_objects;
  double inuse_bytes;
  /* The age of the site's live objects (MEMMON_LIVE_AGE), seconds: the
   * median over its live objects (each sample weighted by the objects it
   * stands for) and the oldest sample's. age_samples is the number of live
   * samples they come from; 0: no ages (the fields are then 0). */
  double live_age_median_s;
  double live_age_oldest_s;
  uint64_t age_samples;
};
struct memmon_raw_heap {
  uint64_t sample_rate;
  int64_t time_nanos;     /* wall clock */
  int64_t duration_nanos; /* since the sampler started */
  size_t site_count;
  const struct memmon_raw_site* sites;
  size_t comment_count;
  const char* const* comments;
};
/* Symbolizes, encodes and writes `heap` to `path` (gzip pprof, atomically,
 * mode 0600). Returns 0, or -1 with a reason in error[0..error_len). */
typedef int (*memmon_writer_write_heap_fn)(const struct memmon_raw_heap* heap,
                                           const char* path, char* error,
                                           size_t error_len);
#define MEMMON_WRITER_WRITE_HEAP_SYMBOL "memmon_writer_write_heap"
/* memmon_preload_top_sites's work: `heap` symbolized and ranked, written as
 * that function describes. */
typedef long (*memmon_writer_top_sites_fn)(const struct memmon_raw_heap* heap,
                                           char* out, size_t size,
                                           unsigned max_sites);
#define MEMMON_WRITER_TOP_SITES_SYMBOL "memmon_writer_top_sites"
#define MEMMON_WRITER_LIBRARY "libmemmon_writer.so"

/* The raw heap dump: what the sampler writes, with write(2) alone, when the
 * program ends where no profile can be written in-process (a fatal signal,
 * _exit, _Exit), and what memmon run and memmon leaks turn into heap.pb.gz
 * afterwards (docs/profiler.md, "Every way out"). Native-endian 64-bit
 * words, read back on the same machine:
 *   header: MEMMON_RAW_HEAP_MAGIC, MEMMON_RAW_HEAP_VERSION, pid,
 *           sample_rate, object_scale, time_nanos (wall), duration_nanos,
 *           reason length, reason bytes (padded to a word)
 *   records, each a tag word, then:
 *     MEMMON_RAW_STACK: ref, depth, alloc_bytes, alloc_objects_scaled,
 *                       frames[depth]
 *     MEMMON_RAW_LIVE:  ref, size (one live sample; MEMMON_LIVE_AGE=0)
 *     MEMMON_RAW_LIVE_AGED: ref, size, age_nanos (one live sample and its
 *                       age when dumped, to the live table's 16.8 ms tick)
 *     MEMMON_RAW_MAPS:  length, the text of /proc/self/maps (padded)
 *     MEMMON_RAW_END:   nothing; a dump without it is incomplete
 * Version 2 added MEMMON_RAW_LIVE_AGED; readers take versions 1 and 2. */
#define MEMMON_RAW_HEAP_MAGIC 0x31504548574152ull /* "RAWHEP1" */
#define MEMMON_RAW_HEAP_VERSION 2
enum memmon_raw_heap_tag {
  MEMMON_RAW_STACK = 1,
  MEMMON_RAW_LIVE = 2,
  MEMMON_RAW_MAPS = 3,
  MEMMON_RAW_END = 4,
  MEMMON_RAW_LIVE_AGED = 5
};

/* The raw mutex or block profile (contention profiles, as Go names them)
 * the sampler hands to the writer: per stack, the contentions and the
 * delay they stand for, already scaled for sampling (docs/profiler.md). */
struct memmon_raw_contention_site {
  const uintptr_t* frames; /* return addresses, innermost first */
  uint32_t depth;
  double contentions;
  double delay_nanos;
};
struct memmon_raw_contention {
  const char* kind;       /* "mutex" or "block" */
  uint64_t rate;          /* MEMMON_MUTEX_RATE or MEMMON_BLOCK_RATE */
  int64_t time_nanos;     /* wall clock */
  int64_t duration_nanos; /* since the sampler started */
  size_t site_count;
  const struct memmon_raw_contention_site* sites;
  size_t comment_count;
  const char* const* comments;
};
/* Symbolizes, encodes (sample types contentions/count, delay/nanoseconds,
 * as Go writes them) and writes `profile` to `path` (gzip pprof,
 * atomically, mode 0600). Returns 0, or -1 with a reason in error. */
typedef int (*memmon_writer_write_contention_fn)(
    const struct memmon_raw_contention* profile, const char* path, char* error,
    size_t error_len);
#define MEMMON_WRITER_WRITE_CONTENTION_SYMBOL "memmon_writer_write_contention"

/* MEMMON_HTTP: the agent library (beside the sampler, or at $MEMMON_AGENT)
 * serves memmon's endpoint from this process: a MemoryMonitor of it and an
 * HttpServer on `address` ("HOST:PORT"). Started by the sampler's writer
 * thread, never from inside malloc; its own threads serve. Returns 0 and
 * the bound address in bound[0..bound_len), or -1 with a reason in
 * error[0..error_len). */
typedef int (*memmon_agent_start_fn)(const char* address, char* bound,
                                     size_t bound_len, char* error,
                                     size_t error_len);
#define MEMMON_AGENT_START_SYMBOL "memmon_agent_start"
/* Stops the server and the monitor, joining their threads (at exit). */
typedef void (*memmon_agent_stop_fn)(void);
#define MEMMON_AGENT_STOP_SYMBOL "memmon_agent_stop"
#define MEMMON_AGENT_LIBRARY "libmemmon_agent.so"

/* The program's large private anonymous mappings (MEMMON_MMAP_MIN bytes or
 * more, mmap'd through the PLT: docs/profiler.md, "Anonymous mappings"),
 * as the sampler hands them to the writer: one per mapping, with the stack
 * that mapped it. */
struct memmon_raw_mapping {
  const uintptr_t* frames; /* return addresses, innermost first */
  uint32_t depth;
  uint64_t start; /* address */
  uint64_t length;
  double age_s; /* since it was mapped */
};
struct memmon_raw_mmap {
  int64_t time_nanos;     /* wall clock */
  int64_t duration_nanos; /* since the sampler started */
  size_t mapping_count;
  const struct memmon_raw_mapping* mappings;
  size_t comment_count;
  const char* const* comments;
};
/* Symbolizes, encodes (sample types mappings/count, mapped_space/bytes; one
 * sample per mapping, labelled address = its start as "0x..." hex) and
 * writes `profile` to `path` (gzip pprof, atomically, mode 0600). Returns
 * 0, or -1 with a reason in error. */
typedef int (*memmon_writer_write_mmap_fn)(const struct memmon_raw_mmap* raw,
                                           const char* path, char* error,
                                           size_t error_len);
#define MEMMON_WRITER_WRITE_MMAP_SYMBOL "memmon_writer_write_mmap"
/* memmon_preload_mmap_sites's work: `raw` symbolized, written as that
 * function describes. */
typedef long (*memmon_writer_mmap_sites_fn)(const struct memmon_raw_mmap* raw,
                                            char* out, size_t size,
                                            unsigned max_mappings);
#define MEMMON_WRITER_MMAP_SITES_SYMBOL "memmon_writer_mmap_sites"

/* The `max_mappings` largest recorded anonymous mappings mapped now,
 * largest first, as text into out[0..size): one line per mapping,
 *   <start>\t<length>\t<function>\t<file>:<line>\n
 * (start as 0x-prefixed hex, length in bytes; the function is the first
 * frame outside mmap itself, named as pprof names it; "<file>:<line>" is
 * empty when unknown). Symbolizes on the calling thread. Returns the length
 * written (lines that do not fit whole are left out), or -1 with a one-line
 * reason in `out` (MEMMON_MMAP_MIN=0: recording is off). */
typedef long (*memmon_preload_mmap_sites_fn)(char* out, size_t size,
                                             unsigned max_mappings);
#define MEMMON_PRELOAD_MMAP_SITES_SYMBOL "memmon_preload_mmap_sites"
long memmon_preload_mmap_sites(char* out, size_t size, unsigned max_mappings);

#ifdef __cplusplus
}
#endif

#endif /* MEMMON_MEMMON_PRELOAD_H_ */
