// libFuzzer entry point for the GGUF reader. Parses arbitrary bytes and, when they parse,
// touches every byte range the index hands out so AddressSanitizer sees any out-of-bounds
// view. Invariants the reader promises are checked explicitly and abort() on violation.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/mapped_file.h"
#include "format/gguf_file.h"

namespace {

volatile uint8_t g_sink = 0;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "gguf_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

void Touch(const void* p, size_t n) {
  if (n == 0) return;
  const auto* b = static_cast<const uint8_t*>(p);
  g_sink = g_sink ^ b[0] ^ b[n - 1];
}

void TouchView(std::string_view s) { Touch(s.data(), s.size()); }

bool Inside(const uint8_t* base, size_t size, const void* p, uint64_t n) {
  const auto* q = static_cast<const uint8_t*>(p);
  return q >= base && q <= base + size && n <= static_cast<uint64_t>(base + size - q);
}

uint64_t ElemSize(foundry::GgufType t) {
  using foundry::GgufType;
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
    default:
      return 0;
  }
}

// An error message must name the problem on one line (it ends up in a CLI error).
void CheckMessage(const foundry::Status& s) {
  if (s.ok()) return;
  const std::string& m = s.message();
  if (m.empty()) Fail("empty error message", "");
  if (m.find('\n') != std::string::npos) Fail("multi-line error message", m);
  if (m.size() > 1024) Fail("error message longer than 1 KiB", m.substr(0, 200));
}

template <typename T>
void Use(const foundry::StatusOr<T>& r) {
  CheckMessage(r.status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = foundry::GgufFile::Parse(foundry::MappedFile::FromBuffer(data, size));
  if (!parsed.ok()) {
    CheckMessage(parsed.status());
    return 0;
  }
  const foundry::GgufFile& g = **parsed;
  if (g.version() != 2 && g.version() != 3) Fail("version", std::to_string(g.version()));
  const uint64_t align = g.alignment();
  if (align == 0 || (align & (align - 1)) != 0) Fail("alignment", std::to_string(align));

  for (const auto& [key, v] : g.metadata()) {
    TouchView(key);
    if (g.Find(key) == nullptr) Fail("Find misses a listed key", key);
    Use(g.FindUint(key));
    Use(g.FindFloat(key));
    Use(g.FindBool(key));
    Use(g.FindString(key));
    Use(g.GetUint(key));
    Use(g.GetFloat(key));
    Use(g.GetString(key));
    {
      auto ints = g.GetIntArray(key);
      Use(ints);
      if (ints.ok() && ints->size() != v.count) Fail("int array size", key);
    }
    {
      auto floats = g.GetFloatArray(key);
      Use(floats);
      if (floats.ok() && floats->size() != v.count) Fail("float array size", key);
    }
    {
      auto strs = g.GetStringArray(key);
      Use(strs);
      if (strs.ok()) {
        if ((*strs)->size() != v.count) Fail("string array size", key);
        for (std::string_view s : **strs) {
          if (!Inside(data, size, s.data(), s.size())) Fail("string element outside file", key);
          TouchView(s);
        }
      }
    }
    if (v.type == foundry::GgufType::kString) {
      if (!Inside(data, size, v.str.data(), v.str.size())) Fail("string outside file", key);
      TouchView(v.str);
    }
    if (v.IsNumericArray() && v.count > 0) {
      if (v.elems == nullptr) Fail("numeric array without payload", key);
      const uint64_t es = ElemSize(v.elem_type);
      if (es == 0 || v.count > size / es || !Inside(data, size, v.elems, v.count * es)) {
        Fail("array payload outside file", key);
      }
      Touch(v.elems, v.count * es);
    }
  }
  // An absent key must be absent for every lookup.
  Use(g.GetUint("foundry.fuzz.absent"));
  Use(g.GetStringArray("foundry.fuzz.absent"));

  for (const auto& t : g.tensors()) {
    if (g.FindTensor(t.name) != &t) Fail("FindTensor", t.name);
    if (t.n_dims < 1 || t.n_dims > 4) Fail("n_dims", t.name);
    if (t.nbytes == 0) Fail("empty tensor", t.name);
    if (t.offset % align != 0) Fail("unaligned tensor", t.name);
    if (!Inside(data, size, t.data, t.nbytes)) Fail("tensor outside file", t.name);
    if ((t.data - data) % align != 0) Fail("tensor not aligned in the file", t.name);
    Touch(t.data, t.nbytes);
    for (const auto& u : g.tensors()) {
      if (&u == &t) continue;
      if (t.data < u.data + u.nbytes && u.data < t.data + t.nbytes) Fail("overlap", t.name);
    }
    if (g.tensors().size() > 64) break;  // the pairwise check is quadratic
  }
  return 0;
}
