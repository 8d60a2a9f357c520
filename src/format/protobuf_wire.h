// A bounds-checked reader of the protocol buffers wire format (varints, tags, length-delimited
// fields, fixed32/64), enough to walk a message field by field without generated code. Every
// read checks the bytes left; nothing points outside the buffer it was given.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace foundry::protowire {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;    // kVarint, kFixed64, kFixed32 (the raw bits)
  std::string_view data;  // kLen: the payload, inside the reader's buffer
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // The next field; false at the end or on malformed input (then `error()` is set).
  bool Next(Field* f) {
    if (p_ == end_ || error_ != nullptr) return false;
    uint64_t tag = 0;
    if (!Varint(&tag)) return Fail("truncated tag");
    f->number = static_cast<uint32_t>(tag >> 3);
    if (f->number == 0 || (tag >> 3) > 0x1FFFFFFF) return Fail("bad field number");
    switch (tag & 7) {
      case 0:
        f->type = WireType::kVarint;
        if (!Varint(&f->varint)) return Fail("truncated varint");
        return true;
      case 1:
        f->type = WireType::kFixed64;
        return Fixed(8, &f->varint);
      case 5:
        f->type = WireType::kFixed32;
        return Fixed(4, &f->varint);
      case 2: {
        f->type = WireType::kLen;
        uint64_t n = 0;
        if (!Varint(&n)) return Fail("truncated length");
        if (n > static_cast<uint64_t>(end_ - p_)) return Fail("length past the end");
        f->data = std::string_view(p_, static_cast<size_t>(n));
        p_ += n;
        return true;
      }
      default:
        return Fail("unsupported wire type (groups or reserved)");
    }
  }

  // Set once Next() met malformed input; nullptr otherwise.
  const char* error() const { return error_; }

 private:
  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  bool Fixed(size_t n, uint64_t* out) {
    if (static_cast<size_t>(end_ - p_) < n) return Fail("truncated fixed-size field");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += n;
    *out = v;
    return true;
  }
  bool Fail(const char* what) {
    error_ = what;
    return false;
  }

  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

// A fixed32 field's bits as the float they hold.
inline float Fixed32AsFloat(uint64_t bits) {
  const auto b = static_cast<uint32_t>(bits);
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

}  // namespace foundry::protowire
