// libFuzzer entry point for the Hugging Face tokenizer reader (src/convert/hf_tokenizer.cc).
// The bytes are read twice: as tokenizer.json, and as tokenizer_config.json and config.json
// next to a small valid tokenizer.json (the special-token and post-processor rules). Errors
// must be one non-empty line; a vocabulary that parses must be self-consistent and go through
// Vocab::Build without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "convert/hf_tokenizer.h"

namespace {

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "hf_tokenizer_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

constexpr const char* kValidTokenizer = R"({
  "added_tokens": [{"id": 3, "content": "<|end|>", "special": true}],
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<|end|>"}}, {"Sequence": {"id": "A"}},
               {"SpecialToken": {"id": "<|end|>"}}],
    "pair": [{"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "<|end|>"}},
             {"Sequence": {"id": "B"}}]},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})";

void Check(const foundry::convert::HfTokenizerFiles& files) {
  foundry::StatusOr<foundry::convert::HfTokenizer> hf = foundry::convert::ParseHfTokenizer(files);
  if (!hf.ok()) {
    const std::string& m = hf.status().message();
    if (m.empty()) Fail("empty error message", "");
    if (m.find('\n') != std::string::npos) Fail("multi-line error message", m);
    return;
  }
  const foundry::VocabData& v = hf->vocab;
  if (v.tokens.empty()) Fail("no tokens", "");
  if (v.token_types.size() != v.tokens.size()) Fail("token types", std::to_string(v.tokens.size()));
  (void)foundry::Vocab::Build(hf->vocab);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  foundry::convert::HfTokenizerFiles as_tokenizer;
  as_tokenizer.tokenizer_json = bytes;
  Check(as_tokenizer);
  foundry::convert::HfTokenizerFiles as_configs;
  as_configs.tokenizer_json = kValidTokenizer;
  as_configs.tokenizer_config_json = bytes;
  as_configs.config_json = bytes;
  Check(as_configs);
  return 0;
}
