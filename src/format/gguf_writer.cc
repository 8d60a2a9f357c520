#include "format/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace foundry {

GgufWriter::~GgufWriter() {
  if (out_ != nullptr) std::fclose(out_);
}

template <typename T>
void GgufWriter::Put(T v) {
  const size_t at = kv_.size();
  kv_.resize(at + sizeof(T));
  std::memcpy(kv_.data() + at, &v, sizeof(T));  // GGUF is little-endian, like our hosts
}

void GgufWriter::PutString(std::string_view s) {
  Put<uint64_t>(s.size());
  const size_t at = kv_.size();
  kv_.resize(at + s.size());
  if (!s.empty()) std::memcpy(kv_.data() + at, s.data(), s.size());
}

void GgufWriter::Key(std::string_view key, GgufType type) {
  keys_.emplace_back(key);
  ++n_kv_;
  PutString(key);
  Put<uint32_t>(static_cast<uint32_t>(type));
}

void GgufWriter::AddUint32(std::string_view key, uint32_t v) {
  Key(key, GgufType::kUint32);
  Put(v);
}
void GgufWriter::AddInt32(std::string_view key, int32_t v) {
  Key(key, GgufType::kInt32);
  Put(v);
}
void GgufWriter::AddUint64(std::string_view key, uint64_t v) {
  Key(key, GgufType::kUint64);
  Put(v);
}
void GgufWriter::AddFloat32(std::string_view key, float v) {
  Key(key, GgufType::kFloat32);
  Put(v);
}
void GgufWriter::AddBool(std::string_view key, bool v) {
  Key(key, GgufType::kBool);
  Put<uint8_t>(v ? 1 : 0);
}
void GgufWriter::AddString(std::string_view key, std::string_view v) {
  Key(key, GgufType::kString);
  PutString(v);
}
void GgufWriter::AddStringArray(std::string_view key, const std::vector<std::string>& v) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(static_cast<uint32_t>(GgufType::kString));
  Put<uint64_t>(v.size());
  for (const std::string& s : v) PutString(s);
}
void GgufWriter::AddInt32Array(std::string_view key, const std::vector<int32_t>& v) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(static_cast<uint32_t>(GgufType::kInt32));
  Put<uint64_t>(v.size());
  for (int32_t x : v) Put(x);
}
void GgufWriter::AddFloat32Array(std::string_view key, const std::vector<float>& v) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(static_cast<uint32_t>(GgufType::kFloat32));
  Put<uint64_t>(v.size());
  for (float x : v) Put(x);
}

Status GgufWriter::AddValue(std::string_view key, const GgufValue& v) {
  if (v.type == GgufType::kArray && v.elem_type == GgufType::kArray) {
    return Unimplemented("metadata " + std::string(key) + " is an array of arrays");
  }
  Key(key, v.type);
  const auto put_scalar = [this](GgufType t, uint64_t u, int64_t i, double f) {
    switch (t) {
      case GgufType::kUint8:
      case GgufType::kBool:
        Put(static_cast<uint8_t>(u));
        break;
      case GgufType::kInt8:
        Put(static_cast<int8_t>(i));
        break;
      case GgufType::kUint16:
        Put(static_cast<uint16_t>(u));
        break;
      case GgufType::kInt16:
        Put(static_cast<int16_t>(i));
        break;
      case GgufType::kUint32:
        Put(static_cast<uint32_t>(u));
        break;
      case GgufType::kInt32:
        Put(static_cast<int32_t>(i));
        break;
      case GgufType::kFloat32:
        Put(static_cast<float>(f));
        break;
      case GgufType::kUint64:
        Put(u);
        break;
      case GgufType::kInt64:
        Put(i);
        break;
      case GgufType::kFloat64:
        Put(f);
        break;
      case GgufType::kString:
      case GgufType::kArray:
        break;
    }
  };
  if (v.type == GgufType::kString) {
    PutString(v.str);
  } else if (v.type != GgufType::kArray) {
    put_scalar(v.type, v.u, v.i, v.f);
  } else {
    Put<uint32_t>(static_cast<uint32_t>(v.elem_type));
    Put<uint64_t>(v.count);
    if (v.elem_type == GgufType::kString) {
      for (std::string_view s : v.strs) PutString(s);
    } else {  // numeric elements: their little-endian bytes as they were
      const size_t n = v.count * GgufScalarSize(v.elem_type);
      const size_t at = kv_.size();
      kv_.resize(at + n);
      if (n > 0) std::memcpy(kv_.data() + at, v.elems, n);
    }
  }
  return OkStatus();
}

StatusOr<uint64_t> GgufWriter::AddTensor(std::string_view name, const std::vector<uint64_t>& ne,
                                         QuantType type) {
  const auto info = FindQuantTypeInfo(static_cast<uint32_t>(type));
  if (!info) return InvalidArgument("tensor " + std::string(name) + ": unknown type");
  if (ne.empty() || ne.size() > 4) {
    return InvalidArgument("tensor " + std::string(name) + ": 1 to 4 dimensions");
  }
  if (ne[0] % info->block_elems != 0) {
    return InvalidArgument("tensor " + std::string(name) + ": row of " + std::to_string(ne[0]) +
                           " is not a multiple of " + std::string(info->name) + "'s block of " +
                           std::to_string(info->block_elems));
  }
  uint64_t rows = 1;
  for (size_t i = 0; i < ne.size(); ++i) {
    if (ne[i] == 0) return InvalidArgument("tensor " + std::string(name) + " is empty");
    if (i > 0) rows *= ne[i];
  }
  const uint64_t nbytes = RowBytes(*info, ne[0]) * rows;
  tensors_.push_back({std::string(name), ne, type, data_bytes_, nbytes});
  data_bytes_ += (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  return nbytes;
}

Status GgufWriter::Write(const void* p, size_t n) {
  if (n > 0 && std::fwrite(p, 1, n, out_) != n) {
    return IoError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  return OkStatus();
}

Status GgufWriter::Pad(uint64_t n) {
  static const uint8_t kZeros[kAlignment] = {};
  return Write(kZeros, static_cast<size_t>(n));
}

Status GgufWriter::Open(const std::string& path) {
  std::set<std::string_view> seen;
  for (const std::string& k : keys_) {
    if (!seen.insert(k).second) return Internal("GGUF key written twice: " + k);
  }
  std::set<std::string_view> names;
  for (const TensorInfo& t : tensors_) {
    if (!names.insert(t.name).second) return Internal("GGUF tensor declared twice: " + t.name);
  }
  path_ = path;
  out_ = std::fopen(path.c_str(), "wb");
  if (out_ == nullptr) return IoError("cannot create " + path + ": " + std::strerror(errno));
  const std::vector<uint8_t> kv = std::move(kv_);
  kv_.clear();
  // Header: magic, version, tensor count, kv count.
  Put<uint32_t>(0x46554747);  // "GGUF"
  Put<uint32_t>(3);
  Put<uint64_t>(tensors_.size());
  Put<uint64_t>(n_kv_);
  const size_t at = kv_.size();
  kv_.resize(at + kv.size());
  if (!kv.empty()) std::memcpy(kv_.data() + at, kv.data(), kv.size());
  for (const TensorInfo& t : tensors_) {
    PutString(t.name);
    Put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) Put<uint64_t>(d);
    Put<uint32_t>(static_cast<uint32_t>(t.type));
    Put<uint64_t>(t.offset);
  }
  kv_.resize((kv_.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
  FOUNDRY_RETURN_IF_ERROR(Write(kv_.data(), kv_.size()));
  kv_.clear();
  kv_.shrink_to_fit();
  current_ = 0;
  current_done_ = 0;
  return OkStatus();
}

Status GgufWriter::Append(const void* data, size_t n) {
  FOUNDRY_CHECK(out_ != nullptr);
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (current_ >= tensors_.size()) return Internal("more tensor data than declared");
    const TensorInfo& t = tensors_[current_];
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, t.nbytes - current_done_));
    FOUNDRY_RETURN_IF_ERROR(Write(p, take));
    p += take;
    n -= take;
    current_done_ += take;
    if (current_done_ == t.nbytes) {
      FOUNDRY_RETURN_IF_ERROR(Pad((kAlignment - t.nbytes % kAlignment) % kAlignment));
      ++current_;
      current_done_ = 0;
    }
  }
  return OkStatus();
}

Status GgufWriter::Finish() {
  FOUNDRY_CHECK(out_ != nullptr);
  if (current_ != tensors_.size()) {
    return Internal("tensor " + tensors_[current_].name + " was not written completely");
  }
  const bool flushed = std::fflush(out_) == 0;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!flushed || !closed) return IoError("cannot write " + path_ + ": " + std::strerror(errno));
  return OkStatus();
}

}  // namespace foundry
