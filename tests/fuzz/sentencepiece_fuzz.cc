// libFuzzer entry point for the SentencePiece model reader (tokenizer.model). Parses arbitrary
// bytes; when they parse, every piece is touched and the reader's promises (at least one piece,
// types in range, no repeated piece) abort() when broken; errors must be one line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "format/sentencepiece_model.h"

namespace {

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "sentencepiece_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed =
      foundry::ParseSentencePieceModel(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) {
    const std::string& m = parsed.status().message();
    if (m.empty()) Fail("empty error message", "");
    if (m.find('\n') != std::string::npos) Fail("multi-line error message", m);
    return 0;
  }
  if (parsed->pieces.empty()) Fail("no pieces", "");
  std::set<std::string_view> seen;
  for (const foundry::SentencePiece& p : parsed->pieces) {
    const auto t = static_cast<int>(p.type);
    if (t < 1 || t > 6) Fail("type out of range", p.piece);
    if (!seen.insert(p.piece).second) Fail("repeated piece", p.piece);
  }
  return 0;
}
