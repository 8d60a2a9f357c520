// An ONNX model (ModelProto) read with the protobuf wire reader: the graph's nodes (op type,
// name, inputs, outputs, scalar and integer-list attributes) and its initializers, whose data
// lies either inside model.onnx (raw_data) or in external files (TensorProto.external_data:
// location, offset, length), mapped read-only and bounds-checked. Only what an importer of
// ONNX Runtime GenAI decoder graphs needs is kept; other fields are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace foundry {

// TensorProto.DataType values the importer reads.
enum class OnnxDtype : int32_t {
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kInt32 = 6,
  kInt64 = 7,
  kFloat16 = 10,
  kBFloat16 = 16,
};
// Bytes per element; 0 for a type the importer does not read.
size_t OnnxDtypeSize(int32_t dtype);

struct OnnxAttribute {
  std::optional<int64_t> i;
  std::optional<float> f;
  std::vector<int64_t> ints;
};

struct OnnxNode {
  std::string name;
  std::string op_type;
  std::string domain;
  std::vector<std::string> inputs;  // "" for an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, OnnxAttribute> attributes;

  std::optional<int64_t> Int(const std::string& attr) const;
  std::optional<float> Float(const std::string& attr) const;
};

struct OnnxTensor {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;  // checked: nbytes = product(dims) x OnnxDtypeSize(dtype)
  uint64_t nbytes = 0;

  uint64_t elements() const;
};

class OnnxModel {
 public:
  // Maps `path` and the external data files its initializers name (relative to its folder,
  // never outside it).
  static StatusOr<std::unique_ptr<OnnxModel>> Open(const std::filesystem::path& path);
  // Parses bytes in memory; external data is looked up in `dir` (empty: none allowed).
  static StatusOr<std::unique_ptr<OnnxModel>> Parse(std::unique_ptr<MappedFile> file,
                                                    const std::filesystem::path& dir);

  const std::vector<OnnxNode>& nodes() const { return nodes_; }
  const std::vector<OnnxTensor>& initializers() const { return initializers_; }
  const OnnxTensor* Find(std::string_view name) const;

 private:
  OnnxModel() = default;
  Status ParseModel(std::string_view bytes);
  Status ParseGraph(std::string_view bytes);
  Status ParseNode(std::string_view bytes);
  Status ParseTensor(std::string_view bytes);
  StatusOr<const MappedFile*> ExternalFile(const std::string& location);

  std::string what_;  // the file, for messages
  std::filesystem::path dir_;
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, std::unique_ptr<MappedFile>> external_;
  std::vector<OnnxNode> nodes_;
  std::vector<OnnxTensor> initializers_;
  std::unordered_map<std::string_view, size_t> index_;
};

}  // namespace foundry
