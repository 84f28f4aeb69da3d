// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/report_page.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/format.h"
#include "cli/heap_series.h"
#include "profile/pprof.h"

namespace memmon::cli {
namespace {

using nlohmann::json;

// main -> Outer -> (Inlined, inlined into Outer) -> Leaf, and main -> Other.
profile::Profile StackProfile() {
  profile::Profile p;
  p.sample_types = {{"alloc_space", "bytes"}, {"inuse_space", "bytes"}};
  p.functions = {{1, "main", "main", "main.cc", 1},
                 {2, "Outer()", "_Z5Outerv", "a.cc", 1},
                 {3, "Inlined()", "_Z7Inlinedv", "a.cc", 5},
                 {4, "Leaf()", "_Z4Leafv", "a.cc", 9},
                 {5, "Other()", "_Z5Otherv", "b.cc", 1}};
  p.locations = {{1, 0, 0x1000, {{4, 10}}, false},         // Leaf
                 {2, 0, 0x2000, {{3, 6}, {2, 2}}, false},  // Inlined in Outer
                 {3, 0, 0x3000, {{1, 3}}, false},          // main
                 {4, 0, 0x4000, {{5, 2}}, false},          // Other
                 {5, 0, 0x4011f0, {}, false}};             // no symbols
  // Leaf first, as the profile stores them.
  p.samples = {{{1, 2, 3}, {100, 64}, {}}, {{1, 2, 3}, {100, 36}, {}},
               {{2, 3}, {50, 8}, {}},       // allocated in Inlined itself
               {{4, 3}, {10, 0}, {}},       // freed: nothing in use
               {{5, 3}, {10, -1}, {}},      // a negative estimate: left out
               {{5, 4, 3}, {10, 16}, {}}};  // an unsymbolized leaf
  return p;
}

const json* Child(const json& node, const std::string& name) {
  if (!node.contains("children")) return nullptr;
  for (const json& c : node["children"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

TEST(ReportPage, FlameGraphTreeIsRootFirstWithInlinedFrames) {
  json tree = FlameGraphTree(StackProfile(), "inuse_space");
  ASSERT_EQ(tree["name"], "all");
  EXPECT_EQ(tree["value"], 0);
  ASSERT_EQ(tree["children"].size(), 1u);
  const json* main = Child(tree, "main");
  ASSERT_NE(main, nullptr);
  const json* outer = Child(*main, "Outer()");
  ASSERT_NE(outer, nullptr) << tree.dump();
  EXPECT_EQ((*outer)["value"], 0);
  const json* inlined = Child(*outer, "Inlined()");
  ASSERT_NE(inlined, nullptr) << tree.dump();
  EXPECT_EQ((*inlined)["value"], 8);  // self bytes
  const json* leaf = Child(*inlined, "Leaf()");
  ASSERT_NE(leaf, nullptr) << tree.dump();
  EXPECT_EQ((*leaf)["value"], 100);  // two samples merged
  EXPECT_FALSE(leaf->contains("children"));
  // Other() held nothing in use but its unsymbolized callee did.
  const json* other = Child(*main, "Other()");
  ASSERT_NE(other, nullptr) << tree.dump();
  const json* unknown = Child(*other, "0x4011f0");
  ASSERT_NE(unknown, nullptr) << tree.dump();
  EXPECT_EQ((*unknown)["value"], 16);
  EXPECT_EQ(main->at("children").size(), 2u);
}

TEST(ReportPage, FlameGraphTreeOfAnotherSampleType) {
  json tree = FlameGraphTree(StackProfile(), "alloc_space");
  const json* leaf = Child(
      *Child(*Child(*Child(tree, "main"), "Outer()"), "Inlined()"), "Leaf()");
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ((*leaf)["value"], 200);
  EXPECT_TRUE(FlameGraphTree(StackProfile(), "inuse_objects").is_null());
}

TEST(ReportPage, RunDirProfilesAreTheRunsSnapshotsInOrder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() /
                 ("report_page_test." + std::to_string(getpid()));
  fs::create_directories(dir);
  auto touch = [&](const char* name) { std::ofstream(dir / name) << ""; };
  for (const char* name :
       {"samples.csv", "heap.0002.pb.gz", "heap.0010.pb.gz", "heap.0009.pb.gz",
        "heap.pid123.pb.gz", "heap.pid4242.0007.pb.gz", "heap.abcd.pb.gz",
        "heap.0003.pb.gz.tmp.1.0", "report.html"}) {
    touch(name);
  }
  auto names = [&] {
    std::vector<std::string> out;
    for (const std::string& p : RunDirProfiles(dir.string())) {
      out.push_back(fs::path(p).filename().string());
    }
    return out;
  };
  EXPECT_EQ(names(),
            (std::vector<std::string>{"heap.0002.pb.gz", "heap.0009.pb.gz",
                                      "heap.0010.pb.gz"}));
  // The exit profile is the last point (LoadHeapSeries sets it aside when
  // it shows the teardown).
  touch("heap.pb.gz");
  EXPECT_EQ(names().size(), 4u);
  EXPECT_EQ(names().back(), "heap.pb.gz");
  fs::remove(dir / "heap.0002.pb.gz");
  fs::remove(dir / "heap.0009.pb.gz");
  EXPECT_EQ(names(),
            (std::vector<std::string>{"heap.0010.pb.gz", "heap.pb.gz"}));
  fs::remove_all(dir);
}

TEST(ReportPage, ScriptJsonHasNoAngleBracket) {
  json value = {{"name", "</script><!-- <b>"}, {"n", 1}};
  std::string text = ScriptJson(value);
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_EQ(json::parse(text), value);
}

TEST(ReportPage, HtmlEscape) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

// A run directory under /tmp, removed at the end.
class RunDir {
 public:
  RunDir() {
    char name[] = "/tmp/memmon-report-test-XXXXXX";
    path_ = mkdtemp(name) ? name : "";
  }
  ~RunDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string LoadError(const RunDir& dir) {
  RunReport report;
  Status s = LoadRunDir(dir.path(), &report);
  return s.ok() ? "ok" : s.message();
}

TEST(ReportPage, LoadErrorsNameTheFileAndLine) {
  RunDir dir;
  ASSERT_FALSE(dir.path().empty());
  EXPECT_EQ(LoadError(dir),
            dir.path() +
                ": not a memmon run directory (no samples.csv, alerts.jsonl, "
                "leaks.json, run.json or heap profile in it)");
  dir.Write("alerts.jsonl",
            "{\"type\":\"fd_leak\",\"time_s\":1,\"message\":\"m\"}\n\n{"
            "\"type\":\"x\"\n");
  EXPECT_EQ(LoadError(dir).rfind(dir.path() + "/alerts.jsonl: line 3: ", 0), 0u)
      << LoadError(dir);
  dir.Write("alerts.jsonl", "{\"type\":\"fd_leak\",\"message\":\"no time\"}\n");
  EXPECT_EQ(LoadError(dir),
            dir.path() +
                "/alerts.jsonl: line 1: an alert needs a \"type\" "
                "string and a \"time_s\" number");
  dir.Write("alerts.jsonl", "{\"type\":\"fd_leak\",\"time_s\":1}\n");
  EXPECT_EQ(LoadError(dir), "ok");

  dir.Write("leaks.json", "[{\"stack\": [\"f\"], \"inuse_bytes\": 1}]");
  EXPECT_EQ(LoadError(dir),
            dir.path() +
                "/leaks.json: suspect 1 (of 1): \"inuse_bytes\" and "
                "\"growth_bytes_per_s\" must be numbers");
  dir.Write("leaks.json", "{}");
  EXPECT_EQ(LoadError(dir),
            dir.path() + "/leaks.json: not a JSON array of suspects");
  dir.Write("leaks.json", "[]");

  dir.Write("samples.csv", "time_s,rss_bytes\n0,1\n1,x\n");
  EXPECT_EQ(LoadError(dir), dir.path() +
                                "/samples.csv: line 3: rss_bytes: expected a "
                                "non-negative integer, got 'x'");
  dir.Write("samples.csv", "time_s,rss_bytes\n0,1\n");

  dir.Write("heap.0001.pb.gz", "not a profile");
  EXPECT_EQ(LoadError(dir).rfind(dir.path() + "/heap.0001.pb.gz: ", 0), 0u)
      << LoadError(dir);
  profile::Profile cpu;
  cpu.sample_types = {{"samples", "count"}, {"cpu", "nanoseconds"}};
  ASSERT_TRUE(
      profile::WriteProfileFile(cpu, dir.path() + "/heap.0001.pb.gz").ok());
  EXPECT_EQ(LoadError(dir),
            dir.path() +
                "/heap.0001.pb.gz: not a heap profile: no "
                "inuse_space sample type (it has: samples, cpu)");
  ASSERT_TRUE(
      profile::WriteProfileFile(StackProfile(), dir.path() + "/heap.0001.pb.gz")
          .ok());
  EXPECT_EQ(LoadError(dir), "ok");

  RunDir missing;
  std::filesystem::remove(missing.path());
  EXPECT_EQ(LoadError(missing), missing.path() + ": No such file or directory");
}

// Text from the run's files cannot end the page's scripts or add markup.
TEST(ReportPage, HostileNamesStayText) {
  RunReport r;
  r.dir = "/tmp/run";
  r.alerts.push_back(
      {"memory_growth", 5, "</script><script>alert(1)</script>", false, {}});
  LeakSuspect leak;
  leak.stack = {"<img src=x onerror=alert(2)>", "main"};
  r.leaks = std::vector<LeakSuspect>{leak};
  profile::Profile p = StackProfile();
  p.functions[3].name = "</script><script>alert(3)</script>";
  r.heap = p;
  r.heap_file = "heap.pb.gz";
  const EmbeddedFile assets[] = {{"memmon/errors.js", "/*errors*/"},
                                 {"lib/lib.js", "/*lib*/"},
                                 {"lib/lib.css", "/*css*/"}};
  std::string page = RenderReport(r, assets);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  // Every <script opens one element that one </script> closes.
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = page.find(what); at != std::string::npos;
         at = page.find(what, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("<script"), 3u);  // errors.js, the data, lib.js
  EXPECT_EQ(count("</script>"), 3u);
  // The error counter comes before everything else that runs.
  EXPECT_LT(page.find("/*errors*/"), page.find("<body>"));
  EXPECT_LT(page.find("memmon-data"), page.find("/*lib*/"));
  EXPECT_LT(page.find("/*css*/"), page.find("/*errors*/"));
}

TEST(ReportPage, MissingSectionsSaySo) {
  RunReport r;
  r.dir = "/tmp/run";
  internal::SamplesCsv csv;
  ASSERT_TRUE(
      internal::ParseSamplesCsv("time_s,rss_bytes\n0,100\n10,\n", &csv).ok());
  r.samples = csv;
  std::string page = RenderReport(r, {});
  EXPECT_NE(page.find("No heap profile"), std::string::npos);
  EXPECT_NE(page.find("No leak suspects computed"), std::string::npos);
  EXPECT_NE(page.find("2 samples over 10.0 s"), std::string::npos);
  // Unknown is null (a gap), a missing column is absent.
  EXPECT_NE(page.find("\"rss_bytes\":[100,null]"), std::string::npos);
  EXPECT_EQ(page.find("heap_inuse_bytes\":"), std::string::npos);
}

// The leak-suspect table shows the live memory's age when leaks.json has
// it, and a dash when it does not.
TEST(ReportPage, LeakTableShowsLiveAges) {
  RunDir dir;
  dir.Write("leaks.json",
            "[{\"stack\": [\"Leak\"], \"inuse_bytes\": 1048576, "
            "\"growth_bytes_per_s\": 1024, \"median_age_s\": 90, "
            "\"oldest_age_s\": 200, \"age\": \"ageing\"},"
            " {\"stack\": [\"Old\"], \"inuse_bytes\": 1, "
            "\"growth_bytes_per_s\": 0, \"median_age_s\": null, "
            "\"age\": \"unknown\"}]");
  RunReport r;
  ASSERT_TRUE(LoadRunDir(dir.path(), &r).ok());
  ASSERT_TRUE(r.leaks && r.leaks->size() == 2u);
  EXPECT_EQ((*r.leaks)[0].median_age_s, 90);
  EXPECT_EQ((*r.leaks)[0].age, "ageing");
  EXPECT_FALSE((*r.leaks)[1].median_age_s);
  EXPECT_EQ((*r.leaks)[1].age, "");
  std::string page = RenderReport(r, {});
  EXPECT_NE(page.find("live age (median / oldest)"), std::string::npos);
  EXPECT_NE(page.find(internal::HumanDuration(90) + " / " +
                      internal::HumanDuration(200) + " (ageing)"),
            std::string::npos)
      << page;
}

}  // namespace
}  // namespace memmon::cli
