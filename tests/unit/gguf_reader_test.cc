// Extra GGUF reader tests: hostile counts fail without large allocations, messages stay one
// line, alignment typing, nesting depth and data-section edge cases. Files are built in memory.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "format/gguf_file.h"

// Global allocation tracking: records the largest single allocation while enabled, so tests
// can prove that a file claiming 2^60 elements does not make the reader reserve for them.
namespace {
std::atomic<bool> g_track{false};
std::atomic<size_t> g_largest{0};

void* TrackedAlloc(size_t n) {
  if (g_track.load(std::memory_order_relaxed)) {
    size_t prev = g_largest.load(std::memory_order_relaxed);
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t n) { return TrackedAlloc(n); }
void* operator new[](size_t n) { return TrackedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace foundry {
namespace {

// Little-endian GGUF byte builder.
class Bytes {
 public:
  Bytes& U8(uint8_t x) { return Raw(&x, 1); }
  Bytes& U32(uint32_t x) { return Raw(&x, 4); }
  Bytes& I32(int32_t x) { return Raw(&x, 4); }
  Bytes& U64(uint64_t x) { return Raw(&x, 8); }
  Bytes& Str(std::string_view s) {
    U64(s.size());
    return Raw(s.data(), s.size());
  }
  Bytes& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    Raw("GGUF", 4);
    U32(version);
    U64(n_tensors);
    return U64(n_kv);
  }
  Bytes& Pad(size_t align) {
    while (b_.size() % align != 0) b_.push_back(0);
    return *this;
  }
  Bytes& Zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  Bytes& Raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b_.insert(b_.end(), c, c + n);
    return *this;
  }
  size_t size() const { return b_.size(); }
  const std::vector<uint8_t>& bytes() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

constexpr uint32_t kU8 = 0, kI32 = 5, kU32 = 4, kBool = 7, kStr = 8, kArr = 9, kU64 = 10;

// Parses from an exactly sized heap copy (so ASan sees reads past the end).
struct Parsed {
  std::unique_ptr<uint8_t[]> buf;
  StatusOr<std::unique_ptr<GgufFile>> file = Status(StatusCode::kInternal, "unset");
};

Parsed ParseBytes(const Bytes& b) {
  Parsed p;
  p.buf.reset(new uint8_t[b.size() + 1]);
  if (b.size() > 0) std::memcpy(p.buf.get(), b.bytes().data(), b.size());
  p.file = GgufFile::Parse(MappedFile::FromBuffer(p.buf.get(), b.size()));
  return p;
}

void ExpectError(const Bytes& b, const std::string& substring) {
  Parsed p = ParseBytes(b);
  ASSERT_FALSE(p.file.ok()) << "accepted; expected: " << substring;
  const std::string& m = p.file.status().message();
  EXPECT_NE(m.find(substring), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

// Parses with allocation tracking; returns the largest single allocation made.
size_t LargestAllocationWhileParsing(const Bytes& b, bool* ok) {
  std::vector<uint8_t> copy = b.bytes();
  g_largest = 0;
  g_track = true;
  {
    auto f = GgufFile::Parse(MappedFile::FromBuffer(copy.data(), copy.size()));
    *ok = f.ok();
  }
  g_track = false;
  return g_largest;
}

TEST(GgufReaderAlloc, HostileCountsFailWithoutLargeAllocations) {
  struct Case {
    const char* name;
    Bytes bytes;
  };
  std::vector<Case> cases;
  cases.push_back({"n_kv 2^60", Bytes().Header(0, uint64_t{1} << 60)});
  cases.push_back({"n_kv 2^20 (under the cap)", Bytes().Header(0, uint64_t{1} << 20).Zeros(64)});
  cases.push_back({"n_tensors 2^20 (under the cap)", Bytes().Header(1 << 20, 0).Zeros(64)});
  cases.push_back({"n_tensors 2^60", Bytes().Header(uint64_t{1} << 60, 0)});
  cases.push_back(
      {"2^60 strings",
       Bytes().Header(0, 1).Str("k").U32(kArr).U32(kStr).U64(uint64_t{1} << 60).Str("a").Str("b")});
  cases.push_back({"2^60 nested arrays",
                   Bytes().Header(0, 1).Str("k").U32(kArr).U32(kArr).U64(uint64_t{1} << 60)});
  cases.push_back(
      {"2^62 u32", Bytes().Header(0, 1).Str("k").U32(kArr).U32(kU32).U64(uint64_t{1} << 62)});
  cases.push_back({"string 2^63", Bytes().Header(0, 1).Str("k").U32(kStr).U64(uint64_t{1} << 63)});
  cases.push_back({"key 2^63", Bytes().Header(0, 1).U64(uint64_t{1} << 63).Zeros(16)});
  cases.push_back({"tensor name 2^63", Bytes().Header(1, 0).U64(uint64_t{1} << 63).Zeros(64)});
  for (const Case& c : cases) {
    bool ok = true;
    const size_t largest = LargestAllocationWhileParsing(c.bytes, &ok);
    EXPECT_FALSE(ok) << c.name;
    EXPECT_LT(largest, 64u * 1024) << c.name;
  }
}

TEST(GgufReaderAlloc, TrackerSeesLargeAllocations) {
  // The tracker itself must be able to fail: a real 2^16-string array reserves its index.
  Bytes b;
  b.Header(0, 1).Str("k").U32(kArr).U32(kStr).U64(1 << 16);
  for (int k = 0; k < (1 << 16); ++k) b.Str("");
  bool ok = false;
  const size_t largest = LargestAllocationWhileParsing(b, &ok);
  EXPECT_TRUE(ok);
  EXPECT_GE(largest, (1u << 16) * sizeof(std::string_view));
}

TEST(GgufReader, MessagesQuoteHostileNames) {
  const std::string nasty = "line1\nline2\r\t'\\" + std::string(500, 'x');
  {
    Bytes b;
    b.Header(0, 2).Str(nasty).U32(kU8).U8(1).Str(nasty).U32(kU8).U8(2);
    Parsed p = ParseBytes(b);
    ASSERT_FALSE(p.file.ok());
    const std::string& m = p.file.status().message();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find('\r'), std::string::npos) << m;
    EXPECT_NE(m.find("duplicate metadata key 'line1\\x0aline2\\x0d\\x09\\x27\\x5cxxx"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("...'"), std::string::npos) << m;
    EXPECT_LT(m.size(), 200u) << m;
  }
  {
    Bytes b;
    b.Header(0, 1).Str(nasty).U32(kStr).Str("v");
    Parsed p = ParseBytes(b);
    ASSERT_TRUE(p.file.ok()) << p.file.status().message();
    auto u = (*p.file)->GetUint(nasty);
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(u.status().message().find('\n'), std::string::npos);
    EXPECT_NE(u.status().message().find("expected an integer"), std::string::npos);
  }
  {
    Bytes b;
    b.Header(1, 0).Str("t\nname").U32(1).U64(4).U32(99).U64(0);
    ExpectError(b, "tensor 't\\x0aname': unknown tensor type 99");
  }
}

Bytes AlignmentFile(uint32_t type, uint64_t value_bits, size_t value_size) {
  Bytes b;
  b.Header(1, 1).Str("general.alignment").U32(type);
  b.Raw(&value_bits, value_size);
  b.Str("t").U32(1).U64(4).U32(0).U64(0);
  return b;
}

TEST(GgufReader, AlignmentTypes) {
  {
    Bytes b = AlignmentFile(kU8, 64, 1);
    b.Pad(64).Zeros(16);
    Parsed p = ParseBytes(b);
    ASSERT_TRUE(p.file.ok()) << p.file.status().message();
    EXPECT_EQ((*p.file)->alignment(), 64u);
    EXPECT_EQ((*p.file)->tensors()[0].data, p.buf.get() + 64 * ((b.size() - 16) / 64));
  }
  {
    Bytes b = AlignmentFile(kI32, 16, 4);
    b.Pad(16).Zeros(16);
    Parsed p = ParseBytes(b);
    ASSERT_TRUE(p.file.ok()) << p.file.status().message();
    EXPECT_EQ((*p.file)->alignment(), 16u);
  }
  ExpectError(AlignmentFile(kI32, static_cast<uint32_t>(-32), 4).Pad(32).Zeros(16),
              "'general.alignment' is negative (-32)");
  ExpectError(AlignmentFile(kU64, uint64_t{1} << 40, 8).Zeros(64), "power of two");
  ExpectError(AlignmentFile(kU32, 0, 4).Zeros(64), "(got 0)");
  ExpectError(AlignmentFile(kU32, 48, 4).Zeros(64), "(got 48)");
  ExpectError(AlignmentFile(kBool, 1, 1).Zeros(64), "is bool, expected an integer");
}

Bytes NestedArrays(int levels) {
  Bytes b;
  b.Header(0, 1).Str("n").U32(kArr);
  for (int k = 1; k < levels; ++k) b.U32(kArr).U64(1);
  b.U32(kU8).U64(2).U8(1).U8(2);
  return b;
}

TEST(GgufReader, NestingDepth) {
  for (int levels = 1; levels <= 4; ++levels) {
    Parsed p = ParseBytes(NestedArrays(levels));
    ASSERT_TRUE(p.file.ok()) << levels << ": " << p.file.status().message();
    EXPECT_EQ((*p.file)->Find("n")->count, levels == 1 ? 2u : 1u);
  }
  ExpectError(NestedArrays(5), "metadata 'n': arrays nested too deep");
  ExpectError(NestedArrays(1000), "nested too deep");
}

TEST(GgufReader, BoolValues) {
  ExpectError(Bytes().Header(0, 1).Str("b").U32(kBool).U8(2), "metadata 'b': bool value 2");
  ExpectError(Bytes().Header(0, 1).Str("b").U32(kBool).U8(255), "bool value 255");
  Parsed p = ParseBytes(Bytes().Header(0, 1).Str("b").U32(kBool).U8(1));
  ASSERT_TRUE(p.file.ok());
  EXPECT_EQ(**(*p.file)->FindBool("b"), true);
}

TEST(GgufReader, DataSectionEdges) {
  // Zero tensors: the file may end anywhere after the metadata (no data section needed).
  {
    Parsed p = ParseBytes(Bytes().Header(0, 1).Str("k").U32(kU8).U8(7));
    ASSERT_TRUE(p.file.ok()) << p.file.status().message();
  }
  // A tensor ending exactly at the end of the file (no trailing padding) is fine; one byte
  // less is not.
  Bytes b;
  b.Header(1, 0).Str("t").U32(2).U64(3).U64(1).U32(0).U64(0).Pad(32).Zeros(12);
  {
    Parsed p = ParseBytes(b);
    ASSERT_TRUE(p.file.ok()) << p.file.status().message();
    const GgufTensorInfo& t = (*p.file)->tensors()[0];
    EXPECT_EQ(t.nbytes, 12u);
    EXPECT_EQ(t.data + 12, p.buf.get() + b.size());
  }
  Bytes short_b;
  short_b.Header(1, 0).Str("t").U32(2).U64(3).U64(1).U32(0).U64(0).Pad(32).Zeros(11);
  ExpectError(short_b, "tensor 't' (12 bytes at data offset 0) runs past the end of the file");
  // Tensors adjacent but not overlapping are fine; overlapping by one byte is not.
  Bytes adj;
  adj.Header(2, 0).Str("a").U32(1).U64(8).U32(0).U64(0);
  adj.Str("b").U32(1).U64(8).U32(0).U64(32).Pad(32).Zeros(64);
  EXPECT_TRUE(ParseBytes(adj).file.ok());
  Bytes ov;
  ov.Header(2, 0).Str("a").U32(1).U64(9).U32(0).U64(0);
  ov.Str("b").U32(1).U64(8).U32(0).U64(32).Pad(32).Zeros(64);
  ExpectError(ov, "tensors 'a' and 'b' overlap");
}

TEST(GgufReader, EmptyAndTinyInputs) {
  ExpectError(Bytes(), "truncated while reading the header");
  ExpectError(Bytes().Raw("GGUF", 4), "truncated while reading the header");
  ExpectError(Bytes().Raw("GGML", 4).Zeros(20), "bad magic");
  Parsed p = ParseBytes(Bytes().Header(0, 0));
  ASSERT_TRUE(p.file.ok()) << p.file.status().message();
  EXPECT_EQ((*p.file)->alignment(), 32u);
  Parsed v2 = ParseBytes(Bytes().Header(0, 0, 2));
  ASSERT_TRUE(v2.file.ok());
  EXPECT_EQ((*v2.file)->version(), 2u);
  Parsed v1 = ParseBytes(Bytes().Header(0, 0, 1));
  ASSERT_FALSE(v1.file.ok());
  EXPECT_EQ(v1.file.status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace foundry
