// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Umbrella header: every public header of memmon. Each part links its own
// library (docs/api.md, "Linking"): memmon::memmon for the monitor,
// counters and detection; memmon::profiler for Profiler; memmon::http for
// HttpServer; memmon::fs for the filesystem components; the sampler's C
// interface (memmon_preload.h) needs nothing linked (dlsym), or
// memmon::heap to link the sampler itself.
#ifndef MEMMON_MEMMON_H_
#define MEMMON_MEMMON_H_

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/detectors.h"
#include "memmon/explain.h"
#include "memmon/fs/byte_pool.h"
#include "memmon/fs/common.h"
#include "memmon/fs/lru_cache.h"
#include "memmon/fs/write_buffer.h"
#include "memmon/growth.h"
#include "memmon/http_server.h"
#include "memmon/memmon_preload.h"
#include "memmon/monitor.h"
#include "memmon/object_counter.h"
#include "memmon/profiler.h"
#include "memmon/sample.h"
#include "memmon/sample_source.h"
#include "memmon/status.h"
#include "memmon/version.h"

#endif  // MEMMON_MEMMON_H_
