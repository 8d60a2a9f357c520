// SentencePiece (BPE-style, as llama.cpp's llm_tokenizer_spm runs it over GGUF vocabularies):
// each text fragment has its spaces replaced by U+2581 ("▁"), optionally after a prefix space;
// it is cut into UTF-8 characters, then the adjacent pair whose concatenation is a token with
// the highest score is merged (leftmost first on ties) until no pair forms a token. Symbols
// that are not tokens fall back to <0xXX> byte tokens.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "tokenizer/tokenizer_model.h"

namespace foundry {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

// Byte length of the UTF-8 sequence that `lead` starts, as llama.cpp's unicode_len_utf8 counts
// it: continuation and invalid bytes count as one byte.
size_t Utf8Length(uint8_t lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

struct Symbol {
  uint32_t start;  // byte offset in the escaped text
  uint32_t size;   // 0: merged into its left neighbour
  int32_t prev;    // neighbours, -1 at the ends
  int32_t next;
  int32_t id;  // token id once merged; kUnresolved for a single character not looked up yet
};
constexpr int32_t kUnresolved = -2;

struct Bigram {
  float score;
  int32_t left;  // symbol indices
  int32_t right;
  uint32_t size;  // bytes of left + right when queued
  int32_t id;     // the token the pair forms
  // Priority: highest score first, then leftmost.
  bool operator<(const Bigram& o) const {
    return score < o.score || (score == o.score && left > o.left);
  }
};

// Per-call scratch buffers (Encode is const and re-entrant).
struct Scratch {
  std::string text;
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
};

class SpmModel final : public TokenizerModel {
 public:
  explicit SpmModel(const Vocab& vocab) : vocab_(vocab) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const char name[] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15]};
      int32_t id = vocab.Find(std::string(name, sizeof(name)) + ">");
      if (id < 0) id = vocab.Find(std::string(1, static_cast<char>(b)));  // llama.cpp's fallback
      byte_token_[b] = id;
    }
    for (int32_t id = 0; id < vocab.size(); ++id) {
      max_token_size_ = std::max(max_token_size_, vocab.TokenText(id).size());
    }
  }

  void Encode(std::span<const TextFragment> fragments, std::vector<int32_t>* out) const override {
    Scratch s;
    bool after_special = true;  // the start of the text counts as "after a special token"
    for (const TextFragment& f : fragments) {
      if (f.token >= 0) {
        out->push_back(f.token);
        after_special = true;
        continue;
      }
      s.text.clear();
      if (vocab_.add_space_prefix() && after_special) s.text += kSpaceMark;
      for (char c : f.text) {
        if (c == ' ') {
          s.text += kSpaceMark;
        } else {
          s.text += c;
        }
      }
      EncodeEscaped(s.text, &s, out);
      after_special = false;
    }
  }

  std::string NormalPiece(int32_t id) const override {
    const std::string& text = vocab_.TokenText(id);
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0;;) {
      const size_t at = text.find(kSpaceMark, pos);
      if (at == std::string::npos) {
        out.append(text, pos);
        break;
      }
      out.append(text, pos, at - pos);
      out += ' ';
      pos = at + kSpaceMark.size();
    }
    return out;
  }

  std::string BytePiece(int32_t id) const override {
    // "<0xXX>"; anything else stands for no byte.
    const std::string& t = vocab_.TokenText(id);
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::string();
    const int hi = HexValue(t[3]), lo = HexValue(t[4]);
    if (hi < 0 || lo < 0) return std::string();
    return std::string(1, static_cast<char>(hi * 16 + lo));
  }

 private:
  // Tokenizes `text` (spaces already escaped), in pieces small enough for 32-bit offsets.
  void EncodeEscaped(std::string_view text, Scratch* s, std::vector<int32_t>* out) const {
    constexpr size_t kMaxChunk = size_t{1} << 30;
    while (text.size() > kMaxChunk) {
      size_t cut = kMaxChunk;
      while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
      EncodeChunk(text.substr(0, cut), s, out);
      text.remove_prefix(cut);
    }
    EncodeChunk(text, s, out);
  }

  void PushBigram(std::string_view text, const std::vector<Symbol>& sym, int32_t l, int32_t r,
                  std::vector<Bigram>* heap) const {
    if (l < 0 || r < 0) return;
    const uint32_t size = sym[l].size + sym[r].size;
    if (size > max_token_size_) return;
    const int32_t id = vocab_.Find(text.substr(sym[l].start, size));
    if (id < 0) return;
    float score = vocab_.Score(id);
    if (std::isnan(score)) score = -std::numeric_limits<float>::infinity();
    heap->push_back({score, l, r, size, id});
    std::push_heap(heap->begin(), heap->end());
  }

  void EncodeChunk(std::string_view text, Scratch* s, std::vector<int32_t>* out) const {
    if (text.empty()) return;
    std::vector<Symbol>& sym = s->symbols;
    sym.clear();
    for (size_t pos = 0; pos < text.size();) {
      const size_t n = std::min(Utf8Length(static_cast<uint8_t>(text[pos])), text.size() - pos);
      const int32_t index = static_cast<int32_t>(sym.size());
      pos += n;
      sym.push_back({static_cast<uint32_t>(pos - n), static_cast<uint32_t>(n), index - 1,
                     pos == text.size() ? -1 : index + 1, kUnresolved});
    }
    std::vector<Bigram>& heap = s->heap;
    heap.clear();
    for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) {
      PushBigram(text, sym, i - 1, i, &heap);
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      const Bigram b = heap.back();
      heap.pop_back();
      Symbol& l = sym[b.left];
      Symbol& r = sym[b.right];
      // Stale: a side was merged away or grew since this pair was queued.
      if (l.size == 0 || r.size == 0 || l.size + r.size != b.size) continue;
      l.size += r.size;
      l.id = b.id;
      r.size = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      PushBigram(text, sym, l.prev, b.left, &heap);
      PushBigram(text, sym, b.left, l.next, &heap);
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
      const Symbol& x = sym[i];
      const std::string_view piece = text.substr(x.start, x.size);
      const int32_t id = x.id != kUnresolved ? x.id : vocab_.Find(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      // Byte fallback; a piece with a byte that has no token becomes one unknown token (llama.cpp
      // would abort), or nothing when there is no unknown token either.
      const bool all_bytes = std::all_of(piece.begin(), piece.end(), [&](char c) {
        return byte_token_[static_cast<uint8_t>(c)] >= 0;
      });
      if (!all_bytes) {
        if (vocab_.unk() >= 0) out->push_back(vocab_.unk());
        continue;
      }
      for (char c : piece) out->push_back(byte_token_[static_cast<uint8_t>(c)]);
    }
  }

  const Vocab& vocab_;
  std::array<int32_t, 256> byte_token_;
  size_t max_token_size_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> CreateSpmModel(const Vocab& vocab) {
  return std::unique_ptr<TokenizerModel>(new SpmModel(vocab));
}

}  // namespace foundry
