// ServiceModels: the names the service accepts for a model and what its catalog routes list.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

#include "server/service_models.h"
#include "temp_dir.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;

constexpr char kTiny[] = FOUNDRY_SOURCE_DIR "/tests/data/models/tiny-qwen2.gguf";

// A fresh directory with a two-variant catalog (a CPU and a GPU variant of one alias) and an
// empty cache.
class ServiceModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* variant = R"({"name": "%s", "displayName": "%s", "alias": "tiny",
      "publisher": "Test", "task": "chat-completion", "license": "MIT", "contextLength": 512,
      "fileName": "tiny.gguf", "fileSizeMb": 1, "minRamGb": 1,
      "runtime": {"deviceType": "%s", "executionProvider": "%s"},
      "sources": [{"type": "url", "url": "http://127.0.0.1:9/tiny.gguf"}]})";
    char cpu[1024], gpu[1024];
    std::snprintf(cpu, sizeof(cpu), variant, "Tiny-generic-cpu:1", "Tiny-generic-cpu", "CPU",
                  "CPUExecutionProvider");
    std::snprintf(gpu, sizeof(gpu), variant, "Tiny-cuda-gpu:1", "Tiny-cuda-gpu", "GPU",
                  "CUDAExecutionProvider");
    std::ofstream(dir_ / "catalog.json")
        << R"({"schemaVersion": 1, "models": [)" << gpu << "," << cpu << "]}";
    CatalogOptions options;
    options.home = dir_ / "home";
    options.catalog_file = dir_ / "catalog.json";
    auto m = ServiceModels::Create(dir_ / "cache", options);
    ASSERT_TRUE(m.ok()) << m.status().message();
    models_ = std::move(*m);
  }
  // Puts a model folder into the cache the way a download leaves it.
  void Cache(const std::string& folder, const std::string& id) {
    const fs::path d = dir_ / "cache" / folder;
    fs::create_directories(d);
    fs::copy_file(kTiny, d / "tiny.gguf");
    ASSERT_TRUE(ModelCache::WriteInferenceModelJson(d, id, std::nullopt).ok());
  }

  const testing::TempDir tmp_{"foundry-svcmodels"};
  const fs::path dir_ = tmp_.path();
  std::unique_ptr<ServiceModels> models_;
};

TEST_F(ServiceModelsTest, AbsolutePathsAreThemselves) {
  auto r = models_->Resolve(kTiny);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, kTiny);
  EXPECT_EQ(r->path, kTiny);
  EXPECT_EQ(models_->Resolve("/no/such/file.gguf").status().code(), StatusCode::kNotFound);
}

TEST_F(ServiceModelsTest, CatalogModelsMustBeCached) {
  auto r = models_->Resolve("tiny");
  ASSERT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("No OpenAIService provider found for modelName "
                                      "Tiny-generic-cpu:1"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("foundry model download tiny"), std::string::npos);
  EXPECT_EQ(models_->Resolve("nothing-like-it").status().code(), StatusCode::kNotFound);
  // A variant this build cannot run is not "not found".
  EXPECT_EQ(models_->Resolve("Tiny-cuda-gpu:1").status().code(), StatusCode::kUnimplemented);
}

TEST_F(ServiceModelsTest, AliasIdAndIdWithoutVersionNameOneCachedModel) {
  Cache("Test/Tiny-generic-cpu-1", "Tiny-generic-cpu:1");
  for (const char* name : {"tiny", "TINY", "Tiny-generic-cpu:1", "Tiny-generic-cpu"}) {
    auto r = models_->Resolve(name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().message();
    EXPECT_EQ(r->id, "Tiny-generic-cpu:1") << name;
    EXPECT_EQ(fs::path(r->path).filename(), "tiny.gguf");
  }
}

TEST_F(ServiceModelsTest, UserFoldersResolveByTheirId) {
  Cache("mine", "my-own-model");
  auto r = models_->Resolve("my-own-model");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->id, "my-own-model");
  auto cached = models_->Cached();
  ASSERT_TRUE(cached.ok());
  ASSERT_EQ(cached->size(), 1u);
  EXPECT_EQ((*cached)[0].id, "my-own-model");
}

TEST_F(ServiceModelsTest, ConfinedNamesStayInsideTheCache) {
  Cache("mine", "my-own-model");
  const fs::path inside = dir_ / "cache" / "mine" / "tiny.gguf";
  // A folder whose model file is a link to a file outside the cache.
  fs::create_directories(dir_ / "cache" / "escape");
  fs::create_symlink(kTiny, dir_ / "cache" / "escape" / "tiny.gguf");
  ASSERT_TRUE(
      ModelCache::WriteInferenceModelJson(dir_ / "cache" / "escape", "escape", std::nullopt).ok());
  ASSERT_TRUE(models_->Resolve("escape").ok());  // a local service follows the user's links
  ASSERT_TRUE(models_->Resolve(kTiny).ok());
  const std::string unknown = models_->Resolve("nothing", true).status().message();
  for (const std::string& name : std::vector<std::string>{
           kTiny, std::string("/etc/passwd"), std::string("../../etc/passwd"),
           (dir_ / "cache" / ".." / "catalog.json").string(), std::string("escape"),
           (dir_ / "cache" / "escape" / "tiny.gguf").string()}) {
    auto r = models_->Resolve(name, /*confined=*/true);
    ASSERT_EQ(r.status().code(), StatusCode::kNotFound) << name;
    std::string message = r.status().message();
    message.replace(message.find(name), name.size(), "nothing");
    EXPECT_EQ(message, unknown) << name;
  }
  auto by_path = models_->Resolve(inside.string(), true);
  ASSERT_TRUE(by_path.ok()) << by_path.status().message();
  ASSERT_TRUE(by_path->if_unusable.has_value());  // a bad file answers as an unknown name
  EXPECT_TRUE(models_->Resolve("my-own-model", true).ok());
}

TEST_F(ServiceModelsTest, FoundryListHasRunnableVariantsOnly) {
  auto list = models_->FoundryList();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0]["name"], "Tiny-generic-cpu:1");
  EXPECT_TRUE((*list)[0]["fileSizeMb"].is_number_integer());
  EXPECT_EQ(models_->Variant("tiny")->id, "Tiny-generic-cpu:1");
  EXPECT_EQ(models_->Variant("nothing"), nullptr);
}

}  // namespace
}  // namespace foundry
