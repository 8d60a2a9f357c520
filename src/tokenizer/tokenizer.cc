#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <utility>

#include "format/gguf_file.h"
#include "tokenizer/tokenizer_model.h"

namespace foundry {
namespace {

// C isspace() in the "C" locale, which llama.cpp's LSTRIP/RSTRIP use.
uint64_t TrieKey(int32_t node, uint8_t byte) { return (static_cast<uint64_t>(node) << 8) | byte; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(const GgufFile& gguf) {
  FOUNDRY_ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(gguf));
  return Create(std::move(vocab));
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(Vocab vocab) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(vocab)));
  FOUNDRY_RETURN_IF_ERROR(t->Init());
  return t;
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

Status Tokenizer::Init() {
  if (vocab_.model() == "gpt2") {
    FOUNDRY_ASSIGN_OR_RETURN(model_, CreateBpeModel(vocab_));
  } else if (vocab_.model() == "llama") {
    FOUNDRY_ASSIGN_OR_RETURN(model_, CreateSpmModel(vocab_));
  } else {
    return Unimplemented("tokenizer model \"" + vocab_.model() +
                         "\" is not supported (supported: gpt2, llama)");
  }

  const int32_t n = vocab_.size();
  for (int32_t id = 0; id < n; ++id) {
    const TokenType t = vocab_.Type(id);
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](int32_t a, int32_t b) {
    return vocab_.TokenText(a).size() > vocab_.TokenText(b).size();
  });
  trie_root_.assign(256, -1);
  special_node_.reserve(special_tokens_.size());
  for (int32_t id : special_tokens_) {
    const std::string& text = vocab_.TokenText(id);  // never empty (Vocab renames empty ones)
    int32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const uint8_t b = static_cast<uint8_t>(text[i]);
      int32_t* child = nullptr;
      if (i == 0) {
        child = &trie_root_[b];
      } else {
        child = &trie_edges_.try_emplace(TrieKey(node, b), -1).first->second;
      }
      if (*child < 0) *child = trie_nodes_++;
      node = *child;
    }
    special_node_.push_back(node);
  }

  piece_offsets_.reserve(n + 1);
  for (int32_t id = 0; id < n; ++id) {
    piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));
    switch (vocab_.Type(id)) {
      case TokenType::kNormal:
        pieces_ += model_->NormalPiece(id);
        break;
      case TokenType::kControl:
      case TokenType::kUnknown:
      case TokenType::kUserDefined:
        pieces_ += vocab_.TokenText(id);
        break;
      case TokenType::kByte:
        pieces_ += model_->BytePiece(id);  // SentencePiece <0xXX>; nothing in byte-level BPE
        break;
      default:
        break;  // unused/undefined tokens have no text
    }
    if (pieces_.size() > UINT32_MAX / 2) return CorruptFile("vocabulary text is too large");
  }
  piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));

  is_eog_.assign(n, 0);
  for (int32_t id : vocab_.eog_ids()) is_eog_[id] = 1;
  return OkStatus();
}

void Tokenizer::SplitSpecial(std::string_view text, bool parse_special,
                             std::vector<TextFragment>* fragments) const {
  fragments->clear();
  if (text.empty()) return;
  fragments->push_back({text, kNoToken});
  if (special_tokens_.empty()) return;
  // Which special texts occur anywhere in `text` (fragments are substrings of it, so the
  // others cannot match below): walk the trie from every position.
  std::vector<uint8_t> occurs(static_cast<size_t>(trie_nodes_), 0);
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    int32_t node = trie_root_[static_cast<uint8_t>(text[i])];
    for (size_t j = i + 1; node >= 0; ++j) {
      occurs[node] = 1;
      any = true;
      if (j == text.size()) break;
      auto it = trie_edges_.find(TrieKey(node, static_cast<uint8_t>(text[j])));
      node = it == trie_edges_.end() ? -1 : it->second;
    }
  }
  if (!any) return;
  std::vector<TextFragment> next;
  for (size_t k = 0; k < special_tokens_.size(); ++k) {
    if (!occurs[special_node_[k]]) continue;
    const int32_t id = special_tokens_[k];
    const TokenType type = vocab_.Type(id);
    if (!parse_special && type != TokenType::kUserDefined) continue;
    const std::string& needle = vocab_.TokenText(id);
    const bool lstrip = vocab_.lstrip(id), rstrip = vocab_.rstrip(id);
    next.clear();
    for (const TextFragment& f : *fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at; (at = rest.find(needle)) != std::string_view::npos;) {
        std::string_view left = rest.substr(0, at);
        if (lstrip) {
          while (!left.empty() && IsAsciiSpace(left.back())) left.remove_suffix(1);
        }
        if (!left.empty()) next.push_back({left, kNoToken});
        next.push_back({std::string_view(), id});
        rest.remove_prefix(at + needle.size());
        // llama.cpp strips only text that follows in the same fragment.
        if (rstrip) {
          while (!rest.empty() && IsAsciiSpace(rest.front())) rest.remove_prefix(1);
        }
      }
      if (!rest.empty()) next.push_back({rest, kNoToken});
    }
    fragments->swap(next);
  }
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  std::vector<TextFragment> fragments;
  SplitSpecial(text, parse_special, &fragments);
  if (add_special && vocab_.add_bos()) out.push_back(vocab_.bos());
  model_->Encode(fragments, &out);
  if (add_special && vocab_.add_eos()) out.push_back(vocab_.eos());
  return out;
}

std::string_view Tokenizer::PieceView(int32_t id, bool render_special) const {
  if (id < 0 || id >= vocab_.size()) return {};
  const TokenType t = vocab_.Type(id);
  if (!render_special && (t == TokenType::kControl || t == TokenType::kUnknown)) return {};
  return std::string_view(pieces_).substr(piece_offsets_[id],
                                          piece_offsets_[id + 1] - piece_offsets_[id]);
}

std::string Tokenizer::TokenToPiece(int32_t id, bool render_special) const {
  return std::string(PieceView(id, render_special));
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  // llama.cpp's detokenize: with add_space_prefix, the first token loses one leading space
  // (the one Encode added).
  bool remove_space = vocab_.add_space_prefix();
  for (int32_t id : ids) {
    std::string_view piece = PieceView(id, render_special);
    if (remove_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    remove_space = false;
    out += piece;
  }
  return out;
}

bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return id >= 0 && id < vocab_.size() && is_eog_[id] != 0;
}

bool Tokenizer::IsControl(int32_t id) const {
  return id >= 0 && id < vocab_.size() && vocab_.IsControl(id);
}

}  // namespace foundry
