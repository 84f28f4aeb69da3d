// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/http.h"

#include <cstdio>

#include "cli/command.h"

namespace memmon::cli {

int StartHttp(const char* verb, const std::string& listen,
              std::unique_ptr<internal::HttpSource> source,
              std::unique_ptr<HttpServer>* out) {
  HttpServerOptions options;
  options.listen = listen;
  if (Status s = BearerTokenFromEnvironment(&options.bearer_token); !s.ok()) {
    std::fprintf(stderr, "memmon: %s: --http: %s\n", verb, s.message().c_str());
    return kExitUsage;
  }
  auto server = std::make_unique<HttpServer>(std::move(source), options);
  if (Status s = server->Start(); !s.ok()) {
    std::fprintf(stderr, "memmon: %s: --http: %s\n", verb, s.message().c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "memmon: %s: serving http://%s/%s\n", verb,
               server->address().c_str(),
               options.bearer_token.empty() ? "" : " (bearer token required)");
  *out = std::move(server);
  return kExitOk;
}

}  // namespace memmon::cli
