// The compile pipeline on small Hugging Face folders written here: tensors renamed, llama's
// Q/K rows permuted as convert_hf_to_gguf.py does, types and bytes as the quantizers give them,
// vocabulary and hyper-parameters readable by the engine's own readers; and every bad input
// reported with a one-line error.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/disk_space.h"
#include "convert/hf_compile.h"
#include "convert/tensor_names.h"
#include "format/gguf_file.h"
#include "kernels/ref/quant_ref.h"
#include "temp_dir.h"
#include "tokenizer/vocab.h"

namespace foundry::convert {
namespace {
namespace fs = std::filesystem;

constexpr int kEmbd = 64, kHeads = 2, kHeadsKv = 1, kFf = 96, kVocab = 6, kHead = kEmbd / kHeads;

// Tensor name -> (shape, values), values i * 0.01 + tensor index: every row differs.
using Weights = std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<float>>>;

Weights LlamaWeights(bool with_lm_head) {
  Weights w;
  int k = 0;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape) {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    std::vector<float> v(n);
    for (uint64_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 97) * 0.01f + k * 0.5f;
    ++k;
    w[name] = {shape, v};
  };
  add("model.embed_tokens.weight", {kVocab, kEmbd});
  add("model.norm.weight", {kEmbd});
  if (with_lm_head) add("lm_head.weight", {kVocab, kEmbd});
  const std::string l = "model.layers.0.";
  add(l + "input_layernorm.weight", {kEmbd});
  add(l + "self_attn.q_proj.weight", {kHeads * kHead, kEmbd});
  add(l + "self_attn.k_proj.weight", {kHeadsKv * kHead, kEmbd});
  add(l + "self_attn.v_proj.weight", {kHeadsKv * kHead, kEmbd});
  add(l + "self_attn.o_proj.weight", {kEmbd, kHeads * kHead});
  add(l + "post_attention_layernorm.weight", {kEmbd});
  add(l + "mlp.gate_proj.weight", {kFf, kEmbd});
  add(l + "mlp.up_proj.weight", {kFf, kEmbd});
  add(l + "mlp.down_proj.weight", {kEmbd, kFf});
  add(l + "self_attn.rotary_emb.inv_freq", {kHead / 2});  // a buffer: dropped
  return w;
}

void WriteSafetensors(const fs::path& path, const Weights& w, size_t cut = 0) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : w) {
    header[name] = {{"dtype", "F32"},
                    {"shape", t.first},
                    {"data_offsets", {data.size(), data.size() + t.second.size() * 4}}};
    data.append(reinterpret_cast<const char*>(t.second.data()), t.second.size() * 4);
  }
  const std::string h = header.dump();
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(static_cast<uint64_t>(h.size()) >> (8 * i));
  bytes += h + data;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - cut));
}

nlohmann::json LlamaConfig(bool tied) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"hidden_size", kEmbd},
          {"intermediate_size", kFf},
          {"num_hidden_layers", 1},
          {"num_attention_heads", kHeads},
          {"num_key_value_heads", kHeadsKv},
          {"max_position_embeddings", 256},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 500000.0},
          {"vocab_size", kVocab},
          {"tie_word_embeddings", tied}};
}

void WriteFolder(const fs::path& dir, const nlohmann::json& config, const Weights& w) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump();
  WriteSafetensors(dir / "model.safetensors", w);
}

HfTokenizer SmallTokenizer(int n_tokens = kVocab - 1) {  // one short: padded to the rows
  HfTokenizer t;
  t.vocab.model = "gpt2";
  t.vocab.pre = "llama-bpe";
  const char* texts[] = {"a", "b", "ab", "<s>", "</s>", "c"};
  for (int i = 0; i < n_tokens; ++i) t.vocab.tokens.push_back(texts[i]);
  t.vocab.token_types = {1, 1, 1, 3, 3, 1};
  t.vocab.token_types.resize(n_tokens);
  t.vocab.merges = {"a b"};
  t.vocab.bos = 3;
  t.vocab.eos = 4;
  t.vocab.add_bos = true;
  t.chat_template = "{{ messages[0]['content'] }}";
  return t;
}

StatusOr<std::unique_ptr<GgufFile>> Compile(const fs::path& src, CompileQuant q,
                                            const fs::path& out) {
  CompileOptions o;
  o.quant = q;
  o.model_name = "tiny";
  o.threads = 2;
  FOUNDRY_ASSIGN_OR_RETURN(HfCompilePlan plan, HfCompilePlan::Make(src, SmallTokenizer(), o));
  FOUNDRY_RETURN_IF_ERROR(plan.Write(out, nullptr));
  return GgufFile::Open(out.string());
}

TEST(HfCompile, MapsNames) {
  EXPECT_EQ((*MapHfTensorName("model.layers.12.mlp.down_proj.weight"))->name,
            "blk.12.ffn_down.weight");
  EXPECT_EQ((*MapHfTensorName("model.layers.3.self_attn.q_proj.bias"))->name, "blk.3.attn_q.bias");
  EXPECT_EQ((*MapHfTensorName("lm_head.weight"))->name, "output.weight");
  EXPECT_FALSE(MapHfTensorName("model.layers.0.self_attn.rotary_emb.inv_freq")->has_value());
  EXPECT_FALSE(MapHfTensorName("model.vision_tower.weight").ok());
  EXPECT_FALSE(MapHfTensorName("model.layers.x.mlp.up_proj.weight").ok());
}

TEST(HfCompile, MapsGemma3Names) {
  const auto name = [](const char* hf) { return (*MapHfTensorName(hf, "gemma3"))->name; };
  EXPECT_EQ(name("model.layers.2.post_attention_layernorm.weight"),
            "blk.2.post_attention_norm.weight");
  EXPECT_EQ(name("model.layers.2.pre_feedforward_layernorm.weight"), "blk.2.ffn_norm.weight");
  EXPECT_EQ(name("model.layers.2.post_feedforward_layernorm.weight"), "blk.2.post_ffw_norm.weight");
  EXPECT_EQ(name("model.layers.2.self_attn.q_norm.weight"), "blk.2.attn_q_norm.weight");
  EXPECT_EQ(name("model.layers.2.self_attn.k_proj.weight"), "blk.2.attn_k.weight");
  // llama's post_attention_layernorm is the FFN's input norm.
  EXPECT_EQ((*MapHfTensorName("model.layers.2.post_attention_layernorm.weight"))->name,
            "blk.2.ffn_norm.weight");
  EXPECT_FALSE(MapHfTensorName("model.layers.2.self_attn.q_norm.weight").ok());
}

// Gemma 3: no Q/K permutation, norms written as 1 + w, the gemma3 keys with
// Gemma3TextConfig's defaults for what config.json leaves out.
TEST(HfCompile, Gemma3ShiftsNormsAndWritesItsKeys) {
  testing::TempDir dir;
  Weights w = LlamaWeights(/*with_lm_head=*/false);
  const std::string l = "model.layers.0.";
  w[l + "pre_feedforward_layernorm.weight"] = w.at(l + "post_attention_layernorm.weight");
  w[l + "post_feedforward_layernorm.weight"] = w.at(l + "input_layernorm.weight");
  std::vector<float> qk_norm(kHead, -0.25f);
  w[l + "self_attn.q_norm.weight"] = {{kHead}, qk_norm};
  w[l + "self_attn.k_norm.weight"] = {{kHead}, qk_norm};
  nlohmann::json config = LlamaConfig(true);
  config["architectures"] = {"Gemma3ForCausalLM"};
  config["head_dim"] = kHead;
  config["sliding_window"] = 16;
  config.erase("rms_norm_eps");
  config.erase("rope_theta");
  config["rope_parameters"] = {{"full_attention", {{"rope_theta", 1e6}}},
                               {"sliding_attention", {{"rope_theta", 1e4}}}};
  WriteFolder(dir.path() / "src", config, w);
  auto g = Compile(dir.path() / "src", CompileQuant::kF32, dir.path() / "out.gguf");
  ASSERT_TRUE(g.ok()) << g.status().message();
  const GgufFile& f = **g;
  EXPECT_EQ(*f.GetString("general.architecture"), "gemma3");
  EXPECT_EQ(*f.GetUint("gemma3.attention.sliding_window"), 16u);
  EXPECT_EQ(*f.GetFloat("gemma3.rope.freq_base"), 1e6);
  EXPECT_EQ(*f.GetFloat("gemma3.rope.freq_base_swa"), 1e4);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.GetFloat("gemma3.attention.layer_norm_rms_epsilon")),
                  1e-6f);
  EXPECT_EQ(*f.GetUint("gemma3.attention.key_length"), static_cast<uint64_t>(kHead));
  EXPECT_EQ(f.FindTensor("output.weight"), nullptr);
  const auto* q_norm =
      reinterpret_cast<const float*>(f.FindTensor("blk.0.attn_q_norm.weight")->data);
  EXPECT_EQ(q_norm[0], 0.75f);
  const auto* post =
      reinterpret_cast<const float*>(f.FindTensor("blk.0.post_attention_norm.weight")->data);
  EXPECT_EQ(post[1], w.at(l + "post_attention_layernorm.weight").second[1] + 1.0f);
  const GgufTensorInfo* q = f.FindTensor("blk.0.attn_q.weight");
  EXPECT_EQ(std::memcmp(q->data, w.at(l + "self_attn.q_proj.weight").second.data(), q->nbytes), 0);
  // A missing Gemma norm is named.
  w.erase(l + "self_attn.k_norm.weight");
  WriteFolder(dir.path() / "src2", config, w);
  auto missing = Compile(dir.path() / "src2", CompileQuant::kF32, dir.path() / "out2.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("blk.0.attn_k_norm.weight"), std::string::npos);
}

TEST(HfCompile, F32WritesPermutedQKAndTheVocabulary) {
  testing::TempDir dir;
  const Weights w = LlamaWeights(/*with_lm_head=*/true);
  WriteFolder(dir.path() / "src", LlamaConfig(false), w);
  auto g = Compile(dir.path() / "src", CompileQuant::kF32, dir.path() / "out.gguf");
  ASSERT_TRUE(g.ok()) << g.status().message();
  const GgufFile& f = **g;
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUint("llama.attention.head_count_kv"), 1u);
  EXPECT_EQ(*f.GetUint("llama.rope.dimension_count"), static_cast<uint64_t>(kHead));
  EXPECT_EQ(*f.GetFloat("llama.rope.freq_base"), 500000.0);
  EXPECT_EQ(*f.GetUint("general.file_type"), 0u);
  ASSERT_EQ(f.tensors().size(), 12u);               // 11 weights + output, no inv_freq
  EXPECT_EQ(f.tensors()[0].name, "output.weight");  // llama-quantize's order
  // Q rows: within a head, GGUF row 2i + j is HF row j * half + i.
  const GgufTensorInfo* q = f.FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ne[0], static_cast<uint64_t>(kEmbd));
  const std::vector<float>& hf_q = w.at("model.layers.0.self_attn.q_proj.weight").second;
  const auto* got = reinterpret_cast<const float*>(q->data);
  for (int h = 0; h < kHeads; ++h) {
    for (int i = 0; i < kHead / 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        const int out_row = h * kHead + 2 * i + j, in_row = h * kHead + j * (kHead / 2) + i;
        ASSERT_EQ(std::memcmp(got + out_row * kEmbd, hf_q.data() + in_row * kEmbd, kEmbd * 4), 0)
            << out_row;
      }
    }
  }
  // V is not permuted.
  const GgufTensorInfo* v = f.FindTensor("blk.0.attn_v.weight");
  EXPECT_EQ(
      std::memcmp(v->data, w.at("model.layers.0.self_attn.v_proj.weight").second.data(), v->nbytes),
      0);
  // The vocabulary, padded to the embedding's rows, reads back.
  auto vocab = Vocab::FromGguf(f);
  ASSERT_TRUE(vocab.ok()) << vocab.status().message();
  EXPECT_EQ(vocab->size(), kVocab);
  EXPECT_EQ(vocab->TokenText(5), "[PAD5]");
  EXPECT_EQ(vocab->Type(5), TokenType::kUnused);
  EXPECT_EQ(vocab->bos(), 3);
  EXPECT_TRUE(vocab->add_bos());
  EXPECT_EQ(vocab->MergeRank("a", "b"), 0);
  EXPECT_EQ(*f.GetString("tokenizer.chat_template"), "{{ messages[0]['content'] }}");
}

TEST(HfCompile, Q8_0BytesAreTheQuantizersAndTiedEmbeddingsHaveNoOutput) {
  testing::TempDir dir;
  const Weights w = LlamaWeights(/*with_lm_head=*/false);
  WriteFolder(dir.path() / "src", LlamaConfig(true), w);
  auto g = Compile(dir.path() / "src", CompileQuant::kQ8_0, dir.path() / "out.gguf");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ((*g)->FindTensor("output.weight"), nullptr);
  const GgufTensorInfo* up = (*g)->FindTensor("blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->type, QuantType::kQ8_0);
  const std::vector<float>& hf = w.at("model.layers.0.mlp.up_proj.weight").second;
  std::vector<uint8_t> want(up->nbytes);
  for (int r = 0; r < kFf; ++r) {
    ref::QuantizeRowQ8_0(hf.data() + r * kEmbd, want.data() + r * (up->nbytes / kFf), kEmbd);
  }
  EXPECT_EQ(std::memcmp(up->data, want.data(), want.size()), 0);
  EXPECT_EQ((*g)->FindTensor("blk.0.attn_norm.weight")->type, QuantType::kF32);
}

TEST(HfCompile, ShardedCheckpointsFollowTheIndex) {
  testing::TempDir dir;
  const fs::path src = dir.path() / "src";
  fs::create_directories(src);
  std::ofstream(src / "config.json") << LlamaConfig(true).dump();
  Weights a, b;
  nlohmann::json index = {{"weight_map", nlohmann::json::object()}};
  int i = 0;
  for (const auto& [name, t] : LlamaWeights(false)) {
    const bool first = i++ % 2 == 0;
    (first ? a : b)[name] = t;
    index["weight_map"][name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  WriteSafetensors(src / "model-00001-of-00002.safetensors", a);
  WriteSafetensors(src / "model-00002-of-00002.safetensors", b);
  std::ofstream(src / "model.safetensors.index.json") << index.dump();
  auto g = Compile(src, CompileQuant::kF16, dir.path() / "out.gguf");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ((*g)->tensors().size(), 11u);
  // The index naming a tensor its shard does not have.
  index["weight_map"]["model.layers.0.mlp.extra.weight"] = "model-00001-of-00002.safetensors";
  std::ofstream(src / "model.safetensors.index.json") << index.dump();
  auto bad = Compile(src, CompileQuant::kF16, dir.path() / "out2.gguf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing tensor model.layers.0.mlp.extra.weight"),
            std::string::npos);
}

void ExpectError(const fs::path& src, const std::string& needle) {
  testing::TempDir out;
  auto g = Compile(src, CompileQuant::kQ8_0, out.path() / "out.gguf");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find(needle), std::string::npos) << g.status().message();
  EXPECT_EQ(g.status().message().find('\n'), std::string::npos);
}

TEST(HfCompile, BadInputsHaveClearErrors) {
  testing::TempDir dir;
  const fs::path src = dir.path() / "src";
  ExpectError(src, "config.json is missing");
  WriteFolder(src, LlamaConfig(true), LlamaWeights(false));
  std::ofstream(src / "config.json") << "{not json";
  ExpectError(src, "config.json is not a JSON object");
  nlohmann::json c = LlamaConfig(true);
  c["architectures"] = {"MambaForCausalLM"};
  std::ofstream(src / "config.json") << c.dump();
  ExpectError(src, "unsupported architecture MambaForCausalLM; supported: LlamaForCausalLM");
  std::ofstream(src / "config.json") << LlamaConfig(true).dump();
  Weights w = LlamaWeights(false);
  w.erase("model.layers.0.mlp.up_proj.weight");
  WriteSafetensors(src / "model.safetensors", w);
  ExpectError(src, "missing tensor blk.0.ffn_up.weight");
  WriteSafetensors(src / "model.safetensors", LlamaWeights(false), /*cut=*/100);
  ExpectError(src, "truncated");
  w = LlamaWeights(false);
  w["model.layers.0.mlp.up_proj.weight"].first = {kFf / 2, kEmbd * 2};
  WriteSafetensors(src / "model.safetensors", w);
  ExpectError(src, "has shape [48, 128] but config.json implies [96, 64]");
  w = LlamaWeights(false);
  w["model.layers.0.mlp.up_proj.bias"] = {{kFf}, std::vector<float>(kFf)};
  WriteSafetensors(src / "model.safetensors", w);
  ExpectError(src, "tensor model.layers.0.mlp.up_proj.bias (blk.0.ffn_up.bias) is not supported");
  fs::remove(src / "model.safetensors");
  ExpectError(src, "no *.safetensors");
}

// Llama 3.1+ RoPE scaling: the rope_freqs factors bit for bit as convert_hf_to_gguf.py
// computes them (tools/gen_llama3_rope_golden.py, torch).
TEST(HfCompile, Llama3RopeFactorsEqualTheConverters) {
  std::ifstream in(std::string(FOUNDRY_SOURCE_DIR) +
                   "/tests/data/convert/llama3_rope_factors.json");
  ASSERT_TRUE(in);
  const nlohmann::json cases = nlohmann::json::parse(in);
  testing::TempDir dir;
  for (const auto& c : cases) {
    nlohmann::json config = LlamaConfig(false);
    config["rope_theta"] = c["rope_theta"];
    config["hidden_size"] = c["head_dim"].get<int>() * kHeads;
    config["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", c["factor"]},
        {"low_freq_factor", c["low_freq_factor"]},
        {"high_freq_factor", c["high_freq_factor"]},
        {"original_max_position_embeddings", c["original_max_position_embeddings"]}};
    std::ofstream(dir.path() / "config.json") << config.dump();
    auto cfg = ReadHfConfig(dir.path());
    ASSERT_TRUE(cfg.ok()) << cfg.status().message();
    ASSERT_EQ(cfg->llama3_rope_factors.size(), c["factors"].size());
    for (size_t i = 0; i < c["factors"].size(); ++i) {
      const float want = std::strtof(c["factors"][i].get<std::string>().c_str(), nullptr);
      EXPECT_EQ(cfg->llama3_rope_factors[i], want) << c["head_dim"] << " dim " << i;
    }
  }
}

TEST(HfCompile, DiskSpaceCheckNamesTheNeedAndTheFreeSpace) {
  EXPECT_TRUE(CheckDiskSpace("/cache", 100 << 20, 200 << 20).ok());
  Status s = CheckDiskSpace("/cache", 900 << 20, 500 << 20);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(),
            "not enough disk space in /cache: the model needs about 964 MB, 500 MB free");
}

}  // namespace
}  // namespace foundry::convert
