#include "convert/hf_tokenizer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "format/sentencepiece_model.h"

// What llama.cpp's convert_hf_to_gguf.py writes for a byte-level BPE folder (its
// _set_vocab_gpt2: get_vocab_base + gguf.SpecialVocab), reproduced from the files alone. The
// one thing it does not take from the files is tokenizer.ggml.pre: it hashes Hugging Face's
// tokenization of a check text. Here the pre-tokenizer is identified from tokenizer.json's
// pre_tokenizer section instead and mapped to a name src/tokenizer/pre_tokenizer.cc runs.
// Gemma 3 folders with a SentencePiece tokenizer.model follow Gemma3Model.set_vocab
// (_set_vocab_sentencepiece) instead.

namespace foundry::convert {
namespace {

using json = nlohmann::json;

// llama.cpp's token types (gguf.TokenType).
constexpr int64_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

// Bigger than any real vocabulary (262k for Gemma 3); keeps hostile sizes from allocating.
constexpr int64_t kMaxVocabSize = int64_t{1} << 24;

Status Corrupt(std::string_view file, std::string_view what) {
  return Status(StatusCode::kCorruptFile, std::string(file) + ": " + std::string(what));
}
Status Unsupported(std::string_view file, std::string_view what) {
  return Status(StatusCode::kUnimplemented, std::string(file) + ": " + std::string(what));
}

const json* Member(const json* obj, const char* key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  const auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}
const json* Member(const json& obj, const char* key) { return Member(&obj, key); }

// A copy of obj[key], null when absent.
json Get(const json& obj, const char* key) {
  const json* v = Member(obj, key);
  return v ? *v : json();
}

// Python truthiness of a JSON value (llama.cpp's `if x:` on parsed JSON).
bool Truthy(const json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>() != 0;
  if (v->is_number_float()) return v->get<double>() != 0.0;
  if (v->is_string() || v->is_array() || v->is_object()) return !v->empty();
  return true;
}

// Python's isinstance(v, int) on parsed JSON: true for integers and for booleans.
std::optional<int64_t> PythonInt(const json* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>() ? 1 : 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  }
  return std::nullopt;
}

StatusOr<json> ParseObject(std::string_view file, const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(file, "not valid JSON");
  if (!j.is_object()) return Corrupt(file, "expected a JSON object at the top level");
  return j;
}

// llama.cpp's does_token_look_special: added tokens some models forget to mark special.
bool LooksSpecial(std::string_view t) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.substr(0, open.size()) == open &&
           t.substr(t.size() - close.size()) == close;
  };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") ||  // <｜ ... ｜>
         wrapped("<unused", ">");
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

struct AddedToken {
  int64_t id;
  std::string content;
  bool special;
};

// tokenizer.json's added_tokens.
Status ReadAddedTokens(const json& tok, std::vector<AddedToken>* added) {
  constexpr std::string_view kFile = "tokenizer.json";
  const json* list = Member(tok, "added_tokens");
  if (list == nullptr || list->is_null()) return OkStatus();
  if (!list->is_array()) return Corrupt(kFile, "added_tokens: expected an array");
  for (size_t k = 0; k < list->size(); ++k) {
    const json& a = (*list)[k];
    const json* id = Member(a, "id");
    const json* content = Member(a, "content");
    const json* special = Member(a, "special");
    const std::string where = "added_tokens[" + std::to_string(k) + "]";
    if (id == nullptr || !(id->is_number_integer() || id->is_number_unsigned()) ||
        content == nullptr || !content->is_string()) {
      return Corrupt(kFile, where + ": expected an object with an integer id and a content");
    }
    if (special != nullptr && !special->is_boolean()) {
      return Corrupt(kFile, where + ".special: expected true or false");
    }
    const int64_t i = id->get<int64_t>();
    if (i < 0 || i >= kMaxVocabSize) {
      return Corrupt(kFile, where + ": id " + std::to_string(i) + " out of range");
    }
    added->push_back({i, content->get<std::string>(), special != nullptr && special->get<bool>()});
  }
  return OkStatus();
}

// The token table: get_vocab_base's walk over ids 0..vocab_size-1.
Status ReadTokens(const json& tok, const json* config, VocabData* v,
                  std::vector<AddedToken>* added) {
  constexpr std::string_view kFile = "tokenizer.json";
  const json* vocab = Member(Member(tok, "model"), "vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return Corrupt(kFile, "model.vocab: expected an object of token text -> id");
  }
  std::map<int64_t, std::string> by_id;  // Hugging Face's tokenizer.vocab, reversed
  std::set<std::string> texts;
  for (const auto& [text, id] : vocab->items()) {
    if (!id.is_number_integer() && !id.is_number_unsigned()) {
      return Corrupt(kFile, "model.vocab[\"" + text + "\"]: the id is not an integer");
    }
    const int64_t i = id.get<int64_t>();
    if (i < 0 || i >= kMaxVocabSize) {
      return Corrupt(kFile,
                     "model.vocab[\"" + text + "\"]: id " + std::to_string(i) + " out of range");
    }
    by_id[i] = text;
    texts.insert(text);
  }
  FOUNDRY_RETURN_IF_ERROR(ReadAddedTokens(tok, added));
  for (const AddedToken& a : *added) {
    by_id[a.id] = a.content;
    texts.insert(a.content);
  }
  if (by_id.empty()) return Corrupt(kFile, "model.vocab: no tokens");

  // config.json's vocab_size when present (the embedding rows), else the table's size.
  int64_t vocab_size = static_cast<int64_t>(texts.size());
  if (const json* n = config ? Member(*config, "vocab_size") : nullptr; n && !n->is_null()) {
    const std::optional<int64_t> size = PythonInt(n);
    if (!size || *size <= 0 || *size > kMaxVocabSize) {
      return Corrupt("config.json", "vocab_size: expected a positive integer");
    }
    vocab_size = *size;
  }
  if (by_id.rbegin()->first >= vocab_size) {
    return Corrupt(kFile, "token id " + std::to_string(by_id.rbegin()->first) +
                              " is not below the vocabulary size " + std::to_string(vocab_size) +
                              (config ? " (config.json vocab_size)" : ""));
  }

  std::map<std::string, const AddedToken*> added_by_text;  // get_added_vocab()
  std::map<int64_t, const AddedToken*> added_by_id;        // added_tokens_decoder
  for (const AddedToken& a : *added) {
    added_by_text[a.content] = &a;
    added_by_id[a.id] = &a;
  }
  v->tokens.resize(static_cast<size_t>(vocab_size));
  v->token_types.assign(static_cast<size_t>(vocab_size), kNormal);
  for (int64_t i = 0; i < vocab_size; ++i) {
    const auto it = by_id.find(i);
    std::string& token = v->tokens[static_cast<size_t>(i)];
    int64_t& type = v->token_types[static_cast<size_t>(i)];
    if (it == by_id.end()) {
      token = "[PAD" + std::to_string(i) + "]";
      type = kUnused;
      continue;
    }
    token = it->second;
    const auto by_text = added_by_text.find(token);
    if (by_text == added_by_text.end()) continue;  // a normal token
    const auto entry = added_by_id.find(i);
    const AddedToken& a = entry != added_by_id.end() ? *entry->second : *by_text->second;
    if (a.special || LooksSpecial(token)) {
      type = kControl;
    } else {
      type = kUserDefined;
      token = ReplaceAll(token, "\xE2\x96\x81", " ");  // user-defined spaces pre-normalized
    }
  }
  return OkStatus();
}

// Which converter builds a SentencePiece vocabulary: Gemma 3's _create_vocab_sentencepiece, or
// Phi3MiniModel.set_vocab, which types added tokens by their "special" flag alone (no
// special-looking guess, no pre-normalized spaces) and also takes tokenizer.json's added tokens.
enum class SentencePieceRules { kGemma3, kPhi3 };

// The vocabulary of a SentencePiece tokenizer.model, as the converter builds it: vocab_size ids
// (config.json's, else the model's), unknown/control/unused/byte types kept and everything else
// normal, then added_tokens.json, tokenizer_config.json's added_tokens_decoder and (Phi-3)
// tokenizer.json's added_tokens written over it (score -1000).
Status ReadSentencePieceTokens(const HfTokenizerFiles& files, const json* tc, const json* config,
                               const std::vector<AddedToken>& json_added, SentencePieceRules rules,
                               VocabData* v) {
  FOUNDRY_ASSIGN_OR_RETURN(SentencePieceModel m, ParseSentencePieceModel(*files.tokenizer_model));
  auto vocab_size = static_cast<int64_t>(m.pieces.size());
  if (const json* n = config ? Member(*config, "vocab_size") : nullptr; n && !n->is_null()) {
    const std::optional<int64_t> size = PythonInt(n);
    if (!size || *size <= 0 || *size > kMaxVocabSize) {
      return Corrupt("config.json", "vocab_size: expected a positive integer");
    }
    vocab_size = *size;
  }
  const auto n = static_cast<size_t>(vocab_size);
  v->tokens.resize(n);
  for (size_t i = 0; i < n; ++i) v->tokens[i] = "[PAD" + std::to_string(i) + "]";
  v->scores.assign(n, -10000.0f);
  v->token_types.assign(n, kUnused);
  for (size_t i = 0; i < std::min(n, m.pieces.size()); ++i) {
    const SentencePiece& p = m.pieces[i];
    v->tokens[i] = p.piece;
    v->scores[i] = p.score;
    switch (p.type) {
      case SentencePieceType::kUnknown:
      case SentencePieceType::kControl:
      case SentencePieceType::kUnused:
      case SentencePieceType::kByte:
        v->token_types[i] = static_cast<int64_t>(p.type);
        break;
      default:  // user-defined pieces too: SentencePieceProcessor has no IsUserDefined check
        v->token_types[i] = kNormal;
    }
  }
  const auto overwrite = [&](int64_t id, std::string text, int64_t type) {
    if (id < 0 || id >= vocab_size) return;  // the converter ignores ids out of range
    v->tokens[static_cast<size_t>(id)] = std::move(text);
    v->scores[static_cast<size_t>(id)] = -1000.0f;
    v->token_types[static_cast<size_t>(id)] = type;
  };
  if (files.added_tokens_json) {
    FOUNDRY_ASSIGN_OR_RETURN(json added,
                             ParseObject("added_tokens.json", *files.added_tokens_json));
    for (const auto& [text, id] : added.items()) {
      const std::optional<int64_t> i = PythonInt(&id);
      if (!i) return Corrupt("added_tokens.json", "\"" + text + "\": the id is not an integer");
      overwrite(*i, text, kUserDefined);
    }
  }
  const json empty = json::object();
  const json* decoder = tc ? Member(*tc, "added_tokens_decoder") : nullptr;
  if (decoder == nullptr || decoder->is_null()) decoder = &empty;
  if (!decoder->is_object()) {
    return Corrupt("tokenizer_config.json", "added_tokens_decoder: expected an object");
  }
  for (const auto& [key, entry] : decoder->items()) {
    int64_t id = -1;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    const json* content = Member(entry, "content");
    if (ec != std::errc() || end != key.data() + key.size() || content == nullptr ||
        !content->is_string()) {
      return Corrupt("tokenizer_config.json",
                     "added_tokens_decoder[\"" + key + "\"]: expected an id and a content");
    }
    std::string text = content->get<std::string>();
    const bool special = Truthy(Member(entry, "special"));
    if (rules == SentencePieceRules::kPhi3) {
      overwrite(id, std::move(text), special ? kControl : kUserDefined);
    } else if (special || LooksSpecial(text)) {
      overwrite(id, std::move(text), kControl);
    } else {
      overwrite(id, ReplaceAll(std::move(text), "\xE2\x96\x81", " "), kUserDefined);
    }
  }
  if (rules == SentencePieceRules::kPhi3) {
    for (const AddedToken& a : json_added) {
      overwrite(a.id, a.content, a.special ? kControl : kUserDefined);
    }
  }
  return OkStatus();
}

// tokenizer.json's merges, as "left right": either strings already or [left, right] pairs,
// whose spaces become U+0120 as llama.cpp encodes them. No (or no list of) merges there: those
// of merges.txt, if any.
Status ReadMerges(const json& tok, const std::optional<std::string>& merges_txt, VocabData* v) {
  constexpr std::string_view kFile = "tokenizer.json";
  const json* merges = Member(Member(tok, "model"), "merges");
  if (merges != nullptr && merges->is_array() && !merges->empty()) {
    const bool strings = (*merges)[0].is_string();
    for (size_t k = 0; k < merges->size(); ++k) {
      const json& m = (*merges)[k];
      if (strings && m.is_string()) {
        v->merges.push_back(m.get<std::string>());
      } else if (!strings && m.is_array() && m.size() == 2 && m[0].is_string() &&
                 m[1].is_string()) {
        v->merges.push_back(ReplaceAll(m[0].get<std::string>(), " ", "\xC4\xA0") + " " +
                            ReplaceAll(m[1].get<std::string>(), " ", "\xC4\xA0"));
      } else {
        return Corrupt(kFile, "model.merges[" + std::to_string(k) +
                                  "]: expected \"left right\" strings or [left, right] pairs "
                                  "throughout");
      }
    }
    return OkStatus();
  }
  if (!merges_txt) return OkStatus();
  // merges.txt: "left right" per line, an optional "#version" first line, blank lines skipped.
  std::istringstream in(*merges_txt);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    const size_t b = line.find_first_not_of(" \t\r\n");
    const size_t e = line.find_last_not_of(" \t\r\n");
    const std::string_view s =
        b == std::string::npos ? std::string_view() : std::string_view(line).substr(b, e - b + 1);
    if (first && !s.empty() && s[0] == '#') {
      first = false;
      continue;
    }
    first = false;
    if (s.empty()) continue;
    std::vector<std::string_view> parts;
    for (size_t p = 0; p < s.size();) {
      const size_t q = std::min(s.find_first_of(" \t", p), s.size());
      if (q > p) parts.push_back(s.substr(p, q - p));
      p = q + 1;
    }
    if (parts.size() == 2) v->merges.push_back(std::string(parts[0]) + " " + std::string(parts[1]));
  }
  return OkStatus();
}

// The regexes of the Split pre-tokenizers we recognize (Hugging Face spelling).
constexpr std::string_view kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// GPT-4o's o200k (Phi-4-mini, Llama 4).
constexpr std::string_view kO200kPattern =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Some files spell the case-insensitive contractions out.
constexpr std::string_view kSpelledContractions =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
constexpr std::string_view kFoldedContractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";

constexpr std::string_view kSupportedPre =
    "supported: a ByteLevel pre-tokenizer with its GPT-2 regex (optionally after Digits with "
    "individual_digits) -> gpt-2 / smollm / starcoder, or a Split with the Llama 3 regex -> "
    "llama-bpe / smaug-bpe, the Qwen2 regex -> qwen2 / stablelm2 or GPT-4o's o200k regex -> "
    "gpt-4o, followed by ByteLevel without its regex";

bool IsByteLevel(const json& p, bool use_regex) {
  const json* type = Member(p, "type");
  if (type == nullptr || *type != "ByteLevel") return false;
  const json* add_prefix = Member(p, "add_prefix_space");
  const json* regex = Member(p, "use_regex");
  const bool regex_on = regex == nullptr || (regex->is_boolean() && regex->get<bool>());
  return !Truthy(add_prefix) && regex_on == use_regex;
}

// A digit next to any other character in a byte-level token: such merges make the GPT-2 regex
// and "digits first" pre-tokenization differ.
bool HasDigitMerges(const VocabData& v) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const std::string& t = v.tokens[i];
    if (v.token_types[i] != kNormal || t.size() < 2) continue;
    if (std::any_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  }
  return false;
}

// tokenizer.json's pre_tokenizer -> the tokenizer.ggml.pre name llama.cpp gives that
// tokenization. Names with the same splitting differ in detokenization only
// (clean_up_tokenization_spaces) or in ignore_merges, which are read from the files too.
StatusOr<std::string> IdentifyPreTokenizer(const json& tok, const json* tokenizer_config,
                                           const VocabData& v) {
  constexpr std::string_view kFile = "tokenizer.json";
  const json* pre = Member(tok, "pre_tokenizer");
  if (pre == nullptr || !pre->is_object()) {
    return Unsupported(kFile, std::string("pre_tokenizer: missing; ") + std::string(kSupportedPre));
  }
  const json* clean =
      tokenizer_config ? Member(*tokenizer_config, "clean_up_tokenization_spaces") : nullptr;
  const bool clean_spaces = clean != nullptr && clean->is_boolean() && clean->get<bool>();
  const json* ignore = Member(Member(tok, "model"), "ignore_merges");
  const bool ignore_merges = ignore != nullptr && ignore->is_boolean() && ignore->get<bool>();

  std::vector<const json*> steps;
  if (const json* type = Member(*pre, "type"); type != nullptr && *type == "Sequence") {
    const json* list = Member(*pre, "pretokenizers");
    if (list == nullptr || !list->is_array()) {
      return Corrupt(kFile, "pre_tokenizer.pretokenizers: expected an array");
    }
    for (const json& p : *list) steps.push_back(&p);
  } else {
    steps.push_back(pre);
  }
  // ByteLevel alone: the GPT-2 regex. Digits first: single digits, then the GPT-2 regex.
  const bool digits_first = steps.size() == 2 && Member(*steps[0], "type") != nullptr &&
                            *Member(*steps[0], "type") == "Digits" &&
                            Truthy(Member(*steps[0], "individual_digits"));
  if ((steps.size() == 1 || digits_first) && IsByteLevel(*steps.back(), /*use_regex=*/true)) {
    if (!digits_first && HasDigitMerges(v)) return std::string("gpt-2");
    return std::string(clean_spaces ? "starcoder" : "smollm");
  }
  if (steps.size() == 2 && IsByteLevel(*steps[1], /*use_regex=*/false)) {
    const json& split = *steps[0];
    const json* type = Member(split, "type");
    const json* pattern = Member(Member(split, "pattern"), "Regex");
    const json* behavior = Member(split, "behavior");
    const bool invert = Truthy(Member(split, "invert"));
    // These regexes match every character, so keeping the matches as words is the same with
    // "Isolated" and with an inverted "Removed" (the spelling some files use).
    const bool keeps_matches = behavior != nullptr && ((*behavior == "Isolated" && !invert) ||
                                                       (*behavior == "Removed" && invert));
    if (type != nullptr && *type == "Split" && pattern != nullptr && pattern->is_string() &&
        keeps_matches) {
      const std::string regex =
          ReplaceAll(pattern->get<std::string>(), kSpelledContractions, kFoldedContractions);
      if (regex == kLlama3Pattern) return std::string(ignore_merges ? "llama-bpe" : "smaug-bpe");
      if (regex == kQwen2Pattern) return std::string(clean_spaces ? "stablelm2" : "qwen2");
      if (regex == kO200kPattern) return std::string("gpt-4o");
    }
  }
  return Unsupported(kFile, std::string("pre_tokenizer: this pre-tokenizer is not supported; ") +
                                std::string(kSupportedPre));
}

// gguf.SpecialVocab: special token ids and add_*_token flags from tokenizer.json's
// post_processor, tokenizer_config.json and config.json, in llama.cpp's order of precedence.
class SpecialTokens {
 public:
  SpecialTokens(const std::vector<AddedToken>& added) : added_(added) {}

  Status Read(const json& tok, std::optional<json> tokenizer_config, const json* config) {
    // tokenizer_config.json as llama.cpp keeps it: a missing or empty one gives no ids or
    // flags, and the post-processor may add entries to it. config.json's *_token_id fill in.
    json tc = tokenizer_config.value_or(json::object());
    const bool has_tc = !tc.empty();
    json bos = Get(tc, "bos_token"), cls = Get(tc, "cls_token");
    json eos = Get(tc, "eos_token"), sep = Get(tc, "sep_token");
    if (!Truthy(&bos) && Truthy(&cls) && has_tc) tc["bos_token"] = bos = cls;
    if (!Truthy(&eos) && Truthy(&sep) && has_tc) tc["eos_token"] = eos = sep;
    if (const json* pp = Member(tok, "post_processor"); Truthy(pp)) {
      if (!pp->is_object()) return Corrupt(kTok, "post_processor: expected an object");
      std::vector<const json*> procs;
      if (const json* list = Member(*pp, "processors"); list != nullptr) {
        if (!list->is_array()) return Corrupt(kTok, "post_processor.processors: expected an array");
        for (const json& p : *list) procs.push_back(&p);
      } else {
        procs.push_back(pp);
      }
      for (const json* p : procs) {
        if (!p->is_object()) return Corrupt(kTok, "post_processor: expected objects");
        const json* type = Member(*p, "type");
        if (type != nullptr && *type == "ByteLevel") {
          add_.emplace("bos", false);
          add_.emplace("eos", false);
        } else if (type != nullptr && *type == "RobertaProcessing") {
          return Unsupported(kTok,
                             "post_processor: RobertaProcessing (an encoder's) is not "
                             "supported");
        } else if (type != nullptr && *type == "TemplateProcessing") {
          FOUNDRY_RETURN_IF_ERROR(Template(*p, has_tc, &tc, &bos, cls, &eos, sep));
        }
      }
    }
    for (const std::string& typ : has_tc ? types_ : std::vector<std::string>()) {
      if (const json* add = Member(tc, ("add_" + typ + "_token").c_str());
          add && add->is_boolean()) {
        add_.emplace(typ, add->get<bool>());  // the post-processor's value wins
      }
      const json* entry = Member(tc, (typ + "_token").c_str());
      if (entry != nullptr && entry->is_object()) entry = Member(*entry, "content");
      if (entry == nullptr || !entry->is_string()) continue;
      for (const AddedToken& a : added_) {  // the first added token with that text
        if (a.content == entry->get<std::string>()) {
          FOUNDRY_RETURN_IF_ERROR(Set("tokenizer_config.json", typ, a.id));
          break;
        }
      }
    }
    if (config != nullptr) {
      const json* text_config = Member(*config, "text_config");
      for (const std::string& typ : types_) {
        const std::string key = typ + "_token_id";
        const json* id = Member(*config, key.c_str());
        if ((id == nullptr || id->is_null()) && text_config != nullptr) {
          id = Member(*text_config, key.c_str());
        }
        if (const std::optional<int64_t> i = PythonInt(id)) {
          FOUNDRY_RETURN_IF_ERROR(Set("config.json", typ, *i));
        }
      }
    }
    return OkStatus();
  }

  std::optional<int64_t> id(const std::string& typ) const {
    const auto it = ids_.find(typ);
    return it == ids_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  std::optional<bool> add(const std::string& typ) const {
    const auto it = add_.find(typ);
    return it == add_.end() ? std::nullopt : std::optional<bool>(it->second);
  }

 private:
  static constexpr std::string_view kTok = "tokenizer.json";

  static json SpecialId(const json& item) {
    return item.is_object() ? Get(Get(item, "SpecialToken"), "id") : json();
  }

  Status Set(std::string_view file, const std::string& typ, int64_t id) {
    if (id < 0) {
      return Corrupt(file, "invalid id " + std::to_string(id) + " for the " + typ + " token");
    }
    ids_.emplace(typ, id);  // the first source wins
    return OkStatus();
  }

  // The crude reading llama.cpp makes of a TemplateProcessing: a special token first in the
  // single-sequence template means add_bos, one last means add_eos (and, if it is not the eos
  // token, it becomes eos and the old eos becomes eot); the pair template decides add_sep.
  Status Template(const json& p, bool has_tc, json* tc, json* bos, const json& cls, json* eos,
                  const json& sep_in) {
    const json single = Get(p, "single"), pair_all = Get(p, "pair");
    if ((!single.is_null() && !single.is_array()) ||
        (!pair_all.is_null() && !pair_all.is_array())) {
      return Corrupt(kTok, "post_processor: TemplateProcessing single/pair: expected arrays");
    }
    json first, last, sep = sep_in;
    if (single.is_array() && single.size() > 1) {
      first = SpecialId(single.front());
      if (Truthy(&first)) {
        if (!has_tc) {
          *bos = first;
        } else if (first != *bos && first != cls) {
          if (!Truthy(bos)) (*tc)["bos_token"] = *bos = first;
          if (!Truthy(&cls)) (*tc)["cls_token"] = first;
        }
        add_["bos"] = first == *bos || first == Get(*tc, "cls_token");
      }
      last = SpecialId(single.back());
      if (Truthy(&last)) {
        if (!has_tc) {
          *eos = last;
        } else if (last != *eos) {
          if (std::find(types_.begin(), types_.end(), "eot") == types_.end()) {
            types_.push_back("eot");
            (*tc)["eot_token"] = *eos;
          } else if (std::find(types_.begin(), types_.end(), "eom") == types_.end()) {
            types_.push_back("eom");
            (*tc)["eom_token"] = *eos;
          }
          (*tc)["eos_token"] = *eos = last;
        }
        add_["eos"] = last == *eos;
      }
    }
    if (!pair_all.is_array() || pair_all.empty()) return OkStatus();
    const bool skip_first = Truthy(&first) && SpecialId(pair_all.front()) == first;
    const bool skip_last = Truthy(&last) && SpecialId(pair_all.back()) == last;
    const size_t begin = skip_first ? 1 : 0;
    const size_t end = pair_all.size() - (skip_last ? 1 : 0);
    if (begin >= end) return OkStatus();
    const auto seq_id = [](const json& item) {
      return item.is_object() ? Get(Get(item, "Sequence"), "id") : json();
    };
    if (seq_id(pair_all[begin]) != "A" || seq_id(pair_all[end - 1]) != "B" || end - begin < 3) {
      return OkStatus();
    }
    // A [sep] [eos] B: the middle one or two entries.
    bool add_sep = false;
    const json m1 = SpecialId(pair_all[begin + 1]);
    if (Truthy(&m1) && (m1 == sep || m1 == *eos) && !Truthy(&last)) add_sep = true;
    if (end - begin == 4) {
      const json m2 = SpecialId(pair_all[begin + 2]);
      if (Truthy(&m2) && (m2 == sep || m2 == *eos)) add_sep = true;
    }
    add_["sep"] = add_sep;
    if (add_sep && !Truthy(&sep) && has_tc) (*tc)["sep_token"] = *eos;
    return OkStatus();
  }

  const std::vector<AddedToken>& added_;
  std::vector<std::string> types_ = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  std::map<std::string, int64_t> ids_;
  std::map<std::string, bool> add_;
};

// tokenizer.chat_template: tokenizer_config.json's chat_template (even null), else
// chat_template.jinja, else chat_template.json's; a list of named templates gives "default".
StatusOr<std::string> ChatTemplate(const json& tc, const HfTokenizerFiles& files) {
  json value;
  if (const json* t = Member(tc, "chat_template")) {
    value = *t;
  } else if (files.chat_template_jinja) {
    value = *files.chat_template_jinja;
  } else if (files.chat_template_json) {
    FOUNDRY_ASSIGN_OR_RETURN(json j, ParseObject("chat_template.json", *files.chat_template_json));
    value = Get(j, "chat_template");
  }
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) return std::string();  // llama.cpp ignores other types
  std::string result;
  for (const json& choice : value) {
    const json* name = Member(choice, "name");
    const json* text = Member(choice, "template");
    if (name != nullptr && *name == "default" && text != nullptr && text->is_string()) {
      result = text->get<std::string>();
    }
  }
  return result;
}

// gguf.SpecialVocab's part: special ids, add_* flags and the chat template.
Status ReadSpecialVocab(const HfTokenizerFiles& files, const json& tok,
                        const std::vector<AddedToken>& added, const std::optional<json>& tc,
                        const std::optional<json>& config, HfTokenizer* out) {
  VocabData& v = out->vocab;
  SpecialTokens special(added);
  FOUNDRY_RETURN_IF_ERROR(special.Read(tok, tc, config ? &*config : nullptr));
  v.bos = special.id("bos");
  v.eos = special.id("eos");
  v.unk = special.id("unk");
  v.sep = special.id("sep");
  v.pad = special.id("pad");
  v.eot = special.id("eot");
  v.eom = special.id("eom");
  v.add_bos = special.add("bos");
  v.add_eos = special.add("eos");
  // (cls, mask and add_sep have no field in VocabData: the engine reads none of them.)
  if (tc && !tc->empty()) {
    FOUNDRY_ASSIGN_OR_RETURN(out->chat_template, ChatTemplate(*tc, files));
  }
  return OkStatus();
}

// A tokenizer.model vocabulary: Gemma3Model.set_vocab (_set_vocab_sentencepiece, then
// add_space_prefix false) or Phi3MiniModel.set_vocab.
StatusOr<HfTokenizer> SentencePieceTokenizer(const HfTokenizerFiles& files, const json& tok,
                                             const std::optional<json>& tc,
                                             const std::optional<json>& config,
                                             SentencePieceRules rules) {
  HfTokenizer out;
  VocabData& v = out.vocab;
  v.model = "llama";
  v.pre = "default";
  std::vector<AddedToken> added;
  FOUNDRY_RETURN_IF_ERROR(ReadAddedTokens(tok, &added));
  FOUNDRY_RETURN_IF_ERROR(ReadSentencePieceTokens(files, tc ? &*tc : nullptr,
                                                  config ? &*config : nullptr, added, rules, &v));
  FOUNDRY_RETURN_IF_ERROR(ReadSpecialVocab(files, tok, added, tc, config, &out));
  if (rules == SentencePieceRules::kGemma3) v.add_space_prefix = false;
  return out;
}

std::optional<std::string> ReadIfPresent(const std::filesystem::path& p, Status* error) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *error = Status(StatusCode::kIoError, p.string() + ": cannot read");
    return std::nullopt;
  }
  return s.str();
}

}  // namespace

StatusOr<HfTokenizer> ParseHfTokenizer(const HfTokenizerFiles& files) {
  // tokenizer.json is optional next to a tokenizer.model (then only its added tokens and
  // post-processor matter, for the special ids).
  json tok = json::object();
  if (!files.tokenizer_model || !files.tokenizer_json.empty()) {
    FOUNDRY_ASSIGN_OR_RETURN(tok, ParseObject("tokenizer.json", files.tokenizer_json));
  }
  std::optional<json> tc;
  if (files.tokenizer_config_json) {
    FOUNDRY_ASSIGN_OR_RETURN(tc,
                             ParseObject("tokenizer_config.json", *files.tokenizer_config_json));
  }
  std::optional<json> config;
  if (files.config_json) {
    FOUNDRY_ASSIGN_OR_RETURN(config, ParseObject("config.json", *files.config_json));
  }

  const json* archs = config ? Member(*config, "architectures") : nullptr;
  const std::string arch =
      archs != nullptr && archs->is_array() && !archs->empty() && (*archs)[0].is_string()
          ? (*archs)[0].get<std::string>()
          : std::string();
  // Phi-3 folders are SentencePiece unless tokenizer_config.json names GPT2Tokenizer (Phi-4).
  const json* tokenizer_class = tc ? Member(*tc, "tokenizer_class") : nullptr;
  const bool gpt2_class = tokenizer_class != nullptr && *tokenizer_class == "GPT2Tokenizer";
  if (files.tokenizer_model && !(arch == "Phi3ForCausalLM" && gpt2_class)) {
    if (arch == "Gemma3ForCausalLM") {
      return SentencePieceTokenizer(files, tok, tc, config, SentencePieceRules::kGemma3);
    }
    if (arch == "Phi3ForCausalLM") {
      return SentencePieceTokenizer(files, tok, tc, config, SentencePieceRules::kPhi3);
    }
    return Unsupported("tokenizer.model",
                       "SentencePiece tokenizers are converted for Gemma3ForCausalLM and "
                       "Phi3ForCausalLM only (other architectures: byte-level BPE "
                       "tokenizer.json)");
  }
  const json* model = Member(tok, "model");
  if (model == nullptr || !model->is_object()) {
    return Corrupt("tokenizer.json", "model: expected an object");
  }
  const json* type = Member(*model, "type");
  const json* byte_fallback = Member(*model, "byte_fallback");
  if (type == nullptr || !type->is_string()) {
    return Corrupt("tokenizer.json", "model.type: expected a string");
  }
  if (*type != "BPE") {
    return Unsupported("tokenizer.json", "model.type \"" + type->get<std::string>() +
                                             "\" is not supported (supported: byte-level BPE)");
  }
  if (Truthy(byte_fallback)) {
    return Unsupported("tokenizer.json",
                       "SentencePiece-style BPE (model.byte_fallback) is not "
                       "supported yet (supported: byte-level BPE)");
  }

  HfTokenizer out;
  VocabData& v = out.vocab;
  v.model = "gpt2";
  std::vector<AddedToken> added;
  FOUNDRY_RETURN_IF_ERROR(ReadTokens(tok, config ? &*config : nullptr, &v, &added));
  FOUNDRY_ASSIGN_OR_RETURN(v.pre, IdentifyPreTokenizer(tok, tc ? &*tc : nullptr, v));
  FOUNDRY_RETURN_IF_ERROR(ReadMerges(tok, files.merges_txt, &v));

  FOUNDRY_RETURN_IF_ERROR(ReadSpecialVocab(files, tok, added, tc, config, &out));

  // What LlamaModel.set_vocab adds for Llama-architecture folders.
  if (arch == "LlamaForCausalLM" || arch == "MistralForCausalLM") {
    if (const json* p = tc ? Member(*tc, "add_prefix_space") : nullptr; p && p->is_boolean()) {
      v.add_space_prefix = p->get<bool>();
    }
    if (v.tokens.size() == 49152) v.add_bos = false;  // llama.cpp's rule for Granite-sized vocabs
  }
  return out;
}

StatusOr<HfTokenizer> ReadHfTokenizer(const std::filesystem::path& dir) {
  HfTokenizerFiles files;
  Status error;
  std::optional<std::string> tok = ReadIfPresent(dir / "tokenizer.json", &error);
  if (!error.ok()) return error;
  files.tokenizer_model = ReadIfPresent(dir / "tokenizer.model", &error);
  if (!error.ok()) return error;
  if (!tok && !files.tokenizer_model) {
    return Status(StatusCode::kNotFound, (dir / "tokenizer.json").string() +
                                             ": missing (a Hugging Face folder's "
                                             "tokenizer; byte-level BPE is supported)");
  }
  if (tok) files.tokenizer_json = std::move(*tok);
  const std::pair<const char*, std::optional<std::string>*> optional_files[] = {
      {"tokenizer_config.json", &files.tokenizer_config_json},
      {"config.json", &files.config_json},
      {"chat_template.jinja", &files.chat_template_jinja},
      {"chat_template.json", &files.chat_template_json},
      {"merges.txt", &files.merges_txt},
      {"added_tokens.json", &files.added_tokens_json},
  };
  for (const auto& [name, slot] : optional_files) {
    *slot = ReadIfPresent(dir / name, &error);
    if (!error.ok()) return error;
  }
  StatusOr<HfTokenizer> result = ParseHfTokenizer(files);
  if (!result.ok()) {
    return Status(result.status().code(), dir.string() + "/" + result.status().message());
  }
  return result;
}

}  // namespace foundry::convert
