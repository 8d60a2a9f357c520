#include "format/safetensors_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/fp16.h"

namespace foundry {
namespace {

// The format's own limit on the JSON header (safetensors rejects larger ones).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeEntry {
  const char* name;
  SafetensorsDtype dtype;
  size_t size;
};

constexpr DtypeEntry kDtypes[] = {
    {"BOOL", SafetensorsDtype::kBool, 1},      {"U8", SafetensorsDtype::kU8, 1},
    {"I8", SafetensorsDtype::kI8, 1},          {"F8_E4M3", SafetensorsDtype::kF8E4M3, 1},
    {"F8_E5M2", SafetensorsDtype::kF8E5M2, 1}, {"I16", SafetensorsDtype::kI16, 2},
    {"U16", SafetensorsDtype::kU16, 2},        {"F16", SafetensorsDtype::kF16, 2},
    {"BF16", SafetensorsDtype::kBF16, 2},      {"I32", SafetensorsDtype::kI32, 4},
    {"U32", SafetensorsDtype::kU32, 4},        {"F32", SafetensorsDtype::kF32, 4},
    {"F64", SafetensorsDtype::kF64, 8},        {"I64", SafetensorsDtype::kI64, 8},
    {"U64", SafetensorsDtype::kU64, 8},
};

const DtypeEntry* FindDtype(std::string_view name) {
  for (const DtypeEntry& e : kDtypes) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

std::string Shorten(std::string s) {
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return s;
}

}  // namespace

std::string_view SafetensorsDtypeName(SafetensorsDtype d) {
  for (const DtypeEntry& e : kDtypes) {
    if (e.dtype == d) return e.name;
  }
  return "?";
}

size_t SafetensorsDtypeSize(SafetensorsDtype d) {
  for (const DtypeEntry& e : kDtypes) {
    if (e.dtype == d) return e.size;
  }
  return 0;
}

uint64_t SafetensorsTensor::elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;  // validated not to overflow in Parse()
  return n;
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> f, Parse(std::move(file)));
  f->mapped_ = true;
  return f;
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(
    std::unique_ptr<MappedFile> file) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->file_ = std::move(file);
  Status s = f->ParseAll();
  if (!s.ok()) {
    const std::string& p = f->file_->path();
    return Status(s.code(), (p.empty() ? std::string("safetensors") : p) + ": " + s.message());
  }
  return f;
}

Status SafetensorsFile::ParseAll() {
  const uint8_t* base = file_->data();
  const uint64_t size = file_->size();
  if (size < 8) return CorruptFile("truncated: shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > kMaxHeaderBytes) {
    return CorruptFile("header length " + std::to_string(header_len) +
                       " exceeds the 100 MiB limit");
  }
  if (header_len > size - 8) {
    return CorruptFile("truncated: the header needs " + std::to_string(header_len) +
                       " bytes but the file has " + std::to_string(size - 8));
  }
  const char* text = reinterpret_cast<const char*>(base + 8);
  nlohmann::json header =
      nlohmann::json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return CorruptFile("the header is not a JSON object");
  }
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const nlohmann::json& v = it.value();
    const std::string where = "tensor '" + Shorten(name) + "'";
    if (!v.is_object()) return CorruptFile(where + " is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return CorruptFile(where + " has no dtype");
    if (sh == v.end() || !sh->is_array()) return CorruptFile(where + " has no shape");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned()) {
      return CorruptFile(where + " has no data_offsets [begin, end]");
    }
    const DtypeEntry* e = FindDtype(dt->get<std::string>());
    if (e == nullptr) {
      return CorruptFile(where + " has unknown dtype '" + Shorten(dt->get<std::string>()) + "'");
    }
    SafetensorsTensor t;
    t.name = name;
    t.dtype = e->dtype;
    if (sh->size() > 8) return CorruptFile(where + " has more than 8 dimensions");
    uint64_t n = 1;
    for (const nlohmann::json& d : *sh) {
      if (!d.is_number_unsigned()) return CorruptFile(where + " has a bad shape");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && n > data_size / dim) {
        return CorruptFile(where + " has a shape larger than the file");
      }
      n *= dim;
      t.shape.push_back(dim);
    }
    const uint64_t begin = (*off)[0].get<uint64_t>();
    const uint64_t end = (*off)[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return CorruptFile(where + " data_offsets [" + std::to_string(begin) + ", " +
                         std::to_string(end) + "] lie outside the data (" +
                         std::to_string(data_size) + " bytes): truncated file?");
    }
    if (n > (end - begin) / e->size || n * e->size != end - begin) {
      return CorruptFile(where + " holds " + std::to_string(end - begin) + " bytes but its " +
                         std::string(e->name) + " shape needs " + std::to_string(n * e->size));
    }
    t.data = data + begin;
    t.nbytes = end - begin;
    tensors_.push_back(std::move(t));
  }
  std::sort(tensors_.begin(), tensors_.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) { return a.data < b.data; });
  for (size_t i = 1; i < tensors_.size(); ++i) {
    const SafetensorsTensor& a = tensors_[i - 1];
    if (a.data + a.nbytes > tensors_[i].data) {
      return CorruptFile("tensors '" + Shorten(a.name) + "' and '" + Shorten(tensors_[i].name) +
                         "' overlap");
    }
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  return OkStatus();
}

const SafetensorsTensor* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::DropPages(const SafetensorsTensor& t) const {
  if (!mapped_ || t.nbytes == 0) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(t.data) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(t.data) + t.nbytes;
  // A hint: a failure only means the pages stay cached.
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Status SafetensorsToFloat(const SafetensorsTensor& t, uint64_t first, uint64_t n, float* out) {
  FOUNDRY_CHECK(first <= t.elements() && n <= t.elements() - first);
  const uint8_t* p = t.data + first * SafetensorsDtypeSize(t.dtype);
  switch (t.dtype) {
    case SafetensorsDtype::kF32:
      std::memcpy(out, p, n * 4);
      return OkStatus();
    case SafetensorsDtype::kF16:
    case SafetensorsDtype::kBF16:
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = t.dtype == SafetensorsDtype::kF16 ? Fp16ToFp32(h) : Bf16ToFp32(h);
      }
      return OkStatus();
    default:
      return Unimplemented("tensor '" + t.name + "' has dtype " +
                           std::string(SafetensorsDtypeName(t.dtype)) +
                           "; only F32, F16 and BF16 weights can be compiled");
  }
}

}  // namespace foundry
