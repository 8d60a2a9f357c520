// Protocol Buffers wire format, read without a schema: a bounds-checked cursor over a message's
// bytes yielding (field number, wire type, value) one field at a time. Enough to read ONNX's
// ModelProto (src/format/onnx_model.*) without linking libprotobuf; every length and varint is
// checked against the bytes left, so a corrupt or truncated message is an error, never a read
// outside the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foundry {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;     // kVarint, kFixed64, kFixed32 (the raw bits)
  std::string_view bytes;  // kLengthDelimited: a nested message, a string or packed values
};

class WireReader {
 public:
  // `what` names the message in error messages ("model.onnx: NodeProto").
  WireReader(std::string_view bytes, std::string what) : rest_(bytes), what_(std::move(what)) {}
  // The reader keeps a view: a temporary's bytes would be gone before they are read.
  WireReader(std::string&& bytes, std::string what) = delete;

  bool done() const { return rest_.empty(); }
  // The next field; an error when the bytes end inside it or use a wire type other than the
  // four above (groups are deprecated and never appear in ONNX).
  StatusOr<WireField> Next();

  // Repeated scalar fields arrive either one value per field or packed in one length-delimited
  // field; these append a field's value(s) either way.
  Status AppendInt64s(const WireField& f, std::vector<int64_t>* out) const;
  Status AppendFloats(const WireField& f, std::vector<float>* out) const;

 private:
  StatusOr<uint64_t> Varint(std::string_view* in) const;
  Status Error(const std::string& problem) const;

  std::string_view rest_;
  std::string what_;
};

}  // namespace foundry
