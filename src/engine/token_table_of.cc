// The model's vocabulary for grammar masks: every token's bytes and whether a grammar may
// produce it, computed once per model (a 152k vocabulary takes tens of milliseconds) and
// shared by every constrained generation on it.
#include "engine/internal.h"

namespace foundry {

std::shared_ptr<const TokenTable> TokenTableOf(const LanguageModel& lm) {
  const internal::LanguageModelParts& parts = internal::PartsOf(lm);
  std::call_once(parts.token_table_once, [&] {
    const Tokenizer& tok = *parts.tokenizer;
    // The model's logits may cover more ids than the tokenizer names (padding): never allowed.
    const size_t n = static_cast<size_t>(lm.n_vocab());
    std::vector<std::string> pieces(n);
    std::vector<TokenUse> use(n, TokenUse::kNever);
    for (size_t i = 0; i < n; ++i) {
      const int32_t id = static_cast<int32_t>(i);
      if (id >= tok.vocab_size()) continue;
      if (tok.IsEndOfGeneration(id)) {
        use[i] = TokenUse::kEndOfGeneration;
      } else if (!tok.IsControl(id)) {
        pieces[i] = std::string(tok.PieceView(id));
        use[i] = TokenUse::kText;
      }
    }
    parts.token_table = std::make_shared<const TokenTable>(std::move(pieces), std::move(use));
  });
  return parts.token_table;
}

}  // namespace foundry
