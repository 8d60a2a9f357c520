// Safetensors reader: a bounds-checked view over a memory-mapped `.safetensors` file (an
// 8-byte little-endian header length, a JSON header naming every tensor's dtype, shape and
// byte range, then the raw data). Every range is validated in Parse(); accessors trust it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace foundry {

enum class SafetensorsDtype {
  kBool,
  kU8,
  kI8,
  kF8E4M3,
  kF8E5M2,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64
};

std::string_view SafetensorsDtypeName(SafetensorsDtype d);
size_t SafetensorsDtypeSize(SafetensorsDtype d);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<uint64_t> shape;  // row-major: shape.back() is the contiguous dimension
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;

  uint64_t elements() const;
};

class SafetensorsFile {
 public:
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SafetensorsFile>> Parse(std::unique_ptr<MappedFile> file);

  const std::string& path() const { return file_->path(); }
  // Tensors in data order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(std::string_view name) const;
  // Hands a tensor's pages back to the OS once it has been read (a mapped file only), so
  // streaming a checkpoint through does not keep it resident.
  void DropPages(const SafetensorsTensor& t) const;

 private:
  SafetensorsFile() = default;
  Status ParseAll();

  std::unique_ptr<MappedFile> file_;
  bool mapped_ = false;  // opened with Open(): file_ is an mmap of the file
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string_view, size_t> index_;
};

// Converts elements [first, first + n) of a F32, F16 or BF16 tensor to float (exactly: every
// such value is a float). Other dtypes are an error naming the tensor.
Status SafetensorsToFloat(const SafetensorsTensor& t, uint64_t first, uint64_t n, float* out);

}  // namespace foundry
