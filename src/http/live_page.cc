// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "http/live_page.h"

#include <fmt/format.h>

#include "memmon/version.h"

namespace memmon::http {

std::string LivePage(int refresh_ms) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n"
      "<title>memmon live</title>\n"
      // Inline scripts and styles, requests to this server only.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
      "connect-src 'self'; img-src data:\">\n";
  out += fmt::format("<meta name=\"generator\" content=\"memmon {}\">\n",
                     MEMMON_VERSION_STRING);
  for (const EmbeddedFile& f : LiveAssets()) {
    if (f.name.ends_with(".css")) {
      out += fmt::format("<style>/* {} */\n{}\n</style>\n", f.name, f.data);
    } else if (f.name == "memmon/errors.js") {
      out += fmt::format("<script>\n{}\n</script>\n", f.data);
    }
  }
  out += fmt::format(
      "</head>\n<body data-refresh-ms=\"{}\">\n"
      "<h1>memmon live</h1>\n"
      "<p id=\"status\" class=\"note\">loading...</p>\n"
      "<h2>Memory</h2><div id=\"memory-chart\" class=\"chart\"></div>\n"
      "<h2>Threads and descriptors</h2>"
      "<div id=\"counts-chart\" class=\"chart\"></div>\n"
      "<h2>Alerts</h2><ol id=\"alerts\" class=\"alerts\"></ol>\n"
      "<h2>Top allocation sites (live heap)</h2>"
      "<table id=\"top-sites\" class=\"leaks\"></table>\n"
      "<h2>Tracked objects</h2>"
      "<table id=\"objects\" class=\"leaks\"></table>\n"
      "<footer>memmon {}: /metrics, /debug/pprof/, /debug/memmon/</footer>\n",
      refresh_ms, MEMMON_VERSION_STRING);
  for (const EmbeddedFile& f : LiveAssets()) {
    if (f.name.ends_with(".js") && f.name != "memmon/errors.js") {
      out += fmt::format("<script>/* {} */\n{}\n</script>\n", f.name, f.data);
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace memmon::http
