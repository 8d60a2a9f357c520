#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace foundry {
namespace {

// A file of `size` bytes with a pattern that differs at every offset, removed at the end.
class PatternFile {
 public:
  explicit PatternFile(size_t size) : bytes_(size) {
    for (size_t i = 0; i < size; ++i) bytes_[i] = static_cast<uint8_t>((i * 131 + i / 251) & 0xFF);
    char name[] = "/tmp/foundry_mapped_file_XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(::write(fd, bytes_.data(), size), static_cast<ssize_t>(size));
    ::close(fd);
  }
  ~PatternFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  std::string path_;
};

TEST(MappedFile, HugePageCopyHoldsTheFileAlignedTo2MiB) {
  // Three sizes: under one huge page, a whole one, and one spilling into a second.
  for (size_t size : {size_t{1000}, size_t{2} << 20, (size_t{2} << 20) + 4097}) {
    const PatternFile file(size);
    auto copy = MappedFile::ReadIntoHugePages(file.path());
    ASSERT_TRUE(copy.ok()) << copy.status().message();
    ASSERT_EQ((*copy)->size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*copy)->data()) % (size_t{2} << 20), 0u);
    EXPECT_EQ(std::memcmp((*copy)->data(), file.bytes().data(), size), 0);
    auto mapped = MappedFile::Open(file.path());
    ASSERT_TRUE(mapped.ok());
    EXPECT_EQ(std::memcmp((*mapped)->data(), (*copy)->data(), size), 0);
  }
}

TEST(MappedFile, HugePageCopyOfAnEmptyFileIsEmpty) {
  const PatternFile file(0);
  auto copy = MappedFile::ReadIntoHugePages(file.path());
  ASSERT_TRUE(copy.ok()) << copy.status().message();
  EXPECT_EQ((*copy)->size(), 0u);
}

TEST(MappedFile, MissingFileIsNotFoundEitherWay) {
  for (auto open : {&MappedFile::Open, &MappedFile::ReadIntoHugePages}) {
    auto f = open("/nonexistent/model.gguf");
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  }
}

TEST(MappedFile, DirectoryIsRefusedEitherWay) {
  for (auto open : {&MappedFile::Open, &MappedFile::ReadIntoHugePages}) {
    auto f = open("/tmp");
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find("not a regular file"), std::string::npos);
  }
}

}  // namespace
}  // namespace foundry
