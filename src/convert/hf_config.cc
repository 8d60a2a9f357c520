#include "convert/hf_config.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace foundry::convert {
namespace {

struct ArchEntry {
  const char* hf;    // config.json architectures[0]
  const char* gguf;  // general.architecture
};

constexpr ArchEntry kArchs[] = {
    {"LlamaForCausalLM", "llama"},   {"MistralForCausalLM", "llama"}, {"Qwen2ForCausalLM", "qwen2"},
    {"Gemma3ForCausalLM", "gemma3"}, {"Phi3ForCausalLM", "phi3"},
};

using Json = nlohmann::json;

// The first of `keys` present in `j` as a positive integer.
StatusOr<std::optional<int64_t>> FindCount(const Json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1ll << 40)) {
      return CorruptFile(std::string("config.json: '") + k + "' must be a positive integer");
    }
    return std::optional<int64_t>(it->get<int64_t>());
  }
  return std::optional<int64_t>();
}

StatusOr<int64_t> GetCount(const Json& j, std::initializer_list<const char*> keys) {
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<int64_t> v, FindCount(j, keys));
  if (!v) return CorruptFile(std::string("config.json: '") + *keys.begin() + "' is missing");
  return *v;
}

StatusOr<std::optional<double>> FindNumber(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number())
    return CorruptFile(std::string("config.json: '") + key + "' must be a number");
  return std::optional<double>(it->get<double>());
}

// Llama 3.1's frequency-dependent RoPE scaling, as llama.cpp's converter computes the
// rope_freqs factors.
StatusOr<std::vector<float>> Llama3RopeFactors(const Json& rope, double theta, int64_t dim) {
  FOUNDRY_ASSIGN_OR_RETURN(auto factor, FindNumber(rope, "factor"));
  FOUNDRY_ASSIGN_OR_RETURN(auto low, FindNumber(rope, "low_freq_factor"));
  FOUNDRY_ASSIGN_OR_RETURN(auto high, FindNumber(rope, "high_freq_factor"));
  FOUNDRY_ASSIGN_OR_RETURN(auto old_ctx, FindNumber(rope, "original_max_position_embeddings"));
  const double f = factor.value_or(8.0), lo = low.value_or(1.0), hi = high.value_or(4.0);
  const double ctx = old_ctx.value_or(8192.0);
  if (!(f > 0) || !(hi > lo)) {
    return CorruptFile(
        "config.json: llama3 rope scaling needs factor > 0 and high_freq_factor > low_freq_factor");
  }
  // The converter does this arithmetic on float32 torch tensors; the same bits come from
  // torch's own rules: Python number ** tensor is a double pow rounded to float, number / tensor
  // is reciprocal(tensor) * number, tensor / number a float division.
  const auto low_wavelen = static_cast<float>(ctx / lo),
             high_wavelen = static_cast<float>(ctx / hi);
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {
    const float exponent = static_cast<float>(i) / static_cast<float>(dim);
    const float freq = 1.0f / static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
    const float wavelen = (1.0f / freq) * static_cast<float>(2 * M_PI);
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(static_cast<float>(f));
    } else {
      const float smooth = ((1.0f / wavelen) * static_cast<float>(ctx) - static_cast<float>(lo)) /
                           static_cast<float>(hi - lo);
      out.push_back(1.0f / ((1.0f - smooth) / static_cast<float>(f) + smooth));
    }
  }
  return out;
}

// Gemma 3's extra settings, with Gemma3TextConfig's defaults, as Gemma3Model writes them.
Status ReadGemma3(const Json& j, const Json& sliding_rope, HfConfig* c) {
  if (!c->rope_theta) c->rope_theta = 1000000.0;
  FOUNDRY_ASSIGN_OR_RETURN(c->rope_theta_swa, FindNumber(sliding_rope, "rope_theta"));
  if (!c->rope_theta_swa) {
    FOUNDRY_ASSIGN_OR_RETURN(c->rope_theta_swa, FindNumber(j, "rope_local_base_freq"));
  }
  if (!c->rope_theta_swa) c->rope_theta_swa = 10000.0;
  if (!(*c->rope_theta_swa > 0))
    return CorruptFile("config.json: the local rope_theta must be positive");
  FOUNDRY_ASSIGN_OR_RETURN(auto window, FindCount(j, {"sliding_window"}));
  FOUNDRY_ASSIGN_OR_RETURN(auto pattern, FindCount(j, {"sliding_window_pattern"}));
  if (pattern.value_or(6) != 1) c->sliding_window = window.value_or(4096);
  if (pattern && *pattern != 6 && *pattern != 1) {
    // The engine (like llama.cpp) puts a global layer every 6th; another pattern would run
    // with the wrong attention.
    return Unimplemented("config.json: sliding_window_pattern " + std::to_string(*pattern) +
                         " is not supported (Gemma 3 uses 6)");
  }
  FOUNDRY_ASSIGN_OR_RETURN(auto cap, FindNumber(j, "final_logit_softcapping"));
  if (cap && *cap != 0) c->final_logit_softcap = *cap;
  if (auto a = j.find("attn_logit_softcapping"); a != j.end() && !a->is_null()) {
    return Unimplemented("config.json: attn_logit_softcapping (Gemma 2) is not supported");
  }
  return OkStatus();
}

// A JSON array of numbers as float32, as torch.tensor(list, dtype=torch.float32) makes it.
StatusOr<std::vector<float>> FloatList(const Json& rope, const char* key) {
  auto it = rope.find(key);
  if (it == rope.end() || it->is_null()) return std::vector<float>();
  if (!it->is_array()) return CorruptFile(std::string("config.json: '") + key + "' must be a list");
  std::vector<float> out;
  for (const Json& v : *it) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0)) {
      return CorruptFile(std::string("config.json: '") + key + "' must hold positive numbers");
    }
    out.push_back(static_cast<float>(v.get<double>()));
  }
  return out;
}

// Phi-3's settings as Phi3MiniModel writes them: the rotated share of each head, the original
// context, and LongRoPE (rope type "longrope", formerly "su", or "yarn") when the scaling lists
// long_factor and short_factor.
Status ReadPhi3(const Json& j, const Json& rope, HfConfig* c) {
  if (!c->rope_theta) c->rope_theta = 10000.0;  // Phi3Config's default
  FOUNDRY_ASSIGN_OR_RETURN(auto partial, FindNumber(rope, "partial_rotary_factor"));
  if (!partial) {
    FOUNDRY_ASSIGN_OR_RETURN(partial, FindNumber(j, "partial_rotary_factor"));
  }
  const double share = partial.value_or(1.0);
  // int(share * n_embd) // n_head, as the converter computes it.
  c->n_rot = static_cast<int64_t>(share * static_cast<double>(c->n_embd)) / c->n_head;
  if (!(share > 0 && share <= 1) || c->n_rot <= 0 || c->n_rot % 2 != 0 ||
      c->n_rot > c->head_size()) {
    return CorruptFile(
        "config.json: partial_rotary_factor must give an even number of rotated "
        "dimensions within the head size");
  }
  FOUNDRY_ASSIGN_OR_RETURN(auto orig, FindCount(rope, {"original_max_position_embeddings"}));
  if (!orig) {
    FOUNDRY_ASSIGN_OR_RETURN(orig, FindCount(j, {"original_max_position_embeddings"}));
  }
  c->n_ctx_orig = orig.value_or(c->n_ctx);
  FOUNDRY_ASSIGN_OR_RETURN(auto window, FindCount(j, {"sliding_window"}));
  c->sliding_window = window.value_or(0);

  FOUNDRY_ASSIGN_OR_RETURN(c->rope_factors_long, FloatList(rope, "long_factor"));
  if (c->rope_factors_long.empty()) return OkStatus();  // no LongRoPE
  FOUNDRY_ASSIGN_OR_RETURN(c->rope_factors_short, FloatList(rope, "short_factor"));
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    if (auto it = rope.find(key); it != rope.end() && it->is_string()) {
      type = it->get<std::string>();
      break;
    }
  }
  for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const double scale = static_cast<double>(c->n_ctx) / static_cast<double>(c->n_ctx_orig);
  if (type == "longrope" || type == "su") {
    c->rope_attn_factor =
        scale > 1.0 ? std::sqrt(1 + std::log(scale) / std::log(static_cast<double>(c->n_ctx_orig)))
                    : 1.0;
  } else if (type == "yarn") {
    c->rope_attn_factor = scale > 1.0 ? 0.1 * std::log(scale) + 1.0 : 1.0;
  } else {
    return Unimplemented("config.json: Phi-3 rope scaling '" + type +
                         "' is not supported (supported: longrope, su, yarn)");
  }
  const auto half = static_cast<size_t>(c->n_rot / 2);
  if (c->rope_factors_long.size() != half || c->rope_factors_short.size() != half) {
    return CorruptFile("config.json: long_factor and short_factor must each hold " +
                       std::to_string(half) + " numbers (half the rotated dimensions)");
  }
  return OkStatus();
}

}  // namespace

std::string SupportedHfArchitectures() {
  std::string out;
  for (const ArchEntry& a : kArchs) {
    out += (out.empty() ? "" : ", ") + std::string(a.hf) + " (" + a.gguf + ")";
  }
  return out;
}

StatusOr<HfConfig> ReadHfConfig(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + " is missing: not a Hugging Face model folder");
  std::ostringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return CorruptFile(path.string() + " is not a JSON object");
  // Multimodal configs nest the language model's settings.
  if (auto t = j.find("text_config"); t != j.end() && t->is_object()) j.update(*t);

  HfConfig c;
  auto archs = j.find("architectures");
  if (archs == j.end() || !archs->is_array() || archs->empty() || !(*archs)[0].is_string()) {
    return CorruptFile(path.string() + ": 'architectures' is missing");
  }
  c.hf_architecture = (*archs)[0].get<std::string>();
  for (const ArchEntry& a : kArchs) {
    if (c.hf_architecture == a.hf) c.arch = a.gguf;
  }
  if (c.arch.empty()) {
    return Unimplemented("unsupported architecture " + c.hf_architecture +
                         "; supported: " + SupportedHfArchitectures());
  }
  FOUNDRY_ASSIGN_OR_RETURN(c.n_vocab, GetCount(j, {"vocab_size"}));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_embd, GetCount(j, {"hidden_size", "n_embd", "dim"}));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_layer, GetCount(j, {"num_hidden_layers", "n_layers"}));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_ff, GetCount(j, {"intermediate_size", "n_inner", "hidden_dim"}));
  const bool gemma3 = c.arch == "gemma3";
  // Gemma 3's converter reads a config through transformers' Gemma3TextConfig, whose defaults
  // fill what config.json leaves out.
  FOUNDRY_ASSIGN_OR_RETURN(auto heads, FindCount(j, {"num_attention_heads", "n_head", "n_heads"}));
  if (!heads && !gemma3) return CorruptFile("config.json: 'num_attention_heads' is missing");
  c.n_head = heads.value_or(8);
  FOUNDRY_ASSIGN_OR_RETURN(auto kv, FindCount(j, {"num_key_value_heads", "n_kv_heads"}));
  c.n_head_kv = kv.value_or(gemma3 ? 4 : c.n_head);
  FOUNDRY_ASSIGN_OR_RETURN(
      auto ctx, FindCount(j, {"max_position_embeddings", "n_ctx", "n_positions", "max_length"}));
  c.n_ctx = ctx.value_or(gemma3 ? 131072 : 2048);
  FOUNDRY_ASSIGN_OR_RETURN(c.head_dim, FindCount(j, {"head_dim"}));
  if (gemma3 && !c.head_dim) c.head_dim = 256;
  if (!c.head_dim && c.n_embd % c.n_head != 0) {
    return CorruptFile("config.json: hidden_size is not a multiple of num_attention_heads");
  }
  if (c.n_head % c.n_head_kv != 0) {
    return CorruptFile("config.json: num_attention_heads is not a multiple of num_key_value_heads");
  }
  if (c.head_size() % 2 != 0) return CorruptFile("config.json: the head size must be even");
  FOUNDRY_ASSIGN_OR_RETURN(auto eps, FindNumber(j, "rms_norm_eps"));
  c.rms_eps = eps.value_or(gemma3 ? 1e-6 : c.rms_eps);
  auto tie = j.find("tie_word_embeddings");
  if (tie != j.end() && tie->is_boolean()) c.tie_word_embeddings = tie->get<bool>();

  // RoPE: transformers 5 writes rope_parameters, older versions rope_theta + rope_scaling.
  Json rope = Json::object();
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_object()) {
      rope = *it;
      break;
    }
  }
  Json sliding = Json::object();
  if (auto local = rope.find("sliding_attention"); local != rope.end() && local->is_object()) {
    sliding = *local;
  }
  if (auto full = rope.find("full_attention"); full != rope.end() && full->is_object()) {
    rope = *full;
  }
  FOUNDRY_ASSIGN_OR_RETURN(c.rope_theta, FindNumber(rope, "rope_theta"));
  if (!c.rope_theta) {
    FOUNDRY_ASSIGN_OR_RETURN(c.rope_theta, FindNumber(j, "rope_theta"));
  }
  if (c.rope_theta && !(*c.rope_theta > 0)) {
    return CorruptFile("config.json: rope_theta must be positive");
  }
  if (gemma3) {
    FOUNDRY_RETURN_IF_ERROR(ReadGemma3(j, sliding, &c));
  }
  if (c.arch == "phi3") {
    FOUNDRY_RETURN_IF_ERROR(ReadPhi3(j, rope, &c));
    return c;
  }
  std::string rope_type;
  for (const char* key : {"rope_type", "type"}) {
    auto it = rope.find(key);
    if (it != rope.end() && it->is_string()) {
      rope_type = it->get<std::string>();
      break;
    }
  }
  if (rope_type == "linear") {
    FOUNDRY_ASSIGN_OR_RETURN(c.rope_linear_factor, FindNumber(rope, "factor"));
  } else if (rope_type == "llama3" || rope_type == "Llama3") {
    FOUNDRY_ASSIGN_OR_RETURN(
        c.llama3_rope_factors,
        Llama3RopeFactors(rope, c.rope_theta.value_or(10000.0), c.head_size()));
  } else if (!rope_type.empty() && rope_type != "default") {
    return Unimplemented("config.json: rope scaling '" + rope_type +
                         "' is not supported (supported: default, linear, llama3)");
  }
  return c;
}

void WriteModelHeader(const HfConfig& c, const std::string& name, uint32_t file_type,
                      GgufWriter* w) {
  w->AddString("general.architecture", c.arch);
  w->AddString("general.type", "model");
  if (!name.empty()) w->AddString("general.name", name);
  WriteHParams(c, w);
  w->AddUint32("general.file_type", file_type);
  w->AddUint32("general.quantization_version", 2);
}

namespace {

// Phi3MiniModel's keys, in its order (no key/value lengths; the sliding window even when 0,
// which marks Phi-4 models).
void WritePhi3HParams(const HfConfig& c, GgufWriter* w) {
  const std::string a = c.arch + ".";
  w->AddUint32(a + "context_length", static_cast<uint32_t>(c.n_ctx));
  w->AddUint32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(c.n_ctx_orig));
  w->AddUint32(a + "embedding_length", static_cast<uint32_t>(c.n_embd));
  w->AddUint32(a + "feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w->AddUint32(a + "block_count", static_cast<uint32_t>(c.n_layer));
  w->AddUint32(a + "attention.head_count", static_cast<uint32_t>(c.n_head));
  w->AddUint32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
  w->AddFloat32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_eps));
  w->AddUint32(a + "rope.dimension_count", static_cast<uint32_t>(c.n_rot));
  w->AddFloat32(a + "rope.freq_base", static_cast<float>(c.rope_theta.value_or(10000.0)));
  w->AddUint32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  if (c.rope_attn_factor) {
    w->AddFloat32(a + "rope.scaling.attn_factor", static_cast<float>(*c.rope_attn_factor));
  }
}

}  // namespace

void WriteHParams(const HfConfig& c, GgufWriter* w) {
  if (c.arch == "phi3") return WritePhi3HParams(c, w);
  const std::string a = c.arch + ".";
  w->AddUint32(a + "block_count", static_cast<uint32_t>(c.n_layer));
  w->AddUint32(a + "context_length", static_cast<uint32_t>(c.n_ctx));
  w->AddUint32(a + "embedding_length", static_cast<uint32_t>(c.n_embd));
  w->AddUint32(a + "feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w->AddUint32(a + "attention.head_count", static_cast<uint32_t>(c.n_head));
  w->AddUint32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
  if (c.rope_linear_factor) {
    w->AddString(a + "rope.scaling.type", "linear");
    w->AddFloat32(a + "rope.scaling.factor", static_cast<float>(*c.rope_linear_factor));
  }
  if (c.rope_theta) w->AddFloat32(a + "rope.freq_base", static_cast<float>(*c.rope_theta));
  w->AddFloat32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_eps));
  if (c.head_dim) {
    w->AddUint32(a + "attention.key_length", static_cast<uint32_t>(*c.head_dim));
    w->AddUint32(a + "attention.value_length", static_cast<uint32_t>(*c.head_dim));
  }
  if (c.rope_theta_swa)
    w->AddFloat32(a + "rope.freq_base_swa", static_cast<float>(*c.rope_theta_swa));
  if (c.final_logit_softcap) {
    w->AddFloat32(a + "final_logit_softcapping", static_cast<float>(*c.final_logit_softcap));
  }
  if (c.sliding_window > 0) {
    w->AddUint32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  }
  if (c.arch == "llama") {  // LlamaModel adds these two
    w->AddUint32(a + "vocab_size", static_cast<uint32_t>(c.n_vocab));
    w->AddUint32(a + "rope.dimension_count", static_cast<uint32_t>(c.head_size()));
  }
}

}  // namespace foundry::convert
