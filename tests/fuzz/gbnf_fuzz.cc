// libFuzzer entry point for the grammar engine. The input is GBNF text or a JSON Schema (when
// it starts with '{'). A schema must compile to GBNF that parses (or be refused with a
// message); a grammar that parses is run: its own text is fed to the matcher byte by byte, and
// over a small vocabulary the sorted-vocabulary mask must equal the token-by-token check at
// every step. Any crash, hang, sanitizer report or broken invariant is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar_matcher.h"
#include "grammar/json_schema_grammar.h"

namespace {

using namespace foundry;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "gbnf_fuzz invariant violated: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Every single byte, some multi-byte pieces (JSON-ish, UTF-8, a split character) and an end
// token.
std::shared_ptr<const TokenTable> Vocabulary() {
  static const std::shared_ptr<const TokenTable> table = [] {
    std::vector<std::string> pieces;
    std::vector<TokenUse> use;
    for (int b = 0; b < 256; ++b) {
      pieces.push_back(std::string(1, static_cast<char>(b)));
      use.push_back(TokenUse::kText);
    }
    for (const char* p : {"{\"", "\":", "\": \"", "true", "null", "ab", "abc", "\n  ", "12",
                          "\xC3\xA9", "\xE2\x82", "\xAC\"", "\xF0\x9F\x98\x80", "yes", "no"}) {
      pieces.push_back(p);
      use.push_back(TokenUse::kText);
    }
    pieces.push_back("");
    use.push_back(TokenUse::kEndOfGeneration);
    pieces.push_back("<ctrl>");
    use.push_back(TokenUse::kNever);
    return std::make_shared<const TokenTable>(std::move(pieces), std::move(use));
  }();
  return table;
}

void RunGrammar(Grammar grammar, std::string_view input) {
  const auto g = std::make_shared<const Grammar>(std::move(grammar));
  // The input's own bytes through the stacks.
  GrammarStacks stacks(*g);
  StackArena arena;
  StackSet cur, next;
  stacks.Start(&arena, &cur);
  for (size_t i = 0; i < input.size() && i < 256 && !cur.empty(); ++i) {
    stacks.Advance(&arena, cur, static_cast<uint8_t>(input[i]), &next);
    std::swap(cur, next);
  }
  // A few steps of masks, accepting the first allowed token each time.
  GrammarMatcher m(g, Vocabulary());
  std::vector<uint8_t> mask;
  for (int step = 0; step < 8; ++step) {
    m.FillMask(&mask);
    int32_t first = -1;
    for (int32_t id = 0; id < m.tokens().size(); ++id) {
      if ((mask[static_cast<size_t>(id)] != 0) != m.IsAllowed(id)) {
        Fail("mask differs from IsAllowed", "token " + std::to_string(id));
      }
      if (mask[static_cast<size_t>(id)] && first < 0 && m.tokens().use(id) == TokenUse::kText) {
        first = id;
      }
    }
    if (first < 0) break;
    if (!m.Accept(first)) Fail("an allowed token was not accepted", std::to_string(first));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == '{') {
    auto gbnf = JsonSchemaTextToGbnf(input);
    if (!gbnf.ok()) {
      if (gbnf.status().message().empty()) Fail("empty error message", "schema");
      return 0;
    }
    auto g = ParseGbnf(*gbnf);
    if (!g.ok()) {
      // Only a schema that refers to itself without progress may yield an unusable grammar.
      if (g.status().message().find("left-recursive") == std::string::npos) {
        Fail("compiled schema does not parse", g.status().message() + "\n" + *gbnf);
      }
      return 0;
    }
    RunGrammar(std::move(g).value(), input);
    return 0;
  }
  auto g = ParseGbnf(input);
  if (!g.ok()) {
    if (g.status().message().empty()) Fail("empty error message", "grammar");
    return 0;
  }
  RunGrammar(std::move(g).value(), input);
  return 0;
}
