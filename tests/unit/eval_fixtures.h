// What the perplexity tests share: the committed text, files read whole, and real models
// loaded on the ISA under test.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "../isa_under_test.h"
#include "foundry/engine.h"

namespace foundry::eval::fixtures {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline const std::string kRoot = FOUNDRY_SOURCE_DIR;
inline const std::string kText = ReadFile(kRoot + "/tests/data/perplexity/gpl-3.0.txt");

// A model of .cache/models (`make models`); nullptr, with a failure, when it does not load.
inline std::shared_ptr<LanguageModel> LoadModel(const std::string& file) {
  auto lm = LanguageModel::Load(kRoot + "/.cache/models/" + file, harness::TestLoadOptions());
  EXPECT_TRUE(lm.ok()) << lm.status().message() << " (run `make models`)";
  return lm.ok() ? *lm : nullptr;
}

}  // namespace foundry::eval::fixtures
