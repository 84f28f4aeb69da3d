// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Umbrella header: everything a service needs to monitor itself.
#ifndef MEMMON_MEMMON_H_
#define MEMMON_MEMMON_H_

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/detectors.h"
#include "memmon/growth.h"
#include "memmon/monitor.h"
#include "memmon/object_counter.h"
#include "memmon/sample.h"
#include "memmon/sample_source.h"
#include "memmon/status.h"
#include "memmon/version.h"

#endif  // MEMMON_MEMMON_H_
