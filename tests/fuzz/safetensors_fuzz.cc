// libFuzzer entry point for the safetensors reader. Parses arbitrary bytes and, when they
// parse, touches every tensor's bytes and converts float tensors, so AddressSanitizer sees any
// out-of-bounds view; the reader's promises (ranges inside the file, no overlap, sizes equal
// to shape x dtype, one-line errors) abort() when broken.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "format/safetensors_file.h"

namespace {

volatile uint8_t g_sink = 0;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "safetensors_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

void CheckMessage(const foundry::Status& s) {
  if (s.ok()) return;
  const std::string& m = s.message();
  if (m.empty()) Fail("empty error message", "");
  if (m.find('\n') != std::string::npos) Fail("multi-line error message", m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = foundry::SafetensorsFile::Parse(foundry::MappedFile::FromBuffer(data, size));
  if (!parsed.ok()) {
    CheckMessage(parsed.status());
    return 0;
  }
  const auto& tensors = (*parsed)->tensors();
  const uint8_t* prev_end = data;
  for (const foundry::SafetensorsTensor& t : tensors) {
    if ((*parsed)->Find(t.name) != &t) Fail("Find", t.name);
    if (t.data < prev_end) Fail("overlap or disorder", t.name);
    if (t.data + t.nbytes > data + size) Fail("tensor outside the file", t.name);
    if (t.elements() * foundry::SafetensorsDtypeSize(t.dtype) != t.nbytes) Fail("size", t.name);
    prev_end = t.data + t.nbytes;
    if (t.nbytes > 0) g_sink = g_sink ^ t.data[0] ^ t.data[t.nbytes - 1];
    const uint64_t n = std::min<uint64_t>(t.elements(), 4096);
    std::vector<float> out(n);
    CheckMessage(foundry::SafetensorsToFloat(t, t.elements() - n, n, out.data()));
  }
  return 0;
}
