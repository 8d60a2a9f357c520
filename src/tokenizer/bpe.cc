// Byte-level BPE: pre-tokenize, map each byte to the GPT-2 alphabet, merge adjacent pairs by
// lowest merge rank (leftmost first on ties), as llama.cpp and Hugging Face do.
#include <algorithm>
#include <array>
#include <queue>
#include <unordered_map>
#include <utility>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_model.h"
#include "tokenizer/unicode.h"

namespace foundry {

uint32_t ByteToBpeCodepoint(uint8_t b) {
  // Printable bytes stand for themselves; the others are moved, in byte order, to U+0100...
  const auto printable = [](uint32_t c) {
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
  };
  if (printable(b)) return b;
  uint32_t n = 0;
  for (uint32_t c = 0; c < b; ++c) {
    if (!printable(c)) ++n;
  }
  return 0x100 + n;
}

namespace {

struct Symbol {
  int32_t id;    // token id, kNoToken for a byte whose character is not in the vocabulary
  int32_t prev;  // neighbours in the word, -1 at the ends
  int32_t next;
};

struct Bigram {
  int32_t rank;
  int32_t left;  // symbol indices
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t merged_id;
  // Lowest rank first, then leftmost.
  bool operator<(const Bigram& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

// Per-call scratch buffers (Encode is const and re-entrant).
struct Scratch {
  std::vector<std::string_view> words;
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
  std::string encoded;
};

class BpeModel final : public TokenizerModel {
 public:
  BpeModel(const Vocab& vocab, PreTokenizer pre) : vocab_(vocab), pre_(pre) {
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = ByteToBpeCodepoint(static_cast<uint8_t>(b));
      std::string s;
      AppendUtf8(cp, &s);
      byte_token_[b] = vocab.Find(s);
      byte_for_cp_[cp] = static_cast<uint8_t>(b);
    }
    pairs_.reserve(vocab.merges().size());
    const auto& merges = vocab.merges();
    for (size_t i = 0; i < merges.size(); ++i) {
      pairs_.emplace(Key(merges[i].left, merges[i].right),
                     std::make_pair(static_cast<int32_t>(i), merges[i].merged));
    }
  }

  void Encode(std::span<const TextFragment> fragments, std::vector<int32_t>* out) const override {
    Scratch s;
    for (const TextFragment& f : fragments) {
      if (f.token >= 0) {
        out->push_back(f.token);
        continue;
      }
      s.words.clear();
      pre_.Split(f.text, &s.words);
      for (std::string_view w : s.words) EncodeWord(w, &s, out);
    }
  }

  std::string NormalPiece(int32_t id) const override {
    const std::string& text = vocab_.TokenText(id);
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
      uint32_t cp = 0;
      const size_t len = DecodeUtf8(text, pos, &cp);
      auto it = byte_for_cp_.find(cp);
      if (it != byte_for_cp_.end()) {
        out.push_back(static_cast<char>(it->second));
      } else {
        out.append(text, pos, len);  // not in the byte alphabet: keep the text as-is
      }
      pos += len;
    }
    return out;
  }

 private:
  static uint64_t Key(int32_t l, int32_t r) {
    return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
  }

  void PushBigram(const std::vector<Symbol>& sym, int32_t l, int32_t r,
                  std::vector<Bigram>* heap) const {
    if (l < 0 || r < 0 || sym[l].id < 0 || sym[r].id < 0) return;
    auto it = pairs_.find(Key(sym[l].id, sym[r].id));
    if (it == pairs_.end()) return;
    heap->push_back({it->second.first, l, r, sym[l].id, sym[r].id, it->second.second});
    std::push_heap(heap->begin(), heap->end());
  }

  void EncodeWord(std::string_view word, Scratch* s, std::vector<int32_t>* out) const {
    if (word.empty()) return;
    if (word.size() == 1) {
      const int32_t id = byte_token_[static_cast<uint8_t>(word[0])];
      if (id >= 0) out->push_back(id);
      return;
    }
    if (vocab_.ignore_merges()) {
      s->encoded.clear();
      for (char c : word) AppendUtf8(ByteToBpeCodepoint(static_cast<uint8_t>(c)), &s->encoded);
      const int32_t id = vocab_.Find(s->encoded);
      if (id >= 0) {
        out->push_back(id);
        return;
      }
    }
    std::vector<Symbol>& sym = s->symbols;
    sym.clear();
    const int32_t n = static_cast<int32_t>(word.size());
    for (int32_t i = 0; i < n; ++i) {
      sym.push_back({byte_token_[static_cast<uint8_t>(word[i])], i - 1, i + 1 < n ? i + 1 : -1});
    }
    std::vector<Bigram>& heap = s->heap;
    heap.clear();
    for (int32_t i = 0; i + 1 < n; ++i) PushBigram(sym, i, i + 1, &heap);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      const Bigram b = heap.back();
      heap.pop_back();
      Symbol& l = sym[b.left];
      Symbol& r = sym[b.right];
      // Stale: a side was merged away or changed since this pair was queued.
      if (l.next != b.right || l.id != b.left_id || r.id != b.right_id) continue;
      l.id = b.merged_id;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      r.id = kNoToken;
      r.prev = r.next = -1;
      PushBigram(sym, l.prev, b.left, &heap);
      PushBigram(sym, b.left, l.next, &heap);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) {
      if (sym[i].id >= 0) out->push_back(sym[i].id);
    }
  }

  const Vocab& vocab_;
  PreTokenizer pre_;
  std::array<int32_t, 256> byte_token_;
  std::unordered_map<uint32_t, uint8_t> byte_for_cp_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> pairs_;  // -> (rank, merged id)
};

}  // namespace

StatusOr<std::unique_ptr<TokenizerModel>> CreateBpeModel(const Vocab& vocab) {
  const PreTokenizerConfig pc = LookupPreTokenizer(vocab.pre());
  return std::unique_ptr<TokenizerModel>(new BpeModel(vocab, PreTokenizer(pc.kind)));
}

}  // namespace foundry
