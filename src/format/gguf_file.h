// GGUF reader: a bounds-checked view over a memory-mapped GGUF file (versions 2 and 3).
// Every count, offset and size is validated in Parse(); accessors then trust the index.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "base/tensor_type.h"

namespace foundry {

enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view GgufTypeName(GgufType t);
// Bytes of one numeric or bool value; 0 for strings and arrays.
size_t GgufScalarSize(GgufType t);

// One metadata value. Scalars are widened; arrays keep a view of their payload.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t u = 0;  // unsigned integers and bool
  int64_t i = 0;   // signed integers
  double f = 0;    // floats
  std::string_view str;
  // Arrays: element type and count. Numeric elements stay packed little-endian in the file
  // (`elems`, possibly unaligned); string elements are listed in `strs`. Nested arrays are
  // validated and counted but not exposed.
  GgufType elem_type = GgufType::kUint8;
  uint64_t count = 0;
  const uint8_t* elems = nullptr;
  std::vector<std::string_view> strs;

  bool IsInteger() const;
  bool IsNumericArray() const;
};

struct GgufTensorInfo {
  std::string name;
  uint32_t n_dims = 0;
  std::array<uint64_t, 4> ne = {1, 1, 1, 1};  // ne[0] is the contiguous (row) dimension
  QuantType type = QuantType::kF32;
  uint64_t offset = 0;  // relative to the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;

  uint64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  uint64_t rows() const { return ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  static StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Open with the file read into huge pages (MappedFile::ReadIntoHugePages), for the weights of
  // a model about to run.
  static StatusOr<std::unique_ptr<GgufFile>> OpenInHugePages(const std::string& path);
  static StatusOr<std::unique_ptr<GgufFile>> Parse(std::unique_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;

  // Typed lookups: nullopt when the key is absent, an error when it has the wrong type or
  // its value does not fit.
  StatusOr<std::optional<uint64_t>> FindUint(std::string_view key) const;
  StatusOr<std::optional<double>> FindFloat(std::string_view key) const;
  StatusOr<std::optional<bool>> FindBool(std::string_view key) const;
  StatusOr<std::optional<std::string_view>> FindString(std::string_view key) const;
  // Required variants: an error naming the key when it is absent.
  StatusOr<uint64_t> GetUint(std::string_view key) const;
  StatusOr<double> GetFloat(std::string_view key) const;
  StatusOr<std::string_view> GetString(std::string_view key) const;
  // Numeric arrays converted element-wise (integers to int64/float, floats to float).
  StatusOr<std::vector<int64_t>> GetIntArray(std::string_view key) const;
  StatusOr<std::vector<float>> GetFloatArray(std::string_view key) const;
  StatusOr<const std::vector<std::string_view>*> GetStringArray(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // MappedFile::ReleasePages for bytes of this file (a tensor's data copied elsewhere).
  void ReleasePages(const uint8_t* p, size_t n) const { file_->ReleasePages(p, n); }

 private:
  GgufFile() = default;
  Status ParseAll();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace foundry
