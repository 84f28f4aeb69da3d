// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Encoding and decoding pprof profiles (profile.proto), gzip-compressed on
// disk as go tool pprof expects.
//
// The protobuf encoder and decoder are hand-written: the schema is small
// and fixed, and a generated parser would drag libprotobuf into every
// process memmon runs in. The decoder treats its input as hostile: every
// length is checked against what is left, varints longer than 10 bytes,
// wrong wire types, string indices out of range, references to locations
// or functions that do not exist and absurd sizes are errors with a
// message, never a crash or an unbounded allocation.
//
// Thread-safety: free functions over values.
#ifndef MEMMON_SRC_PROFILE_PPROF_H_
#define MEMMON_SRC_PROFILE_PPROF_H_

#include <string>
#include <string_view>

#include "memmon/status.h"
#include "profile/profile.h"

namespace memmon::profile {

// The serialized (uncompressed) profile.proto message.
std::string EncodeProfile(const Profile& profile);

// gzip (RFC 1952) at the given zlib level.
Status Gzip(std::string_view data, std::string* out, int level = 6);
// Inflates gzip or zlib input; refuses output larger than `max_bytes`.
Status Gunzip(std::string_view data, std::string* out,
              std::size_t max_bytes = std::size_t{1} << 30);

// Parses a serialized profile.proto message.
Status DecodeProfile(std::string_view data, Profile* out);
// Parses a profile as found on disk: gzip-compressed or not.
Status ParseProfile(std::string_view data, Profile* out);
// Reads and parses a profile file.
Status ReadProfileFile(const std::string& path, Profile* out);

// Encodes, compresses and writes atomically (temporary name, rename), mode
// 0600.
Status WriteProfileFile(const Profile& profile, const std::string& path);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_PPROF_H_
