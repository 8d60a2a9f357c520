#include "format/protobuf_wire.h"

#include <cstring>

namespace foundry {

Status WireReader::Error(const std::string& problem) const {
  return CorruptFile(what_ + ": " + problem + " (corrupt or truncated protobuf)");
}

StatusOr<uint64_t> WireReader::Varint(std::string_view* in) const {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return Error("a varint runs past the end");
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Error("a varint is longer than 10 bytes");
}

StatusOr<WireField> WireReader::Next() {
  FOUNDRY_ASSIGN_OR_RETURN(uint64_t tag, Varint(&rest_));
  WireField f;
  if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return Error("field number out of range");
  f.number = static_cast<uint32_t>(tag >> 3);
  const auto fixed = [&](size_t n) -> Status {
    if (rest_.size() < n) return Error("a fixed-size field runs past the end");
    uint64_t v = 0;
    std::memcpy(&v, rest_.data(), n);  // little-endian hosts only, as the GGUF reader
    f.varint = v;
    rest_.remove_prefix(n);
    return OkStatus();
  };
  switch (tag & 7) {
    case 0: {
      f.type = WireType::kVarint;
      FOUNDRY_ASSIGN_OR_RETURN(f.varint, Varint(&rest_));
      return f;
    }
    case 1:
      f.type = WireType::kFixed64;
      FOUNDRY_RETURN_IF_ERROR(fixed(8));
      return f;
    case 5:
      f.type = WireType::kFixed32;
      FOUNDRY_RETURN_IF_ERROR(fixed(4));
      return f;
    case 2: {
      f.type = WireType::kLengthDelimited;
      FOUNDRY_ASSIGN_OR_RETURN(uint64_t n, Varint(&rest_));
      if (n > rest_.size()) {
        return Error("field " + std::to_string(f.number) + " claims " + std::to_string(n) +
                     " bytes but " + std::to_string(rest_.size()) + " are left");
      }
      f.bytes = rest_.substr(0, n);
      rest_.remove_prefix(n);
      return f;
    }
    default:
      return Error("unsupported wire type " + std::to_string(tag & 7) + " in field " +
                   std::to_string(f.number));
  }
}

Status WireReader::AppendInt64s(const WireField& f, std::vector<int64_t>* out) const {
  if (f.type == WireType::kVarint) {
    out->push_back(static_cast<int64_t>(f.varint));
    return OkStatus();
  }
  if (f.type != WireType::kLengthDelimited) return Error("an integer field has a bad wire type");
  std::string_view in = f.bytes;
  while (!in.empty()) {
    FOUNDRY_ASSIGN_OR_RETURN(uint64_t v, Varint(&in));
    out->push_back(static_cast<int64_t>(v));
  }
  return OkStatus();
}

Status WireReader::AppendFloats(const WireField& f, std::vector<float>* out) const {
  const auto to_float = [](uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  };
  if (f.type == WireType::kFixed32) {
    out->push_back(to_float(static_cast<uint32_t>(f.varint)));
    return OkStatus();
  }
  if (f.type != WireType::kLengthDelimited || f.bytes.size() % 4 != 0) {
    return Error("a float field has a bad wire type or length");
  }
  for (size_t i = 0; i < f.bytes.size(); i += 4) {
    uint32_t bits;
    std::memcpy(&bits, f.bytes.data() + i, 4);
    out->push_back(to_float(bits));
  }
  return OkStatus();
}

}  // namespace foundry
