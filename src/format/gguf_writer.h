// GGUF v3 writer that streams tensor data: metadata and tensor infos are declared first, the
// header is written once, then each tensor's bytes are appended in declaration order (in as
// many pieces as the caller likes), so a model is never held in memory whole.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/tensor_type.h"
#include "format/gguf_file.h"

namespace foundry {

class GgufWriter {
 public:
  static constexpr uint64_t kAlignment = 32;  // GGUF's default general.alignment

  GgufWriter() = default;
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Metadata, in the order added. Keys must be unique (checked in Open()).
  void AddUint32(std::string_view key, uint32_t v);
  void AddInt32(std::string_view key, int32_t v);
  void AddUint64(std::string_view key, uint64_t v);
  void AddFloat32(std::string_view key, float v);
  void AddBool(std::string_view key, bool v);
  void AddString(std::string_view key, std::string_view v);
  void AddStringArray(std::string_view key, const std::vector<std::string>& v);
  void AddInt32Array(std::string_view key, const std::vector<int32_t>& v);
  void AddFloat32Array(std::string_view key, const std::vector<float>& v);
  // A value read by GgufFile, written as it was (its type kept); an error for nested arrays,
  // whose contents GgufFile does not keep.
  Status AddValue(std::string_view key, const GgufValue& v);

  // Declares a tensor; ne[0] is the contiguous dimension and must be a multiple of the type's
  // block size. Returns its byte size.
  StatusOr<uint64_t> AddTensor(std::string_view name, const std::vector<uint64_t>& ne,
                               QuantType type);
  // Bytes of the data section (tensors plus alignment padding): the file is about this plus
  // the header.
  uint64_t data_bytes() const { return data_bytes_; }

  // Creates `path` and writes the header, metadata and tensor infos.
  Status Open(const std::string& path);
  // Appends the next bytes of the current tensor (tensors in declaration order).
  Status Append(const void* data, size_t n);
  // Checks the file has every tensor's bytes, flushes and closes it.
  Status Finish();

 private:
  struct TensorInfo {
    std::string name;
    std::vector<uint64_t> ne;
    QuantType type;
    uint64_t offset;
    uint64_t nbytes;
  };
  void Key(std::string_view key, GgufType type);
  void PutString(std::string_view s);
  template <typename T>
  void Put(T v);
  Status Write(const void* p, size_t n);
  Status Pad(uint64_t n);

  std::vector<uint8_t> kv_;  // serialized key/value pairs
  uint64_t n_kv_ = 0;
  std::vector<std::string> keys_;
  std::vector<TensorInfo> tensors_;
  uint64_t data_bytes_ = 0;

  std::FILE* out_ = nullptr;
  std::string path_;
  size_t current_ = 0;         // tensor being appended
  uint64_t current_done_ = 0;  // its bytes written so far
};

}  // namespace foundry
