// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// `--http ADDR` for `memmon run` and `memmon watch`: the endpoint of
// docs/http.md over what the command monitors.
#ifndef MEMMON_SRC_CLI_HTTP_H_
#define MEMMON_SRC_CLI_HTTP_H_

#include <memory>
#include <string>

#include "http/source.h"
#include "memmon/http_server.h"

namespace memmon::cli {

// Starts a server on `listen` over `source`, with the bearer token of the
// environment (MEMMON_HTTP_TOKEN_FILE, MEMMON_HTTP_TOKEN), and says where
// on stderr ("memmon: VERB: serving http://ADDR/"). kExitOk, or kExitUsage
// after one line saying why it cannot (a bad address, a port in use, an
// unreadable token file).
int StartHttp(const char* verb, const std::string& listen,
              std::unique_ptr<internal::HttpSource> source,
              std::unique_ptr<HttpServer>* out);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_HTTP_H_
