// --quant parsing and the per-tensor type choice, checked against GGUF files llama.cpp made:
// every tensor of each fixture (tests/data/convert, from tools/dump_tensor_types.py) must get
// the type llama.cpp gives it.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "convert/quant_plan.h"

namespace foundry::convert {
namespace {

TEST(CompileQuant, ParsesNamesAndListsTheSupportedOnes) {
  EXPECT_EQ(*ParseCompileQuant("q4_k_m"), CompileQuant::kQ4_K_M);
  EXPECT_EQ(*ParseCompileQuant("Q8_0"), CompileQuant::kQ8_0);
  EXPECT_EQ(CompileQuantFileType(CompileQuant::kQ4_K_M), 15u);
  EXPECT_EQ(CompileQuantFileType(CompileQuant::kBF16), 32u);
  auto bad = ParseCompileQuant("q3_k_s");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("q3_k_s"), std::string::npos);
  EXPECT_NE(
      bad.status().message().find("f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q6_k, q4_k_m, q5_k_m"),
      std::string::npos);
}

void ExpectSameTypes(const std::string& fixture) {
  std::ifstream in(std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/convert/" + fixture);
  ASSERT_TRUE(in) << fixture;
  const nlohmann::json j = nlohmann::json::parse(in);
  const CompileQuant q = *ParseCompileQuant(j["quant"].get<std::string>());
  const QuantModelInfo model{j["arch"], j["n_layer"], j["n_head"], j["n_head_kv"]};
  std::vector<PlannedTensor> tensors;
  std::vector<std::string> want;
  for (const auto& t : j["tensors"]) {
    tensors.push_back({t["name"], t["ne"].get<std::vector<uint64_t>>()});
  }
  // llama-quantize's visiting order (the fixtures are in file order).
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return LlamaQuantizeOrder(tensors[a].name, tensors[b].name);
  });
  std::vector<PlannedTensor> sorted;
  for (size_t i : order) {
    sorted.push_back(tensors[i]);
    want.push_back(j["tensors"][i]["type"]);
  }
  auto types = ChooseTensorTypes(q, model, sorted);
  ASSERT_TRUE(types.ok()) << types.status().message();
  for (size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(QuantTypeName((*types)[i]), want[i]) << fixture << ": " << sorted[i].name;
  }
}

// Fixtures: tools/dump_tensor_types.py over the pinned llama-quantize's --dry-run (and, for
// q8_0, a file convert_hf_to_gguf.py wrote).
TEST(ChooseTensorTypes, MatchesLlamaQuantizeOnQwen25Coder05B) {
  ExpectSameTypes("qwen2.5-coder-0.5b-q4_k_m.json");  // rows of 896: Q5_0 / Q8_0 fallbacks
  ExpectSameTypes("qwen2.5-coder-0.5b-q4_0.json");
  ExpectSameTypes("qwen2.5-coder-0.5b-q6_k.json");
  ExpectSameTypes("qwen2.5-coder-0.5b-q5_k_m.json");  // rows of 896: Q5_1 fallbacks
}
TEST(ChooseTensorTypes, MatchesLlamaQuantizeOnQwen25Coder15B) {
  ExpectSameTypes("qwen2.5-coder-1.5b-q4_k_m.json");
  ExpectSameTypes("qwen2.5-coder-1.5b-q5_k_m.json");
}
TEST(ChooseTensorTypes, MatchesLlamaQuantizeOnSmolLM2) {
  ExpectSameTypes("smollm2-135m-q4_k_m.json");  // tied embeddings: Q6_K -> Q8_0 (rows of 576)
  ExpectSameTypes("smollm2-135m-q4_1.json");
  ExpectSameTypes("smollm2-135m-q5_0.json");
  ExpectSameTypes("smollm2-135m-q5_k_m.json");  // rows of 576: Q5_1 fallbacks
}
TEST(ChooseTensorTypes, MatchesTheConverterOnSmolLM2_Q8_0) {
  ExpectSameTypes("smollm2-135m-q8_0.json");
}

TEST(ChooseTensorTypes, UseMoreBitsPicksLayersForQ4_K_M) {
  // 32 layers: attn_v Q6_K on layers 0-3, 28-31 and every third from 6 (i - 4) % 3 == 2.
  const QuantModelInfo model{"llama", 32, 32, 8};
  std::vector<PlannedTensor> tensors;
  for (int l = 0; l < 32; ++l) {
    tensors.push_back({"blk." + std::to_string(l) + ".attn_v.weight", {4096, 1024}});
  }
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return LlamaQuantizeOrder(a.name, b.name); });
  auto types = ChooseTensorTypes(CompileQuant::kQ4_K_M, model, tensors);
  ASSERT_TRUE(types.ok());
  std::string got;
  for (QuantType t : *types) got += t == QuantType::kQ6_K ? 'x' : '.';
  EXPECT_EQ(got, "xxxx..x..x..x..x..x..x..x..xxxxx");
}

}  // namespace
}  // namespace foundry::convert
