#include "convert/hf_compile.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/fp16.h"
#include "base/thread_pool.h"
#include "convert/tensor_names.h"
#include "convert/tensor_stream.h"
#include "convert/vocab_writer.h"
#include "format/gguf_writer.h"

namespace foundry::convert {
namespace fs = std::filesystem;
namespace {

// x + 1 in the precision the converter's torch computes it: F16 sources stay F16 (rounded
// once), BF16 ones were widened to F32 first.
void AddOne(SafetensorsDtype dtype, float* x, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    x[i] += 1.0f;
    if (dtype == SafetensorsDtype::kF16) x[i] = Fp16ToFp32(Fp32ToFp16(x[i]));
  }
}

std::string ShapeText(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The safetensors files of a checkpoint: the shards model.safetensors.index.json names (each
// of its tensors checked to be where the index says), else every *.safetensors in the folder.
StatusOr<std::vector<std::unique_ptr<SafetensorsFile>>> OpenShards(const fs::path& dir) {
  std::vector<fs::path> paths;
  std::map<std::string, std::string> weight_map;
  const fs::path index = dir / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index, ec)) {
    std::ifstream in(index, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    auto wm = j.is_object() ? j.find("weight_map") : j.end();
    if (j.is_discarded() || !j.is_object() || wm == j.end() || !wm->is_object()) {
      return CorruptFile(index.string() + " has no weight_map object");
    }
    std::set<std::string> files;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string()) return CorruptFile(index.string() + ": bad weight_map entry");
      const std::string file = it.value().get<std::string>();
      if (file.find('/') != std::string::npos || file == "..") {
        return CorruptFile(index.string() + ": shard '" + file + "' is not a file in the folder");
      }
      weight_map[it.key()] = file;
      files.insert(file);
    }
    for (const std::string& f : files) paths.push_back(dir / f);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".safetensors") paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
  }
  if (paths.empty()) return NotFound("no *.safetensors weights in " + dir.string());
  std::vector<std::unique_ptr<SafetensorsFile>> out;
  for (const fs::path& p : paths) {
    if (!fs::exists(p, ec)) return NotFound("shard " + p.string() + " is missing");
    FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> f, SafetensorsFile::Open(p.string()));
    out.push_back(std::move(f));
  }
  for (const auto& [name, file] : weight_map) {
    bool found = false;
    for (const auto& f : out) {
      if (fs::path(f->path()).filename() == file && f->Find(name) != nullptr) found = true;
    }
    if (!found)
      return CorruptFile("missing tensor " + name + " (the index puts it in " + file + ")");
  }
  return out;
}

}  // namespace

StatusOr<HfCompilePlan> HfCompilePlan::Make(const fs::path& src, HfTokenizer tokenizer,
                                            const CompileOptions& options) {
  HfCompilePlan plan;
  plan.options_ = options;
  plan.tokenizer_ = std::move(tokenizer);
  FOUNDRY_ASSIGN_OR_RETURN(plan.config_, ReadHfConfig(src));
  FOUNDRY_RETURN_IF_ERROR(plan.AddTensors(src));
  return plan;
}

Status HfCompilePlan::AddTensors(const fs::path& src) {
  FOUNDRY_ASSIGN_OR_RETURN(files_, OpenShards(src));
  const HfConfig& c = config_;
  const auto n_embd = static_cast<uint64_t>(c.n_embd), n_ff = static_cast<uint64_t>(c.n_ff);
  const auto q_dim = static_cast<uint64_t>(c.n_head * c.head_size());
  const auto kv_dim = static_cast<uint64_t>(c.n_head_kv * c.head_size());
  const auto n_vocab = static_cast<uint64_t>(c.n_vocab);
  const auto head_size = static_cast<uint64_t>(c.head_size());
  const bool phi3 = c.arch == "phi3";
  // HF shapes ([out, in]) by GGUF tensor kind.
  const std::map<std::string, std::vector<uint64_t>> expected = {
      {"token_embd.weight", {n_vocab, n_embd}},
      {"output.weight", {n_vocab, n_embd}},
      {"output_norm.weight", {n_embd}},
      {"attn_norm.weight", {n_embd}},
      {"attn_q.weight", {q_dim, n_embd}},
      {"attn_q.bias", {q_dim}},
      {"attn_k.weight", {kv_dim, n_embd}},
      {"attn_k.bias", {kv_dim}},
      {"attn_v.weight", {kv_dim, n_embd}},
      {"attn_v.bias", {kv_dim}},
      {"attn_output.weight", {n_embd, q_dim}},
      {"ffn_norm.weight", {n_embd}},
      {"ffn_gate.weight", {n_ff, n_embd}},
      {"ffn_up.weight", {phi3 ? 2 * n_ff : n_ff, n_embd}},  // Phi-3: gate and up fused
      {"ffn_down.weight", {n_embd, n_ff}},
      // Gemma 3
      {"attn_q_norm.weight", {head_size}},
      {"attn_k_norm.weight", {head_size}},
      {"post_attention_norm.weight", {n_embd}},
      {"post_ffw_norm.weight", {n_embd}},
      // Phi-3
      {"attn_qkv.weight", {q_dim + 2 * kv_dim, n_embd}},
  };
  std::map<std::string, std::string> hf_of;  // GGUF name -> HF name (duplicates, messages)
  for (const auto& file : files_) {
    for (const SafetensorsTensor& t : file->tensors()) {
      FOUNDRY_ASSIGN_OR_RETURN(std::optional<GgufTensorName> mapped,
                               MapHfTensorName(t.name, c.arch));
      if (!mapped) continue;
      if (mapped->name == "output.weight" && c.tie_word_embeddings) continue;  // = token_embd
      if (mapped->layer >= c.n_layer) {
        return CorruptFile("tensor " + t.name + " is beyond the " + std::to_string(c.n_layer) +
                           " layers of config.json");
      }
      if (!hf_of.emplace(mapped->name, t.name).second) {
        return CorruptFile("tensor " + t.name + " appears twice in the checkpoint");
      }
      std::string kind = mapped->name;
      if (mapped->layer >= 0) kind = kind.substr(kind.find('.', 4) + 1);
      auto want_it = expected.find(kind);
      if (want_it == expected.end()) {  // e.g. mlp_bias / o_proj biases: the engine has none
        return Unimplemented("tensor " + t.name + " (" + mapped->name +
                             ") is not supported by the engine's " + c.arch + " models");
      }
      const std::vector<uint64_t>& want = want_it->second;
      if (t.shape != want) {
        return CorruptFile("tensor " + t.name + " has shape " + ShapeText(t.shape) +
                           " but config.json implies " + ShapeText(want));
      }
      if (t.dtype != SafetensorsDtype::kF32 && t.dtype != SafetensorsDtype::kF16 &&
          t.dtype != SafetensorsDtype::kBF16) {
        return Unimplemented("tensor " + t.name + " has dtype " +
                             std::string(SafetensorsDtypeName(t.dtype)) +
                             "; only F32, F16 and BF16 checkpoints can be compiled");
      }
      Tensor out;
      out.name = mapped->name;
      out.file = file.get();
      out.src = &t;
      out.ne.assign(t.shape.rbegin(), t.shape.rend());
      if (c.arch == "llama" && (kind.rfind("attn_q.", 0) == 0 || kind.rfind("attn_k.", 0) == 0)) {
        out.permute_heads = kind[5] == 'q' ? c.n_head : c.n_head_kv;
      }
      out.add_one = c.arch == "gemma3" && t.name.size() >= 11 &&
                    t.name.compare(t.name.size() - 11, 11, "norm.weight") == 0;
      tensors_.push_back(std::move(out));
    }
  }
  // Everything the engine needs.
  std::vector<std::string> required = {"token_embd.weight", "output_norm.weight"};
  std::vector<const char*> per_layer = {"attn_norm", "attn_q",   "attn_k", "attn_v",  "attn_output",
                                        "ffn_norm",  "ffn_gate", "ffn_up", "ffn_down"};
  if (c.arch == "gemma3") {
    per_layer.insert(per_layer.end(),
                     {"attn_q_norm", "attn_k_norm", "post_attention_norm", "post_ffw_norm"});
  }
  if (phi3) per_layer = {"attn_norm", "attn_qkv", "attn_output", "ffn_norm", "ffn_up", "ffn_down"};
  for (int64_t l = 0; l < c.n_layer; ++l) {
    for (const char* k : per_layer) {
      required.push_back("blk." + std::to_string(l) + "." + k + ".weight");
    }
  }
  for (const std::string& name : required) {
    if (hf_of.count(name) == 0) {
      return CorruptFile("missing tensor " + name + " (HF " + name +
                         "; see the checkpoint's shards)");
    }
  }
  // RoPE factors the converter computes or copies from config.json.
  const std::pair<const char*, const std::vector<float>*> rope_tensors[] = {
      {"rope_freqs.weight", &c.llama3_rope_factors},
      {"rope_factors_long.weight", &c.rope_factors_long},
      {"rope_factors_short.weight", &c.rope_factors_short},
  };
  for (const auto& [name, factors] : rope_tensors) {
    if (factors->empty()) continue;
    Tensor rope;
    rope.name = name;
    rope.generated = *factors;
    rope.ne = {rope.generated.size()};
    tensors_.push_back(std::move(rope));
  }
  std::sort(tensors_.begin(), tensors_.end(),
            [](const Tensor& a, const Tensor& b) { return LlamaQuantizeOrder(a.name, b.name); });
  std::vector<PlannedTensor> planned;
  for (const Tensor& t : tensors_) planned.push_back({t.name, t.ne});
  FOUNDRY_ASSIGN_OR_RETURN(
      std::vector<QuantType> types,
      ChooseTensorTypes(options_.quant, {c.arch, c.n_layer, c.n_head, c.n_head_kv}, planned));
  estimated_bytes_ = 1 << 20;  // metadata beyond the vocabulary
  for (const std::string& tok : tokenizer_.vocab.tokens) estimated_bytes_ += tok.size() + 16;
  for (const std::string& m : tokenizer_.vocab.merges) estimated_bytes_ += m.size() + 8;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    tensors_[i].type = types[i];
    estimated_bytes_ += TensorBytes(tensors_[i].ne, types[i]) + GgufWriter::kAlignment;
  }
  return OkStatus();
}

std::vector<std::pair<std::string, QuantType>> HfCompilePlan::tensor_types() const {
  std::vector<std::pair<std::string, QuantType>> out;
  for (const Tensor& t : tensors_) out.emplace_back(t.name, t.type);
  return out;
}

Status HfCompilePlan::Write(const fs::path& out, const Progress& progress) const {
  GgufWriter w;
  WriteModelHeader(config_, options_.model_name, CompileQuantFileType(options_.quant), &w);
  FOUNDRY_RETURN_IF_ERROR(WriteVocab(tokenizer_, config_.n_vocab, &w));
  for (const Tensor& t : tensors_) {
    FOUNDRY_ASSIGN_OR_RETURN(uint64_t nbytes, w.AddTensor(t.name, t.ne, t.type));
    (void)nbytes;
  }
  FOUNDRY_RETURN_IF_ERROR(w.Open(out.string()));
  uint64_t done = 0;
  ThreadPool pool(std::max(1, options_.threads), /*spin_us=*/0);
  for (const Tensor& t : tensors_)
    FOUNDRY_RETURN_IF_ERROR(WriteTensor(t, &w, pool, &done, progress));
  return w.Finish();
}

Status HfCompilePlan::WriteTensor(const Tensor& t, GgufWriter* w, ThreadPool& pool, uint64_t* done,
                                  const Progress& progress) const {
  const uint64_t ncols = t.ne[0];
  uint64_t rows = 1;
  for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
  const uint64_t head_rows =
      t.permute_heads > 0 ? rows / static_cast<uint64_t>(t.permute_heads) : 0;
  // llama.cpp's LlamaModel.permute: within each head, row (j * half + i) moves to (2i + j), so
  // the rotary pairs of HF's rotate-half layout become adjacent.
  const auto source_row = [&](uint64_t r) {
    if (head_rows == 0) return r;
    const uint64_t h = r / head_rows, rem = r % head_rows;
    return h * head_rows + (rem % 2) * (head_rows / 2) + rem / 2;
  };
  const FloatRowSource source = [&](uint64_t r, float* f) {
    if (t.src == nullptr) {
      std::copy_n(t.generated.data() + r * ncols, ncols, f);
    } else {
      const Status s = SafetensorsToFloat(*t.src, source_row(r) * ncols, ncols, f);
      FOUNDRY_CHECK(s.ok());  // dtypes were checked in AddTensors
      if (t.add_one) AddOne(t.src->dtype, f, ncols);
    }
  };
  FOUNDRY_RETURN_IF_ERROR(StreamQuantizedTensor(t.ne, t.type, source, w, pool, [&](uint64_t n) {
    *done += n;
    if (progress) progress(t.name, *done, estimated_bytes_);
  }));
  if (t.file != nullptr) t.file->DropPages(*t.src);
  return OkStatus();
}

}  // namespace foundry::convert
