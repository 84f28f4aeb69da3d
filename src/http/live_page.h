// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The live page an HttpServer serves at `/`: one HTML document with every
// script and style inline (uPlot, vendored as for `memmon report`; its own
// live.js and live.css), nothing fetched from elsewhere. The page polls
// /debug/memmon/{stats,samples,alerts,top_sites} on its own origin and
// redraws; it holds no data itself, so it is served without the bearer
// token, which the page reads from its URL fragment (#token=...) and sends
// with each request.
//
// Thread-safety: pure. Allocation: the page.
#ifndef MEMMON_SRC_HTTP_LIVE_PAGE_H_
#define MEMMON_SRC_HTTP_LIVE_PAGE_H_

#include <span>
#include <string>
#include <string_view>

namespace memmon::http {

// A file compiled in (live_assets.cc, made by cmake/EmbedFiles.cmake).
struct EmbeddedFile {
  std::string_view name;
  std::string_view data;
};

// errors.js (from memmon report), uPlot's script and style, live.js,
// live.css: in the order the page includes them.
std::span<const EmbeddedFile> LiveAssets();

// The page; `refresh_ms` is how often it polls.
std::string LivePage(int refresh_ms);

}  // namespace memmon::http

#endif  // MEMMON_SRC_HTTP_LIVE_PAGE_H_
