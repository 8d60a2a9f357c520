#include "format/onnx_model.h"

#include <limits>

#include "format/protobuf_wire.h"

namespace foundry {
namespace fs = std::filesystem;
namespace {

// onnx.proto field numbers.
constexpr uint32_t kModelGraph = 7;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5;
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4,
                   kNodeAttribute = 5, kNodeDomain = 7;
constexpr uint32_t kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrInts = 8;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorName = 8, kTensorRawData = 9,
                   kTensorExternalData = 13, kTensorDataLocation = 14;
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;
// Typed data fields (float_data, int32_data, string_data, int64_data, double_data,
// uint64_data): the importer reads raw or external data only.
bool IsTypedDataField(uint32_t n) {
  return n == 4 || n == 5 || n == 6 || n == 7 || n == 10 || n == 11;
}

StatusOr<uint64_t> ParseUnsigned(const std::string& s, const std::string& what) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
    return CorruptFile(what + " is not a non-negative integer: '" + s.substr(0, 40) + "'");
  }
  return std::stoull(s);
}

}  // namespace

size_t OnnxDtypeSize(int32_t dtype) {
  switch (static_cast<OnnxDtype>(dtype)) {
    case OnnxDtype::kFloat:
    case OnnxDtype::kInt32:
      return 4;
    case OnnxDtype::kUint8:
    case OnnxDtype::kInt8:
      return 1;
    case OnnxDtype::kInt64:
      return 8;
    case OnnxDtype::kFloat16:
    case OnnxDtype::kBFloat16:
      return 2;
  }
  return 0;
}

std::optional<int64_t> OnnxNode::Int(const std::string& attr) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? std::nullopt : it->second.i;
}

std::optional<float> OnnxNode::Float(const std::string& attr) const {
  auto it = attributes.find(attr);
  return it == attributes.end() ? std::nullopt : it->second.f;
}

uint64_t OnnxTensor::elements() const {
  uint64_t n = 1;
  for (int64_t d : dims) n *= static_cast<uint64_t>(d);
  return n;
}

StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::Open(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFound(path.string() + " is missing");
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path.string()));
  return Parse(std::move(file), path.parent_path());
}

StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::Parse(std::unique_ptr<MappedFile> file,
                                                      const fs::path& dir) {
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  m->what_ = file->path().empty() ? std::string("ONNX model") : file->path();
  m->dir_ = dir;
  m->file_ = std::move(file);
  FOUNDRY_RETURN_IF_ERROR(m->ParseModel(
      std::string_view(reinterpret_cast<const char*>(m->file_->data()), m->file_->size())));
  for (size_t i = 0; i < m->initializers_.size(); ++i) {
    if (!m->index_.emplace(m->initializers_[i].name, i).second) {
      return CorruptFile(m->what_ + ": initializer " + m->initializers_[i].name + " appears twice");
    }
  }
  return m;
}

const OnnxTensor* OnnxModel::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &initializers_[it->second];
}

Status OnnxModel::ParseModel(std::string_view bytes) {
  WireReader r(bytes, what_);
  bool graph = false;
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.number == kModelGraph && f.type == WireType::kLengthDelimited) {
      FOUNDRY_RETURN_IF_ERROR(ParseGraph(f.bytes));
      graph = true;
    }
  }
  if (!graph) return CorruptFile(what_ + " has no graph: not an ONNX model");
  return OkStatus();
}

Status OnnxModel::ParseGraph(std::string_view bytes) {
  WireReader r(bytes, what_ + ": GraphProto");
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.type != WireType::kLengthDelimited) continue;
    if (f.number == kGraphNode) FOUNDRY_RETURN_IF_ERROR(ParseNode(f.bytes));
    if (f.number == kGraphInitializer) FOUNDRY_RETURN_IF_ERROR(ParseTensor(f.bytes));
  }
  return OkStatus();
}

Status OnnxModel::ParseNode(std::string_view bytes) {
  WireReader r(bytes, what_ + ": NodeProto");
  OnnxNode node;
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.type != WireType::kLengthDelimited) continue;
    switch (f.number) {
      case kNodeInput:
        node.inputs.emplace_back(f.bytes);
        break;
      case kNodeOutput:
        node.outputs.emplace_back(f.bytes);
        break;
      case kNodeName:
        node.name = f.bytes;
        break;
      case kNodeOpType:
        node.op_type = f.bytes;
        break;
      case kNodeDomain:
        node.domain = f.bytes;
        break;
      case kNodeAttribute: {
        WireReader a(f.bytes, what_ + ": AttributeProto");
        std::string name;
        OnnxAttribute attr;
        while (!a.done()) {
          FOUNDRY_ASSIGN_OR_RETURN(WireField af, a.Next());
          if (af.number == kAttrName && af.type == WireType::kLengthDelimited) name = af.bytes;
          if (af.number == kAttrI && af.type == WireType::kVarint) {
            attr.i = static_cast<int64_t>(af.varint);
          }
          if (af.number == kAttrF) {
            std::vector<float> v;
            FOUNDRY_RETURN_IF_ERROR(a.AppendFloats(af, &v));
            if (!v.empty()) attr.f = v.back();
          }
          if (af.number == kAttrInts) FOUNDRY_RETURN_IF_ERROR(a.AppendInt64s(af, &attr.ints));
        }
        node.attributes[name] = std::move(attr);
        break;
      }
      default:
        break;
    }
  }
  nodes_.push_back(std::move(node));
  return OkStatus();
}

Status OnnxModel::ParseTensor(std::string_view bytes) {
  WireReader r(bytes, what_ + ": TensorProto");
  OnnxTensor t;
  std::string_view raw;
  bool has_raw = false, typed = false, external = false;
  std::string location;
  std::optional<uint64_t> offset, length;
  while (!r.done()) {
    FOUNDRY_ASSIGN_OR_RETURN(WireField f, r.Next());
    if (f.number == kTensorDims) {
      FOUNDRY_RETURN_IF_ERROR(r.AppendInt64s(f, &t.dims));
    } else if (f.number == kTensorDataType && f.type == WireType::kVarint) {
      t.dtype = static_cast<int32_t>(f.varint);
    } else if (f.number == kTensorName && f.type == WireType::kLengthDelimited) {
      t.name = f.bytes;
    } else if (f.number == kTensorRawData && f.type == WireType::kLengthDelimited) {
      raw = f.bytes;
      has_raw = true;
    } else if (f.number == kTensorDataLocation && f.type == WireType::kVarint) {
      external = f.varint == 1;
    } else if (f.number == kTensorExternalData && f.type == WireType::kLengthDelimited) {
      WireReader e(f.bytes, what_ + ": external_data");
      std::string key, value;
      while (!e.done()) {
        FOUNDRY_ASSIGN_OR_RETURN(WireField ef, e.Next());
        if (ef.type != WireType::kLengthDelimited) continue;
        if (ef.number == kEntryKey) key = ef.bytes;
        if (ef.number == kEntryValue) value = ef.bytes;
      }
      const std::string what = what_ + ": tensor " + t.name + " external_data " + key;
      if (key == "location") location = value;
      if (key == "offset" || key == "length") {
        FOUNDRY_ASSIGN_OR_RETURN(uint64_t v, ParseUnsigned(value, what));
        (key == "offset" ? offset : length) = v;
      }
    } else if (IsTypedDataField(f.number)) {
      typed = true;
    }
  }
  const std::string what = what_ + ": tensor '" + t.name + "'";
  // The byte size the dims and type imply, without overflow.
  const size_t elem = OnnxDtypeSize(t.dtype);
  uint64_t n = 1;
  for (int64_t d : t.dims) {
    if (d < 0 ||
        (d > 0 && n > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(d))) {
      return CorruptFile(what + " has a bad dimension " + std::to_string(d));
    }
    n *= static_cast<uint64_t>(d);
  }
  if (elem == 0) {  // a type no importer reads: kept without data, so a use of it fails
    initializers_.push_back(std::move(t));
    return OkStatus();
  }
  const uint64_t nbytes = n * elem;
  if (external) {
    if (location.empty()) return CorruptFile(what + " has external data without a location");
    FOUNDRY_ASSIGN_OR_RETURN(const MappedFile* data, ExternalFile(location));
    const uint64_t off = offset.value_or(0);
    const uint64_t len = length.value_or(data->size() >= off ? data->size() - off : 0);
    if (off > data->size() || len > data->size() - off) {
      return CorruptFile(what + ": bytes [" + std::to_string(off) + ", " +
                         std::to_string(off + len) + ") lie outside " + location + " (" +
                         std::to_string(data->size()) + " bytes): truncated file?");
    }
    if (len != nbytes) {
      return CorruptFile(what + " has " + std::to_string(len) + " bytes of external data but its " +
                         "shape needs " + std::to_string(nbytes));
    }
    t.data = data->data() + off;
  } else if (has_raw) {
    if (raw.size() != nbytes) {
      return CorruptFile(what + " has " + std::to_string(raw.size()) +
                         " raw bytes but its shape needs " + std::to_string(nbytes));
    }
    t.data = reinterpret_cast<const uint8_t*>(raw.data());
  } else if (typed && nbytes > 0) {
    return Unimplemented(what +
                         " stores its values in typed fields; only raw_data and external "
                         "data are read");
  } else if (nbytes > 0) {
    return CorruptFile(what + " has no data");
  }
  t.nbytes = nbytes;
  initializers_.push_back(std::move(t));
  return OkStatus();
}

StatusOr<const MappedFile*> OnnxModel::ExternalFile(const std::string& location) {
  auto it = external_.find(location);
  if (it != external_.end()) return it->second.get();
  const fs::path rel(location);
  if (dir_.empty() || location.empty() || rel.is_absolute() ||
      location.find("..") != std::string::npos || location.find('\0') != std::string::npos) {
    return CorruptFile(what_ + ": external data location '" + location.substr(0, 80) +
                       "' is not a file next to the model");
  }
  const fs::path path = dir_ / rel;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFound(path.string() + " (the model's external data) is missing");
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> f, MappedFile::Open(path.string()));
  const MappedFile* p = f.get();
  external_.emplace(location, std::move(f));
  return p;
}

}  // namespace foundry
