#include "format/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace foundry {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
// Sanity caps: far above any real model, far below what would exhaust memory.
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxMetadata = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 30;
constexpr uint32_t kMaxArrayDepth = 4;
constexpr uint32_t kMaxDims = 4;

// Names read from the file appear in error messages quoted, with control bytes escaped and
// long names cut, so that a message stays one short line whatever the file holds.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t k = 0; k < s.size() && k < kMaxShown; ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += '\'';
  return out;
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

// A cursor over untrusted bytes. Every read checks the remaining length first.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  template <typename T>
  Status Read(T* out, const char* what) {
    if (remaining() < sizeof(T)) return Truncated(what);
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return OkStatus();
  }
  Status ReadString(std::string_view* out, const char* what) {
    uint64_t len = 0;
    FOUNDRY_RETURN_IF_ERROR(Read(&len, what));
    if (len > kMaxStringBytes || len > remaining()) {
      return CorruptFile(std::string(what) + ": string length " + std::to_string(len) +
                         " runs past the end of the file (offset " + std::to_string(pos_) + ")");
    }
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return OkStatus();
  }
  Status Skip(uint64_t n, const char* what) {
    if (n > remaining()) return Truncated(what);
    pos_ += n;
    return OkStatus();
  }
  const uint8_t* here() const { return data_ + pos_; }
  Status Truncated(const char* what) const {
    return CorruptFile(std::string("file truncated while reading ") + what + " at offset " +
                       std::to_string(pos_));
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

Status ReadScalar(Reader& r, GgufType t, GgufValue* v, const char* what) {
  switch (t) {
    case GgufType::kUint8: {
      uint8_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->u = x;
      return OkStatus();
    }
    case GgufType::kInt8: {
      int8_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->i = x;
      return OkStatus();
    }
    case GgufType::kUint16: {
      uint16_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->u = x;
      return OkStatus();
    }
    case GgufType::kInt16: {
      int16_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->i = x;
      return OkStatus();
    }
    case GgufType::kUint32: {
      uint32_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->u = x;
      return OkStatus();
    }
    case GgufType::kInt32: {
      int32_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->i = x;
      return OkStatus();
    }
    case GgufType::kFloat32: {
      float x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      v->f = x;
      return OkStatus();
    }
    case GgufType::kBool: {
      uint8_t x = 0;
      FOUNDRY_RETURN_IF_ERROR(r.Read(&x, what));
      if (x > 1) return CorruptFile(std::string(what) + ": bool value " + std::to_string(x));
      v->u = x;
      return OkStatus();
    }
    case GgufType::kUint64:
      return r.Read(&v->u, what);
    case GgufType::kInt64:
      return r.Read(&v->i, what);
    case GgufType::kFloat64:
      return r.Read(&v->f, what);
    case GgufType::kString:
      return r.ReadString(&v->str, what);
    case GgufType::kArray:
      break;
  }
  return Internal("ReadScalar on a non-scalar type");
}

// Reads (and validates) an array body; `depth` bounds nesting so hostile files cannot
// recurse without end.
Status ReadArray(Reader& r, GgufValue* v, uint32_t depth, bool keep, const char* what) {
  if (depth > kMaxArrayDepth) return CorruptFile(std::string(what) + ": arrays nested too deep");
  uint32_t elem = 0;
  FOUNDRY_RETURN_IF_ERROR(r.Read(&elem, what));
  if (!KnownType(elem)) {
    return CorruptFile(std::string(what) + ": unknown array element type " + std::to_string(elem));
  }
  uint64_t count = 0;
  FOUNDRY_RETURN_IF_ERROR(r.Read(&count, what));
  v->elem_type = static_cast<GgufType>(elem);
  v->count = count;
  const GgufType et = v->elem_type;
  if (et == GgufType::kString) {
    // Each string needs at least its 8-byte length: reject impossible counts before reserving.
    if (count > r.remaining() / 8) {
      return CorruptFile(std::string(what) + ": array of " + std::to_string(count) +
                         " strings cannot fit in the file");
    }
    if (keep) v->strs.reserve(count);
    for (uint64_t k = 0; k < count; ++k) {
      std::string_view s;
      FOUNDRY_RETURN_IF_ERROR(r.ReadString(&s, what));
      if (keep) v->strs.push_back(s);
    }
    return OkStatus();
  }
  if (et == GgufType::kArray) {
    if (count > r.remaining() / 12) {
      return CorruptFile(std::string(what) + ": array of " + std::to_string(count) +
                         " arrays cannot fit in the file");
    }
    for (uint64_t k = 0; k < count; ++k) {
      GgufValue inner;
      FOUNDRY_RETURN_IF_ERROR(ReadArray(r, &inner, depth + 1, false, what));
    }
    return OkStatus();
  }
  const size_t es = GgufScalarSize(et);
  if (count > r.remaining() / es) {
    return CorruptFile(std::string(what) + ": array of " + std::to_string(count) +
                       " elements runs past the end of the file");
  }
  v->elems = r.here();
  if (et == GgufType::kBool) {
    for (uint64_t k = 0; k < count; ++k) {
      if (v->elems[k] > 1)
        return CorruptFile(std::string(what) + ": bool array value out of range");
    }
  }
  return r.Skip(count * es, what);
}

template <typename T>
T LoadUnaligned(const uint8_t* p) {
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

// Reads element k of a numeric array as double / int64.
double ElementAsDouble(const GgufValue& v, uint64_t k) {
  const uint8_t* p = v.elems + k * GgufScalarSize(v.elem_type);
  switch (v.elem_type) {
    case GgufType::kUint8:
      return *p;
    case GgufType::kInt8:
      return static_cast<int8_t>(*p);
    case GgufType::kBool:
      return *p;
    case GgufType::kUint16:
      return LoadUnaligned<uint16_t>(p);
    case GgufType::kInt16:
      return LoadUnaligned<int16_t>(p);
    case GgufType::kUint32:
      return LoadUnaligned<uint32_t>(p);
    case GgufType::kInt32:
      return LoadUnaligned<int32_t>(p);
    case GgufType::kFloat32:
      return LoadUnaligned<float>(p);
    case GgufType::kUint64:
      return static_cast<double>(LoadUnaligned<uint64_t>(p));
    case GgufType::kInt64:
      return static_cast<double>(LoadUnaligned<int64_t>(p));
    case GgufType::kFloat64:
      return LoadUnaligned<double>(p);
    default:
      return 0;
  }
}

bool ElementAsInt(const GgufValue& v, uint64_t k, int64_t* out) {
  const uint8_t* p = v.elems + k * GgufScalarSize(v.elem_type);
  switch (v.elem_type) {
    case GgufType::kUint8:
      *out = *p;
      return true;
    case GgufType::kInt8:
      *out = static_cast<int8_t>(*p);
      return true;
    case GgufType::kBool:
      *out = *p;
      return true;
    case GgufType::kUint16:
      *out = LoadUnaligned<uint16_t>(p);
      return true;
    case GgufType::kInt16:
      *out = LoadUnaligned<int16_t>(p);
      return true;
    case GgufType::kUint32:
      *out = LoadUnaligned<uint32_t>(p);
      return true;
    case GgufType::kInt32:
      *out = LoadUnaligned<int32_t>(p);
      return true;
    case GgufType::kInt64:
      *out = LoadUnaligned<int64_t>(p);
      return true;
    case GgufType::kUint64: {
      const uint64_t u = LoadUnaligned<uint64_t>(p);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      *out = static_cast<int64_t>(u);
      return true;
    }
    default:
      return false;
  }
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

std::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "uint8";
    case GgufType::kInt8:
      return "int8";
    case GgufType::kUint16:
      return "uint16";
    case GgufType::kInt16:
      return "int16";
    case GgufType::kUint32:
      return "uint32";
    case GgufType::kInt32:
      return "int32";
    case GgufType::kFloat32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "uint64";
    case GgufType::kInt64:
      return "int64";
    case GgufType::kFloat64:
      return "float64";
  }
  return "unknown";
}

size_t GgufScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool GgufValue::IsInteger() const {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::IsNumericArray() const {
  return type == GgufType::kArray && elem_type != GgufType::kString &&
         elem_type != GgufType::kArray;
}

namespace {

StatusOr<std::unique_ptr<GgufFile>> ParseNamed(const std::string& path,
                                               StatusOr<std::unique_ptr<MappedFile>> file) {
  if (!file.ok()) return file.status();
  auto parsed = GgufFile::Parse(std::move(file).value());
  if (!parsed.ok()) {
    return Status(parsed.status().code(), path + ": " + parsed.status().message());
  }
  return parsed;
}

}  // namespace

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  return ParseNamed(path, MappedFile::Open(path));
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::OpenInHugePages(const std::string& path) {
  return ParseNamed(path, MappedFile::ReadIntoHugePages(path));
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::unique_ptr<MappedFile> file) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->file_ = std::move(file);
  FOUNDRY_RETURN_IF_ERROR(g->ParseAll());
  return g;
}

Status GgufFile::ParseAll() {
  Reader r(file_->data(), file_->size());
  uint32_t magic = 0;
  FOUNDRY_RETURN_IF_ERROR(r.Read(&magic, "the header"));
  if (magic != kMagic) return CorruptFile("not a GGUF file (bad magic)");
  FOUNDRY_RETURN_IF_ERROR(r.Read(&version_, "the header"));
  if (version_ != 2 && version_ != 3) {
    return Unimplemented("unsupported GGUF version " + std::to_string(version_) +
                         " (supported: 2, 3)");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  FOUNDRY_RETURN_IF_ERROR(r.Read(&n_tensors, "the header"));
  FOUNDRY_RETURN_IF_ERROR(r.Read(&n_kv, "the header"));
  if (n_tensors > kMaxTensors) {
    return CorruptFile("absurd tensor count " + std::to_string(n_tensors));
  }
  if (n_kv > kMaxMetadata) return CorruptFile("absurd metadata count " + std::to_string(n_kv));
  // Each entry takes at least 13 bytes (key length, type, a one-byte value): reject impossible
  // counts before reserving, so a 24-byte file cannot make us allocate for a million entries.
  if (n_kv > r.remaining() / 13) {
    return CorruptFile("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
  }

  // Metadata.
  metadata_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string_view key;
    FOUNDRY_RETURN_IF_ERROR(r.ReadString(&key, "a metadata key"));
    const std::string key_str(key);
    const std::string what = "metadata " + Quote(key_str);
    uint32_t type = 0;
    FOUNDRY_RETURN_IF_ERROR(r.Read(&type, what.c_str()));
    if (!KnownType(type)) {
      return CorruptFile(what + ": unknown value type " + std::to_string(type));
    }
    GgufValue v;
    v.type = static_cast<GgufType>(type);
    if (v.type == GgufType::kArray) {
      FOUNDRY_RETURN_IF_ERROR(ReadArray(r, &v, 1, true, what.c_str()));
    } else {
      FOUNDRY_RETURN_IF_ERROR(ReadScalar(r, v.type, &v, what.c_str()));
    }
    metadata_.emplace_back(key_str, std::move(v));
  }
  for (size_t k = 0; k < metadata_.size(); ++k) {
    if (!metadata_index_.emplace(metadata_[k].first, k).second) {
      return CorruptFile("duplicate metadata key " + Quote(metadata_[k].first));
    }
  }

  {
    // Any non-negative integer type is accepted (signed values live in `i`, not `u`).
    FOUNDRY_ASSIGN_OR_RETURN(const std::optional<uint64_t> a, FindUint("general.alignment"));
    if (a) {
      if (*a == 0 || *a > (1u << 20) || (*a & (*a - 1)) != 0) {
        return CorruptFile("general.alignment must be a power of two up to 1 MiB (got " +
                           std::to_string(*a) + ")");
      }
      alignment_ = *a;
    }
  }

  // Tensor infos.
  if (n_tensors > r.remaining() / 24) {
    return CorruptFile("tensor count " + std::to_string(n_tensors) + " cannot fit in the file");
  }
  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t;
    std::string_view name;
    FOUNDRY_RETURN_IF_ERROR(r.ReadString(&name, "a tensor name"));
    t.name = std::string(name);
    const std::string what = "tensor " + Quote(t.name);
    FOUNDRY_RETURN_IF_ERROR(r.Read(&t.n_dims, what.c_str()));
    if (t.n_dims == 0 || t.n_dims > kMaxDims) {
      return CorruptFile(what + ": " + std::to_string(t.n_dims) + " dimensions (1 to 4 allowed)");
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      FOUNDRY_RETURN_IF_ERROR(r.Read(&t.ne[d], what.c_str()));
      if (t.ne[d] == 0 || MulOverflows(elements, t.ne[d], &elements) ||
          elements > (uint64_t{1} << 48)) {
        return CorruptFile(what + ": invalid shape (dimension " + std::to_string(d) + " = " +
                           std::to_string(t.ne[d]) + ")");
      }
    }
    uint32_t type = 0;
    FOUNDRY_RETURN_IF_ERROR(r.Read(&type, what.c_str()));
    const auto info = FindQuantTypeInfo(type);
    if (!info) return CorruptFile(what + ": unknown tensor type " + std::to_string(type));
    t.type = static_cast<QuantType>(type);
    if (t.ne[0] % info->block_elems != 0) {
      return CorruptFile(what + ": row of " + std::to_string(t.ne[0]) + " elements is not a " +
                         "multiple of the " + std::string(info->name) + " block size");
    }
    FOUNDRY_RETURN_IF_ERROR(r.Read(&t.offset, what.c_str()));
    if (t.offset % alignment_ != 0) {
      return CorruptFile(what + ": data offset " + std::to_string(t.offset) +
                         " is not aligned to " + std::to_string(alignment_));
    }
    t.nbytes = elements / info->block_elems * info->block_bytes;
    tensors_.push_back(std::move(t));
  }

  // Data section: starts at the next aligned offset; every tensor must lie inside it.
  const uint64_t data_start = (r.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (data_start > file_->size()) {
    if (!tensors_.empty()) return CorruptFile("file truncated before the tensor data section");
  }
  const uint64_t data_size = data_start <= file_->size() ? file_->size() - data_start : 0;
  for (auto& t : tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      return CorruptFile("tensor " + Quote(t.name) + " (" + std::to_string(t.nbytes) +
                         " bytes at data offset " + std::to_string(t.offset) +
                         ") runs past the end of the file: truncated download?");
    }
    t.data = file_->data() + data_start + t.offset;
  }
  for (size_t k = 0; k < tensors_.size(); ++k) {
    if (!tensor_index_.emplace(tensors_[k].name, k).second) {
      return CorruptFile("duplicate tensor name " + Quote(tensors_[k].name));
    }
  }
  // Overlapping tensors mean a corrupt index; check on offsets sorted.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    if (by_offset[k - 1]->offset + by_offset[k - 1]->nbytes > by_offset[k]->offset) {
      return CorruptFile("tensors " + Quote(by_offset[k - 1]->name) + " and " +
                         Quote(by_offset[k]->name) + " overlap");
    }
  }
  return OkStatus();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Status WrongType(std::string_view key, const GgufValue& v, const char* want) {
  return CorruptFile("metadata " + Quote(key) + " is " + std::string(GgufTypeName(v.type)) +
                     ", expected " + want);
}
Status Missing(std::string_view key) {
  return CorruptFile("required metadata " + Quote(key) + " is missing");
}
}  // namespace

StatusOr<std::optional<uint64_t>> GgufFile::FindUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::optional<uint64_t>();
  if (!v->IsInteger()) return WrongType(key, *v, "an integer");
  const bool is_signed = v->type == GgufType::kInt8 || v->type == GgufType::kInt16 ||
                         v->type == GgufType::kInt32 || v->type == GgufType::kInt64;
  if (is_signed) {
    if (v->i < 0) {
      return CorruptFile("metadata " + Quote(key) + " is negative (" + std::to_string(v->i) + ")");
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(v->i));
  }
  return std::optional<uint64_t>(v->u);
}

StatusOr<std::optional<double>> GgufFile::FindFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::optional<double>();
  if (v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64) {
    return std::optional<double>(v->f);
  }
  if (v->IsInteger()) {
    const bool is_signed = v->type == GgufType::kInt8 || v->type == GgufType::kInt16 ||
                           v->type == GgufType::kInt32 || v->type == GgufType::kInt64;
    return std::optional<double>(is_signed ? static_cast<double>(v->i) : static_cast<double>(v->u));
  }
  return WrongType(key, *v, "a number");
}

StatusOr<std::optional<bool>> GgufFile::FindBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::optional<bool>();
  if (v->type != GgufType::kBool) return WrongType(key, *v, "a bool");
  return std::optional<bool>(v->u != 0);
}

StatusOr<std::optional<std::string_view>> GgufFile::FindString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return std::optional<std::string_view>();
  if (v->type != GgufType::kString) return WrongType(key, *v, "a string");
  return std::optional<std::string_view>(v->str);
}

StatusOr<uint64_t> GgufFile::GetUint(std::string_view key) const {
  FOUNDRY_ASSIGN_OR_RETURN(auto v, FindUint(key));
  if (!v) return Missing(key);
  return *v;
}

StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  FOUNDRY_ASSIGN_OR_RETURN(auto v, FindFloat(key));
  if (!v) return Missing(key);
  return *v;
}

StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  FOUNDRY_ASSIGN_OR_RETURN(auto v, FindString(key));
  if (!v) return Missing(key);
  return *v;
}

StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (!v->IsNumericArray() || v->elem_type == GgufType::kFloat32 ||
      v->elem_type == GgufType::kFloat64) {
    return WrongType(key, *v, "an array of integers");
  }
  std::vector<int64_t> out(v->count);
  for (uint64_t k = 0; k < v->count; ++k) {
    if (!ElementAsInt(*v, k, &out[k])) {
      return CorruptFile("metadata " + Quote(key) + ": element " + std::to_string(k) +
                         " does not fit in int64");
    }
  }
  return out;
}

StatusOr<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (!v->IsNumericArray()) return WrongType(key, *v, "an array of numbers");
  std::vector<float> out(v->count);
  for (uint64_t k = 0; k < v->count; ++k) out[k] = static_cast<float>(ElementAsDouble(*v, k));
  return out;
}

StatusOr<const std::vector<std::string_view>*> GgufFile::GetStringArray(
    std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Missing(key);
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString) {
    return WrongType(key, *v, "an array of strings");
  }
  return &v->strs;
}

}  // namespace foundry
