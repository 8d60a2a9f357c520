// Downloader against a local server that misbehaves on purpose (tests/unit/download_server.py):
// 404, 500 then success, a connection cut halfway (resumed without fetching bytes again), a
// partial file left by an interrupted run, a server that ignores Range, a wrong digest, a
// stalled server, and nobody listening.
#include "catalog/downloader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "temp_dir.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DownloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      execlp("python3", "python3", FOUNDRY_SOURCE_DIR "/tests/unit/download_server.py",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::FILE* f = fdopen(fds[0], "r");
    char sha[65] = {0};
    long long size = 0;
    ASSERT_EQ(std::fscanf(f, "%d %64s %lld", &port_, sha, &size), 3) << "server did not start";
    std::fclose(f);
    sha_ = sha;
    size_ = size;
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  static DownloadOptions Fast() {
    DownloadOptions o;
    o.initial_backoff_s = 0.01;
    o.connect_timeout_s = 5;
    o.stall_timeout_s = 10;
    return o;
  }
  // Per path: the Range headers requested and the body bytes the server sent.
  nlohmann::json Stats(const std::string& path) {
    const fs::path f = dir_.path() / "stats.json";
    auto r = DownloadFile(Url("/stats"), f, Fast());
    EXPECT_TRUE(r.ok()) << r.status().message();
    const nlohmann::json j = nlohmann::json::parse(ReadText(f));
    fs::remove(f);
    return j.contains(path) ? j[path] : nlohmann::json();
  }

  static pid_t pid_;
  static int port_;
  static std::string sha_;
  static int64_t size_;
  TempDir dir_;
};

pid_t DownloadTest::pid_ = -1;
int DownloadTest::port_ = 0;
std::string DownloadTest::sha_;
int64_t DownloadTest::size_ = 0;

TEST_F(DownloadTest, CompleteFileWithSizeAndDigest) {
  const fs::path dest = dir_.path() / "m.gguf";
  DownloadOptions o = Fast();
  o.expected_size = size_;
  o.expected_sha256 = sha_;
  int64_t last_done = -1, last_total = 0;
  o.progress = [&](int64_t done, int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  auto r = DownloadFile(Url("/ok/a"), dest, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->size, size_);
  EXPECT_EQ(r->sha256, sha_);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->bytes_transferred, size_);
  EXPECT_EQ(last_done, size_);
  EXPECT_EQ(last_total, size_);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(dest)), size_);
  EXPECT_FALSE(fs::exists(PartialPath(dest)));
  auto digest = Sha256File(dest);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, sha_);
}

TEST_F(DownloadTest, FollowsRedirectsAndWorksWithoutExpectations) {
  const fs::path dest = dir_.path() / "r.gguf";
  auto r = DownloadFile(Url("/redirect/r"), dest, Fast());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->sha256, sha_);  // recorded for later downloads to match
}

TEST_F(DownloadTest, NotFoundIsNotRetried) {
  const fs::path dest = dir_.path() / "x.gguf";
  auto r = DownloadFile(Url("/missing/x"), dest, Fast());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("HTTP 404"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_EQ(Stats("/missing/x")["ranges"].size(), 1u);
}

TEST_F(DownloadTest, ServerErrorThenSuccessIsRetried) {
  const fs::path dest = dir_.path() / "f.gguf";
  DownloadOptions o = Fast();
  o.expected_sha256 = sha_;
  auto r = DownloadFile(Url("/flaky/f"), dest, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(r->sha256, sha_);
}

TEST_F(DownloadTest, ConnectionCutHalfwayResumesWithoutRefetching) {
  const fs::path dest = dir_.path() / "c.gguf";
  DownloadOptions o = Fast();
  o.expected_size = size_;
  o.expected_sha256 = sha_;
  auto r = DownloadFile(Url("/cut/c"), dest, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(r->bytes_transferred, size_);  // every byte crossed the network once
  const nlohmann::json s = Stats("/cut/c");
  ASSERT_EQ(s["ranges"].size(), 2u);
  EXPECT_TRUE(s["ranges"][0].is_null());
  EXPECT_EQ(s["ranges"][1], "bytes=" + std::to_string(size_ / 2) + "-");
  EXPECT_EQ(s["sent"].get<int64_t>(), size_);
}

TEST_F(DownloadTest, PartialFileFromAnInterruptedRunIsResumed) {
  // What Ctrl+C leaves: the first bytes in <dest>.partial.
  const fs::path full = dir_.path() / "full.gguf";
  ASSERT_TRUE(DownloadFile(Url("/ok/full"), full, Fast()).ok());
  const std::string body = ReadText(full);
  const fs::path dest = dir_.path() / "p.gguf";
  const int64_t have = 1000000;
  std::ofstream(PartialPath(dest), std::ios::binary).write(body.data(), have);
  DownloadOptions o = Fast();
  o.expected_size = size_;
  o.expected_sha256 = sha_;
  auto r = DownloadFile(Url("/ok/p"), dest, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->bytes_transferred, size_ - have);
  EXPECT_EQ(Stats("/ok/p")["ranges"][0], "bytes=" + std::to_string(have) + "-");
  EXPECT_EQ(ReadText(dest), body);
}

TEST_F(DownloadTest, ServerIgnoringRangeRestartsTheFile) {
  const fs::path dest = dir_.path() / "n.gguf";
  std::ofstream(PartialPath(dest), std::ios::binary) << std::string(5000, 'x');  // wrong bytes
  DownloadOptions o = Fast();
  o.expected_sha256 = sha_;
  auto r = DownloadFile(Url("/norange/n"), dest, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->size, size_);
  EXPECT_EQ(r->sha256, sha_);
}

TEST_F(DownloadTest, WrongDigestLeavesNothingThatLooksComplete) {
  const fs::path dest = dir_.path() / "d.gguf";
  DownloadOptions o = Fast();
  o.expected_sha256 = std::string(64, '0');
  auto r = DownloadFile(Url("/ok/d"), dest, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptFile);
  EXPECT_NE(r.status().message().find("sha256"), std::string::npos);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(PartialPath(dest)));
}

TEST_F(DownloadTest, WrongSizeIsRejected) {
  const fs::path dest = dir_.path() / "s.gguf";
  DownloadOptions o = Fast();
  o.expected_size = size_ + 10;
  o.max_attempts = 2;
  auto r = DownloadFile(Url("/ok/s"), dest, o);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(DownloadTest, StalledServerTimesOutWithAClearError) {
  const fs::path dest = dir_.path() / "t.gguf";
  DownloadOptions o = Fast();
  o.stall_timeout_s = 1;
  o.max_attempts = 2;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = DownloadFile(Url("/stall/t"), dest, o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("2 attempts"), std::string::npos) << r.status().message();
  EXPECT_LT(secs, 20);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_TRUE(fs::exists(PartialPath(dest)));  // kept for resuming
}

TEST_F(DownloadTest, NobodyListening) {
  // A port that was free a moment ago.
  const fs::path dest = dir_.path() / "z.gguf";
  DownloadOptions o = Fast();
  o.max_attempts = 2;
  auto r = DownloadFile("http://127.0.0.1:1/x", dest, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace foundry
