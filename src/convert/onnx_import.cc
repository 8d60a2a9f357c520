#include "convert/onnx_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/fp16.h"
#include "convert/disk_space.h"
#include "convert/quant_plan.h"
#include "convert/vocab_writer.h"

namespace foundry::convert {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kBlock = 32;  // the only MatMulNBits block size imported (Q4_0 / Q4_1's)

// Ops that carry no weights in ONNX Runtime GenAI decoder graphs (attention-mask bookkeeping,
// SiLU, reshapes): skipped. Anything else unknown stops the import.
bool IsPlumbing(const std::string& op) {
  for (const char* p : {"Constant", "Cast", "ReduceSum", "Sub", "Shape", "Reshape", "Sigmoid",
                        "Mul", "Unsqueeze", "Squeeze", "Concat", "Identity"}) {
    if (op == p) return true;
  }
  return false;
}

StatusOr<nlohmann::json> ReadJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + " is missing: not an ONNX Runtime GenAI folder");
  std::ostringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return CorruptFile(path.string() + " is not a JSON object");
  return j;
}

StatusOr<int64_t> PositiveInt(const nlohmann::json& obj, const char* key, const std::string& file) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer() || it->get<int64_t>() <= 0 ||
      it->get<int64_t>() > (int64_t{1} << 31)) {
    return CorruptFile(file + ": " + key + " is missing or not a positive integer");
  }
  return it->get<int64_t>();
}

// "model.layers.12.attn.qkv_proj.MatMul.weight_Q4" -> layer 12, rest "attn.qkv_proj.MatMul...".
bool SplitLayer(const std::string& name, int64_t* layer, std::string* rest) {
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return false;
  size_t i = prefix.size(), j = i;
  while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
  if (j == i || j - i > 6 || j >= name.size() || name[j] != '.') return false;
  *layer = std::stoll(name.substr(i, j - i));
  *rest = name.substr(j + 1);
  return true;
}

std::string Blk(int64_t layer, const char* kind) {
  return "blk." + std::to_string(layer) + "." + kind;
}

Status PatternError(const OnnxNode& n, const std::string& detail) {
  return Unimplemented("unsupported ONNX op pattern: " + n.op_type + " node '" + n.name + "' (" +
                       detail + "); foundry imports ONNX Runtime GenAI llama/qwen2 decoders");
}

// A Jinja string literal of `s` (the engine's Jinja reads \\, \" and \n escapes).
std::string JinjaLiteral(const std::string& s) {
  std::string out = "{{ \"";
  for (char ch : s) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out + "\" }}";
}

// Foundry Local's PromptTemplate ({"system": "...{Content}...", "user": ..., "assistant": ...})
// as a chat template: each message through its role's pattern, then the assistant pattern's
// text before {Content} as the generation prompt.
std::string PromptTemplateToJinja(const nlohmann::json& pt) {
  const auto pattern = [&](const char* role) {
    auto it = pt.find(role);
    return it != pt.end() && it->is_string() ? it->get<std::string>() : std::string("{Content}");
  };
  const auto render = [&](const std::string& p) {
    const size_t at = p.find("{Content}");
    if (at == std::string::npos) return JinjaLiteral(p);
    return JinjaLiteral(p.substr(0, at)) + "{{ message['content'] }}" +
           JinjaLiteral(p.substr(at + 9));
  };
  const std::string assistant = pattern("assistant");
  std::string t = "{% for message in messages %}";
  t += "{% if message['role'] == 'system' %}" + render(pattern("system"));
  t += "{% elif message['role'] == 'assistant' %}" + render(assistant);
  t += "{% else %}" + render(pattern("user")) + "{% endif %}{% endfor %}";
  t += "{% if add_generation_prompt %}" +
       JinjaLiteral(assistant.substr(0, assistant.find("{Content}"))) + "{% endif %}";
  return t;
}

}  // namespace

bool IsOnnxGenaiFolder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "genai_config.json", ec);
}

void RepackNibbles32(const uint8_t* src, uint8_t* dst) {
  uint8_t q[32];
  for (int k = 0; k < 16; ++k) {
    q[2 * k] = src[k] & 0x0f;
    q[2 * k + 1] = src[k] >> 4;
  }
  for (int j = 0; j < 16; ++j) dst[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
}

StatusOr<OnnxImportPlan> OnnxImportPlan::Make(const fs::path& dir, HfTokenizer tokenizer,
                                              const std::string& model_name) {
  OnnxImportPlan plan;
  plan.dir_ = dir;
  plan.tokenizer_ = std::move(tokenizer);
  plan.model_name_ = model_name;
  const fs::path config_path = dir / "genai_config.json";
  const std::string cfg = config_path.string();
  FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json j, ReadJson(config_path));
  auto model = j.find("model");
  if (model == j.end() || !model->is_object()) return CorruptFile(cfg + ": no \"model\" object");
  auto decoder = model->find("decoder");
  if (decoder == model->end() || !decoder->is_object()) {
    return CorruptFile(cfg + ": no \"model.decoder\" object");
  }
  HfConfig& c = plan.config_;
  const std::string type = model->value("type", std::string());
  if (type == "llama" || type == "mistral") {
    c.arch = "llama";
  } else if (type == "qwen2") {
    c.arch = "qwen2";
  } else {
    return Unimplemented(cfg + ": model type '" + type + "' is not supported (supported: llama, " +
                         "mistral, qwen2)");
  }
  c.hf_architecture = "onnx " + type;
  FOUNDRY_ASSIGN_OR_RETURN(c.n_vocab, PositiveInt(*model, "vocab_size", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_ctx, PositiveInt(*model, "context_length", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_embd, PositiveInt(*decoder, "hidden_size", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_layer, PositiveInt(*decoder, "num_hidden_layers", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_head, PositiveInt(*decoder, "num_attention_heads", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(c.n_head_kv, PositiveInt(*decoder, "num_key_value_heads", cfg));
  FOUNDRY_ASSIGN_OR_RETURN(int64_t head_size, PositiveInt(*decoder, "head_size", cfg));
  if (c.n_head % c.n_head_kv != 0 || head_size % 2 != 0) {
    return CorruptFile(cfg + ": num_attention_heads, num_key_value_heads, head_size do not fit");
  }
  if (head_size * c.n_head != c.n_embd) c.head_dim = head_size;
  if (auto t = model->find("rope_theta");
      t != model->end() && t->is_number() && t->get<double>() > 0) {
    c.rope_theta = t->get<double>();
  }
  const std::string filename = decoder->value("filename", std::string("model.onnx"));
  if (filename.empty() || filename.find('/') != std::string::npos ||
      filename.find("..") != std::string::npos) {
    return CorruptFile(cfg + ": decoder filename '" + filename + "' is not a file in the folder");
  }
  FOUNDRY_ASSIGN_OR_RETURN(plan.model_, OnnxModel::Open(dir / filename));
  FOUNDRY_RETURN_IF_ERROR(plan.MapGraph());

  // Foundry Local's inference_model.json: its PromptTemplate stands in for a missing chat template.
  if (plan.tokenizer_.chat_template.empty() && fs::exists(dir / "inference_model.json")) {
    FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json im, ReadJson(dir / "inference_model.json"));
    if (auto pt = im.find("PromptTemplate"); pt != im.end() && !pt->is_null()) {
      plan.prompt_template_ = pt->dump();
      if (pt->is_object()) plan.tokenizer_.chat_template = PromptTemplateToJinja(*pt);
    }
  }
  plan.estimated_bytes_ = 1 << 20;
  for (const std::string& tok : plan.tokenizer_.vocab.tokens)
    plan.estimated_bytes_ += tok.size() + 16;
  for (const std::string& m : plan.tokenizer_.vocab.merges) plan.estimated_bytes_ += m.size() + 8;
  for (const Tensor& t : plan.tensors_) {
    const auto info = FindQuantTypeInfo(static_cast<uint32_t>(t.type));
    plan.estimated_bytes_ +=
        RowBytes(*info, t.ne[0]) * (t.ne.size() > 1 ? t.ne[1] : 1) + GgufWriter::kAlignment;
  }
  return plan;
}

Status OnnxImportPlan::AddFloat(const std::string& name, const OnnxTensor* t, uint64_t first,
                                uint64_t n, std::vector<uint64_t> ne) {
  if (t == nullptr) return CorruptFile("the initializer for " + name + " is missing");
  if (t->dtype != static_cast<int32_t>(OnnxDtype::kFloat) &&
      t->dtype != static_cast<int32_t>(OnnxDtype::kFloat16)) {
    return Unimplemented("initializer " + t->name + " has ONNX data type " +
                         std::to_string(t->dtype) + "; float32 or float16 is imported");
  }
  if (first + n > t->elements()) {
    return CorruptFile("initializer " + t->name + " has " + std::to_string(t->elements()) +
                       " values; " + name + " needs " + std::to_string(first + n));
  }
  Tensor out;
  out.name = name;
  out.ne = std::move(ne);
  out.type =
      t->dtype == static_cast<int32_t>(OnnxDtype::kFloat) ? QuantType::kF32 : QuantType::kF16;
  out.data = t;
  out.first_row = first;
  tensors_.push_back(std::move(out));
  return OkStatus();
}

Status OnnxImportPlan::AddQuantized(const std::string& name, const OnnxNode& node,
                                    size_t weight_input, uint64_t rows, uint64_t first_row,
                                    int64_t permute_heads, uint64_t k) {
  const auto input = [&](size_t i) -> const OnnxTensor* {
    return i < node.inputs.size() && !node.inputs[i].empty() ? model_->Find(node.inputs[i])
                                                             : nullptr;
  };
  const int64_t bits = node.Int("bits").value_or(4), block = node.Int("block_size").value_or(0);
  if (bits != 4)
    return PatternError(node, std::to_string(bits) + "-bit weights; only 4-bit are imported");
  if (block != static_cast<int64_t>(kBlock)) {
    return PatternError(node, "block_size " + std::to_string(block) +
                                  "; only 32 maps onto Q4_0/Q4_1 without requantizing");
  }
  Tensor t;
  t.name = name;
  t.data = input(weight_input);
  t.scales = input(weight_input + 1);
  t.zero_points = input(weight_input + 2);
  if (weight_input + 2 < node.inputs.size() && !node.inputs[weight_input + 2].empty() &&
      t.zero_points == nullptr) {
    return PatternError(node, "zero points are not an initializer");
  }
  if (t.data == nullptr || t.scales == nullptr) {
    return PatternError(node, "its weight or scales are not initializers");
  }
  if (k % kBlock != 0)
    return PatternError(node, "K = " + std::to_string(k) + " is not a multiple of 32");
  const uint64_t blocks = k / kBlock;
  const uint64_t total_rows = first_row + rows;
  if (t.data->dtype != static_cast<int32_t>(OnnxDtype::kUint8) ||
      t.data->nbytes < total_rows * blocks * 16) {
    return CorruptFile("initializer " + t.data->name + " is not uint8 of at least " +
                       std::to_string(total_rows * blocks * 16) + " bytes");
  }
  if (t.scales->dtype != static_cast<int32_t>(OnnxDtype::kFloat) ||
      t.scales->elements() < total_rows * blocks) {
    return Unimplemented("initializer " + t.scales->name + " must be float32 with " +
                         std::to_string(total_rows * blocks) + " scales");
  }
  if (t.zero_points != nullptr &&
      (t.zero_points->dtype != static_cast<int32_t>(OnnxDtype::kUint8) ||
       t.zero_points->nbytes < total_rows * ((blocks + 1) / 2))) {
    return Unimplemented("initializer " + t.zero_points->name +
                         " must hold packed uint8 4-bit zero points");
  }
  t.type = t.zero_points ? QuantType::kQ4_1 : QuantType::kQ4_0;
  t.ne = {k, rows};
  t.first_row = first_row;
  t.permute_heads = permute_heads;
  tensors_.push_back(std::move(t));
  return OkStatus();
}

Status OnnxImportPlan::MapGraph() {
  HfConfig& c = config_;
  const auto q_dim = static_cast<uint64_t>(c.n_head * c.head_size());
  const auto kv_dim = static_cast<uint64_t>(c.n_head_kv * c.head_size());
  const auto n_embd = static_cast<uint64_t>(c.n_embd);
  const bool llama = c.arch == "llama";
  const OnnxTensor* lm_head_weight = nullptr;
  const OnnxTensor* embedding_source = nullptr;
  std::optional<float> eps;
  const OnnxTensor* cos_cache = nullptr;
  const OnnxTensor* sin_cache = nullptr;
  for (const OnnxNode& n : model_->nodes()) {
    const auto init = [&](size_t i) -> const OnnxTensor* {
      return i < n.inputs.size() ? model_->Find(n.inputs[i]) : nullptr;
    };
    if (n.op_type == "MatMulNBits") {
      const OnnxTensor* w = init(1);
      if (w == nullptr) return PatternError(n, "its weight is not an initializer");
      const uint64_t k = static_cast<uint64_t>(std::max<int64_t>(0, n.Int("K").value_or(0)));
      const uint64_t rows = static_cast<uint64_t>(std::max<int64_t>(0, n.Int("N").value_or(0)));
      if (n.inputs.size() > 4 && !n.inputs[4].empty())
        return PatternError(n, "g_idx is not supported");
      if (n.inputs.size() > 5 && !n.inputs[5].empty())
        return PatternError(n, "a bias input is not supported");
      int64_t layer = -1;
      std::string rest;
      if (w->name.rfind("lm_head.", 0) == 0) {
        if (k != n_embd || rows != static_cast<uint64_t>(c.n_vocab)) {
          return PatternError(n, "lm_head is not [vocab_size, hidden_size]");
        }
        lm_head_weight = w;
        FOUNDRY_RETURN_IF_ERROR(AddQuantized("output.weight", n, 1, rows, 0, 0, k));
        continue;
      }
      if (!SplitLayer(w->name, &layer, &rest) || layer >= c.n_layer) {
        return PatternError(n, "weight " + w->name + " is not a decoder layer's");
      }
      const auto proj = [&](const char* p) { return rest.rfind(p, 0) == 0; };
      const auto want = [&](uint64_t want_rows, uint64_t want_k) -> Status {
        if (rows != want_rows || k != want_k) {
          return PatternError(n, "shape [" + std::to_string(rows) + ", " + std::to_string(k) +
                                     "] but genai_config.json implies [" +
                                     std::to_string(want_rows) + ", " + std::to_string(want_k) +
                                     "]");
        }
        return OkStatus();
      };
      const int64_t hq = llama ? c.n_head : 0, hkv = llama ? c.n_head_kv : 0;
      if (proj("attn.qkv_proj.")) {
        FOUNDRY_RETURN_IF_ERROR(want(q_dim + 2 * kv_dim, n_embd));
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, "attn_q.weight"), n, 1, q_dim, 0, hq, k));
        FOUNDRY_RETURN_IF_ERROR(
            AddQuantized(Blk(layer, "attn_k.weight"), n, 1, kv_dim, q_dim, hkv, k));
        FOUNDRY_RETURN_IF_ERROR(
            AddQuantized(Blk(layer, "attn_v.weight"), n, 1, kv_dim, q_dim + kv_dim, 0, k));
      } else if (proj("attn.q_proj.")) {
        FOUNDRY_RETURN_IF_ERROR(want(q_dim, n_embd));
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, "attn_q.weight"), n, 1, rows, 0, hq, k));
      } else if (proj("attn.k_proj.")) {
        FOUNDRY_RETURN_IF_ERROR(want(kv_dim, n_embd));
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, "attn_k.weight"), n, 1, rows, 0, hkv, k));
      } else if (proj("attn.v_proj.")) {
        FOUNDRY_RETURN_IF_ERROR(want(kv_dim, n_embd));
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, "attn_v.weight"), n, 1, rows, 0, 0, k));
      } else if (proj("attn.o_proj.")) {
        FOUNDRY_RETURN_IF_ERROR(want(n_embd, q_dim));
        FOUNDRY_RETURN_IF_ERROR(
            AddQuantized(Blk(layer, "attn_output.weight"), n, 1, rows, 0, 0, k));
      } else if (proj("mlp.gate_proj.") || proj("mlp.up_proj.")) {
        if (k != n_embd) FOUNDRY_RETURN_IF_ERROR(want(rows, n_embd));
        if (c.n_ff != 0 && static_cast<uint64_t>(c.n_ff) != rows) {
          return PatternError(n, "the feed-forward sizes differ");
        }
        c.n_ff = static_cast<int64_t>(rows);
        const char* kind = proj("mlp.gate_proj.") ? "ffn_gate.weight" : "ffn_up.weight";
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, kind), n, 1, rows, 0, 0, k));
      } else if (proj("mlp.down_proj.")) {
        if (rows != n_embd) FOUNDRY_RETURN_IF_ERROR(want(n_embd, k));
        FOUNDRY_RETURN_IF_ERROR(AddQuantized(Blk(layer, "ffn_down.weight"), n, 1, rows, 0, 0, k));
      } else {
        return PatternError(n, "weight " + w->name + " has no GGUF counterpart");
      }
    } else if (n.op_type == "Add") {
      const OnnxTensor* bias = init(1) ? init(1) : init(0);
      if (bias == nullptr) continue;  // a residual add between activations
      int64_t layer = -1;
      std::string rest;
      if (!SplitLayer(bias->name, &layer, &rest) || layer >= c.n_layer || c.arch != "qwen2") {
        return PatternError(n, "bias " + bias->name + " has no GGUF counterpart");
      }
      if (rest.rfind("attn.qkv_proj.", 0) == 0) {
        FOUNDRY_RETURN_IF_ERROR(AddFloat(Blk(layer, "attn_q.bias"), bias, 0, q_dim, {q_dim}));
        FOUNDRY_RETURN_IF_ERROR(AddFloat(Blk(layer, "attn_k.bias"), bias, q_dim, kv_dim, {kv_dim}));
        FOUNDRY_RETURN_IF_ERROR(
            AddFloat(Blk(layer, "attn_v.bias"), bias, q_dim + kv_dim, kv_dim, {kv_dim}));
        if (bias->elements() != q_dim + 2 * kv_dim) return PatternError(n, "bias size");
      } else {
        bool found = false;
        for (const char* p : {"q", "k", "v"}) {
          if (rest.rfind(std::string("attn.") + p + "_proj.", 0) == 0) {
            const uint64_t size = *p == 'q' ? q_dim : kv_dim;
            if (bias->elements() != size) return PatternError(n, "bias size");
            FOUNDRY_RETURN_IF_ERROR(AddFloat(
                Blk(layer, (std::string("attn_") + p + ".bias").c_str()), bias, 0, size, {size}));
            found = true;
          }
        }
        if (!found) return PatternError(n, "bias " + bias->name + " has no GGUF counterpart");
      }
    } else if (n.op_type == "SimplifiedLayerNormalization" ||
               n.op_type == "SkipSimplifiedLayerNormalization") {
      const OnnxTensor* w = init(n.op_type[0] == 'S' && n.op_type[1] == 'k' ? 2 : 1);
      if (w == nullptr) return PatternError(n, "its scale is not an initializer");
      const std::optional<float> e = n.Float("epsilon");
      if (!e || !(*e > 0) || (eps && *eps != *e))
        return PatternError(n, "missing or differing epsilon");
      eps = e;
      int64_t layer = -1;
      std::string rest;
      std::string name;
      if (w->name == "model.norm.weight") {
        name = "output_norm.weight";
      } else if (SplitLayer(w->name, &layer, &rest)) {
        if (rest == "final_norm_layernorm.weight" && layer == c.n_layer)
          name = "output_norm.weight";
        if (rest == "input_layernorm.weight" && layer < c.n_layer)
          name = Blk(layer, "attn_norm.weight");
        if (rest == "post_attention_layernorm.weight" && layer < c.n_layer) {
          name = Blk(layer, "ffn_norm.weight");
        }
      }
      if (name.empty())
        return PatternError(n, "norm weight " + w->name + " has no GGUF counterpart");
      FOUNDRY_RETURN_IF_ERROR(AddFloat(name, w, 0, n_embd, {n_embd}));
    } else if (n.op_type == "GroupQueryAttention") {
      if (n.Int("num_heads") != c.n_head || n.Int("kv_num_heads") != c.n_head_kv) {
        return PatternError(n, "its head counts differ from genai_config.json");
      }
      if (n.Int("do_rotary").value_or(0) != 1 || n.Int("rotary_interleaved").value_or(0) != 0) {
        return PatternError(n,
                            "only do_rotary=1 with rotary_interleaved=0 (HF's rotate-half RoPE)");
      }
      if (n.Float("softcap").value_or(0.0f) != 0.0f ||
          n.Int("local_window_size").value_or(-1) != -1) {
        return PatternError(n, "softcap and sliding windows are not supported");
      }
      if (n.inputs.size() > 2 && (!n.inputs[1].empty() || !n.inputs[2].empty())) {
        return PatternError(n, "separate query/key/value inputs (packed QKV expected)");
      }
      cos_cache = init(7);
      sin_cache = init(8);
    } else if (n.op_type == "GatherBlockQuantized") {
      // The embedding: 4-bit rows, often the lm_head's own bytes reshaped (tied weights).
      const OnnxTensor* data = init(0);
      for (const OnnxNode& p : model_->nodes()) {
        if (data == nullptr && p.op_type == "Reshape" && !p.outputs.empty() &&
            p.outputs[0] == n.inputs[0] && !p.inputs.empty()) {
          data = model_->Find(p.inputs[0]);
        }
      }
      if (data == nullptr || n.Int("gather_axis").value_or(0) != 0 ||
          n.Int("quantize_axis").value_or(1) != 1) {
        return PatternError(n, "an embedding gathered from a non-initializer or another axis");
      }
      embedding_source = data;
      OnnxNode as_matmul = n;  // the same inputs (data, indices, scales, zero points)
      as_matmul.inputs[1] = data->name;
      as_matmul.inputs.erase(as_matmul.inputs.begin());
      FOUNDRY_RETURN_IF_ERROR(AddQuantized("token_embd.weight", as_matmul, 0,
                                           static_cast<uint64_t>(c.n_vocab), 0, 0, n_embd));
    } else if (n.op_type == "Gather" && init(0) != nullptr) {
      embedding_source = init(0);
      const uint64_t vocab = static_cast<uint64_t>(c.n_vocab);
      if (init(0)->dims != std::vector<int64_t>{c.n_vocab, c.n_embd}) {
        return PatternError(n, "the embedding is not [vocab_size, hidden_size]");
      }
      FOUNDRY_RETURN_IF_ERROR(
          AddFloat("token_embd.weight", init(0), 0, vocab * n_embd, {n_embd, vocab}));
    } else if (n.op_type == "Gather" || IsPlumbing(n.op_type)) {
      if (n.op_type == "Mul" && (init(0) != nullptr || init(1) != nullptr)) {
        return PatternError(n, "a multiplication by a weight");
      }
    } else {
      return PatternError(n, "no importer for this op");
    }
  }
  if (embedding_source == nullptr) return CorruptFile("model.onnx has no embedding (Gather) node");
  if (eps) c.rms_eps = *eps;
  if (lm_head_weight == embedding_source) {  // tied: the GGUF's output reuses token_embd
    c.tie_word_embeddings = true;
    tensors_.erase(std::remove_if(tensors_.begin(), tensors_.end(),
                                  [](const Tensor& t) { return t.name == "output.weight"; }),
                   tensors_.end());
  }
  if (!c.rope_theta) {
    // No rope_theta in genai_config.json: recovered from the rotary cache's row for position 1,
    // whose angles are the inverse frequencies theta^(-2i/d).
    if (cos_cache == nullptr || sin_cache == nullptr) {
      return CorruptFile(
          "model.onnx: no GroupQueryAttention cos_cache/sin_cache to read RoPE from");
    }
    const uint64_t half = static_cast<uint64_t>(c.head_size() / 2);
    if (cos_cache->dtype != static_cast<int32_t>(OnnxDtype::kFloat) ||
        sin_cache->dtype != cos_cache->dtype || cos_cache->dims.size() != 2 ||
        sin_cache->dims != cos_cache->dims || cos_cache->dims[0] < 2 ||
        static_cast<uint64_t>(cos_cache->dims[1]) != half) {
      return Unimplemented("model.onnx: cos_cache must be float32 [positions, head_size / 2]");
    }
    const auto at = [&](const OnnxTensor* t, uint64_t i) {
      float v;
      std::memcpy(&v, t->data + 4 * (half + i), 4);
      return static_cast<double>(v);
    };
    const double f1 = std::atan2(at(sin_cache, 1), at(cos_cache, 1));
    double theta = std::exp(-std::log(f1) * static_cast<double>(half));
    if (!(theta > 1.0) || !std::isfinite(theta))
      return CorruptFile("model.onnx: cos_cache is not a RoPE cache");
    if (std::fabs(theta - std::round(theta)) <= std::max(1.0, 1e-5 * theta))
      theta = std::round(theta);
    for (uint64_t i = 0; i < half; ++i) {
      const double want = std::pow(theta, -static_cast<double>(i) / static_cast<double>(half));
      const double got = std::atan2(at(sin_cache, i), at(cos_cache, i));
      if (std::fabs(got - want) > 1e-5 * std::max(1.0, want) + 1e-6) {
        return Unimplemented("model.onnx: the RoPE cache is scaled (frequency " +
                             std::to_string(i) +
                             " is not theta^(-2i/d)); only unscaled RoPE is imported");
      }
    }
    c.rope_theta = theta;
  }
  // Everything the engine needs, once.
  std::vector<std::string> required = {"token_embd.weight", "output_norm.weight"};
  if (!c.tie_word_embeddings) required.push_back("output.weight");
  for (int64_t l = 0; l < c.n_layer; ++l) {
    for (const char* k : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                          "ffn_gate", "ffn_up", "ffn_down"}) {
      required.push_back(Blk(l, k) + ".weight");
    }
  }
  for (const std::string& name : required) {
    if (std::none_of(tensors_.begin(), tensors_.end(),
                     [&](const Tensor& t) { return t.name == name; })) {
      return CorruptFile("model.onnx has no weight for " + name);
    }
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    for (size_t j = i + 1; j < tensors_.size(); ++j) {
      if (tensors_[i].name == tensors_[j].name)
        return CorruptFile("model.onnx maps two weights to " + tensors_[i].name);
    }
  }
  std::stable_sort(tensors_.begin(), tensors_.end(), [](const Tensor& a, const Tensor& b) {
    return LlamaQuantizeOrder(a.name, b.name);
  });
  return OkStatus();
}

std::vector<std::pair<std::string, QuantType>> OnnxImportPlan::tensor_types() const {
  std::vector<std::pair<std::string, QuantType>> out;
  for (const Tensor& t : tensors_) out.emplace_back(t.name, t.type);
  return out;
}

Status OnnxImportPlan::Write(const fs::path& out, const Progress& progress) const {
  GgufWriter w;
  bool q4_1 = false;
  for (const Tensor& t : tensors_) q4_1 = q4_1 || t.type == QuantType::kQ4_1;
  // llama_ftype MOSTLY_Q4_1 / MOSTLY_Q4_0
  WriteModelHeader(config_, model_name_, q4_1 ? 3 : 2, &w);
  FOUNDRY_RETURN_IF_ERROR(WriteVocab(tokenizer_, config_.n_vocab, &w));
  for (const Tensor& t : tensors_) {
    FOUNDRY_ASSIGN_OR_RETURN(uint64_t nbytes, w.AddTensor(t.name, t.ne, t.type));
    (void)nbytes;
  }
  FOUNDRY_RETURN_IF_ERROR(w.Open(out.string()));
  uint64_t done = 0;
  for (const Tensor& t : tensors_) {
    FOUNDRY_RETURN_IF_ERROR(WriteTensor(t, &w));
    const auto info = FindQuantTypeInfo(static_cast<uint32_t>(t.type));
    done += RowBytes(*info, t.ne[0]) * (t.ne.size() > 1 ? t.ne[1] : 1);
    if (progress) progress(t.name, done, estimated_bytes_);
  }
  return w.Finish();
}

Status OnnxImportPlan::WriteTensor(const Tensor& t, GgufWriter* w) const {
  if (t.scales == nullptr) {  // F32 / F16: a contiguous run of elements
    uint64_t n = 1;
    for (uint64_t d : t.ne) n *= d;
    const size_t elem = OnnxDtypeSize(t.data->dtype);
    return w->Append(t.data->data + t.first_row * elem, n * elem);
  }
  const uint64_t k = t.ne[0], rows = t.ne[1], blocks = k / kBlock;
  const bool q4_1 = t.type == QuantType::kQ4_1;
  const size_t block_bytes = q4_1 ? 20 : 18;
  const uint64_t zp_row_bytes = (blocks + 1) / 2;
  const uint64_t head_rows =
      t.permute_heads > 0 ? rows / static_cast<uint64_t>(t.permute_heads) : 0;
  std::vector<uint8_t> row(blocks * block_bytes);
  for (uint64_t r = 0; r < rows; ++r) {
    // llama's Q/K rows go to GGUF's interleaved RoPE layout, as in convert_hf_to_gguf.py.
    uint64_t src = r;
    if (head_rows > 0) {
      const uint64_t h = r / head_rows, rem = r % head_rows;
      src = h * head_rows + (rem % 2) * (head_rows / 2) + rem / 2;
    }
    src += t.first_row;
    const uint8_t* q = t.data->data + src * blocks * 16;
    for (uint64_t b = 0; b < blocks; ++b) {
      float scale;
      std::memcpy(&scale, t.scales->data + 4 * (src * blocks + b), 4);
      uint8_t* out = row.data() + b * block_bytes;
      const uint16_t d = Fp32ToFp16(scale);
      std::memcpy(out, &d, 2);
      if (q4_1) {  // x = (q - zp) * scale = q * d + m with m = -zp * scale
        const uint8_t zbyte = t.zero_points->data[src * zp_row_bytes + b / 2];
        const int zp = (b % 2 == 0) ? (zbyte & 0x0f) : (zbyte >> 4);
        const uint16_t m = Fp32ToFp16(-static_cast<float>(zp) * scale);
        std::memcpy(out + 2, &m, 2);
      }
      RepackNibbles32(q + b * 16, out + (q4_1 ? 4 : 2));
    }
    FOUNDRY_RETURN_IF_ERROR(w->Append(row.data(), row.size()));
  }
  return OkStatus();
}

}  // namespace foundry::convert

namespace foundry::convert {

Status ImportOnnxFolderOnce(const fs::path& dir, const fs::path& out,
                            const std::string& model_name) {
  std::error_code ec;
  if (fs::is_regular_file(out, ec)) return OkStatus();
  FOUNDRY_ASSIGN_OR_RETURN(HfTokenizer tokenizer, ReadHfTokenizer(dir));
  FOUNDRY_ASSIGN_OR_RETURN(OnnxImportPlan plan,
                           OnnxImportPlan::Make(dir, std::move(tokenizer), model_name));
  const fs::space_info space = fs::space(out.parent_path(), ec);
  if (!ec)
    FOUNDRY_RETURN_IF_ERROR(
        CheckDiskSpace(out.parent_path(), plan.estimated_bytes(), space.available));
  // One temporary name per thread: two requests importing at once never share a file.
  const fs::path tmp = out.string() + ".importing-" +
                       std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  Status s = plan.Write(tmp, nullptr);
  if (s.ok()) {
    fs::rename(tmp, out, ec);
    if (ec) s = IoError("cannot move the imported model to " + out.string() + ": " + ec.message());
  }
  if (!s.ok()) fs::remove(tmp, ec);
  return s;
}

}  // namespace foundry::convert
