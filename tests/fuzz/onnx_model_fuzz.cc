// libFuzzer entry point for the ONNX (protobuf wire format) reader. Parses arbitrary bytes as a
// ModelProto with no folder for external data, and when they parse touches every initializer's
// bytes so AddressSanitizer sees any out-of-bounds view; the reader's promises (data inside the
// buffer, sizes equal to dims x type, one-line errors) abort() when broken.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/mapped_file.h"
#include "format/onnx_model.h"

namespace {

volatile uint8_t g_sink = 0;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "onnx_model_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = foundry::OnnxModel::Parse(foundry::MappedFile::FromBuffer(data, size), {});
  if (!parsed.ok()) {
    const std::string& m = parsed.status().message();
    if (m.empty()) Fail("empty error message", "");
    if (m.find('\n') != std::string::npos) Fail("multi-line error message", m);
    return 0;
  }
  for (const foundry::OnnxTensor& t : (*parsed)->initializers()) {
    if (t.nbytes == 0) continue;
    if (t.data < data || t.data + t.nbytes > data + size) Fail("tensor outside the buffer", t.name);
    if (t.elements() * foundry::OnnxDtypeSize(t.dtype) != t.nbytes) Fail("size", t.name);
    g_sink = g_sink ^ t.data[0] ^ t.data[t.nbytes - 1];
  }
  for (const foundry::OnnxNode& n : (*parsed)->nodes()) {
    g_sink = g_sink ^ static_cast<uint8_t>(n.op_type.size() + n.inputs.size());
  }
  return 0;
}
