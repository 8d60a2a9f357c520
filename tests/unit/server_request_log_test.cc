// The request log: one parseable JSON line per request, rotation by size keeping a few files,
// whole lines under concurrent appends.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server/request_log.h"
#include "temp_dir.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(RequestLogLine, IsOneJsonObjectWithEveryField) {
  RequestLogEntry e;
  e.id = "chatcmpl-1";
  e.unix_ms = 1700000000123;
  e.method = "POST";
  e.route = "/v1/chat/completions";
  e.model = "smol";
  e.status = 200;
  e.prompt_tokens = 31;
  e.cached_tokens = 8;
  e.completion_tokens = 16;
  e.finish_reason = "length";
  e.time_to_first_token_s = 0.25;
  e.duration_s = 0.5;
  e.client = "127.0.0.1";
  const std::string line = RequestLogLine(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const json j = json::parse(line);
  EXPECT_EQ(j["id"], "chatcmpl-1");
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["route"], "/v1/chat/completions");
  EXPECT_EQ(j["model"], "smol");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["prompt_tokens"], 31);
  EXPECT_EQ(j["cached_tokens"], 8);
  EXPECT_EQ(j["completion_tokens"], 16);
  EXPECT_EQ(j["finish_reason"], "length");
  EXPECT_DOUBLE_EQ(j["ttft_s"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 0.5);
  EXPECT_EQ(j["client"], "127.0.0.1");

  RequestLogEntry plain;
  plain.model = "bad\xff";
  const json k = json::parse(RequestLogLine(plain));
  EXPECT_TRUE(k["ttft_s"].is_null());
  EXPECT_TRUE(k["finish_reason"].is_null());
  EXPECT_TRUE(k["model"].is_string());  // invalid UTF-8 replaced, not thrown on
}

TEST(RequestLog, RotatesBySizeAndKeepsAFewFiles) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "logs" / "requests.jsonl";
  RequestLogOptions o;
  o.path = path.string();
  o.max_bytes = 100;
  o.keep_files = 2;
  RequestLog log(o);
  const std::string line(39, 'x');  // 40 bytes with its newline: two lines a file
  for (int i = 0; i < 7; ++i) log.Append(line);
  // 7 lines: files of 2, 2 and the current one of 1; the oldest two lines went with .3.
  EXPECT_EQ(Lines(path).size(), 1u);
  EXPECT_EQ(Lines(path.string() + ".1").size(), 2u);
  EXPECT_EQ(Lines(path.string() + ".2").size(), 2u);
  EXPECT_FALSE(fs::exists(path.string() + ".3"));
  EXPECT_LE(fs::file_size(path.string() + ".1"), 100u);
}

TEST(RequestLog, ContinuesAnExistingFileAndRotatesIt) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "requests.jsonl";
  std::ofstream(path) << std::string(95, 'y') << "\n";
  RequestLogOptions o;
  o.path = path.string();
  o.max_bytes = 100;
  RequestLog log(o);
  log.Append("{\"a\":1}");
  EXPECT_EQ(Lines(path), std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(Lines(path.string() + ".1").size(), 1u);
}

TEST(RequestLog, ConcurrentAppendsStayWholeLines) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "requests.jsonl";
  RequestLogOptions o;
  o.path = path.string();
  o.max_bytes = 1 << 20;
  RequestLog log(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 100; ++i) log.Append(json{{"t", t}, {"i", i}}.dump());
    });
  }
  for (auto& t : threads) t.join();
  const auto lines = Lines(path);
  ASSERT_EQ(lines.size(), 400u);
  for (const std::string& l : lines) EXPECT_NO_THROW(json::parse(l)) << l;
}

}  // namespace
}  // namespace foundry
