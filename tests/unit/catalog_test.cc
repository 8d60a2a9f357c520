// Catalog layer: parsing and validation, alias/id lookup, variant order, filters, machine
// detection, the model cache and the tutorial's model selector.
#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "catalog/cache.h"
#include "catalog/machine.h"
#include "catalog/resolve.h"
#include "catalog/select.h"
#include "catalog/settings.h"
#include "temp_dir.h"

namespace foundry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

using testing::TempDir;

// Sets an environment variable for the scope, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

json Variant(const std::string& id, const std::string& alias, const std::string& device = "CPU",
             const std::string& ep = "CPUExecutionProvider", double min_ram = 1) {
  return {{"name", id},
          {"alias", alias},
          {"publisher", "Pub"},
          {"task", "chat-completion"},
          {"license", "MIT"},
          {"contextLength", 4096},
          {"parameterCount", 1000000},
          {"fileName", "m.gguf"},
          {"fileSizeMb", 100},
          {"minRamGb", min_ram},
          {"runtime", {{"deviceType", device}, {"executionProvider", ep}}},
          {"promptTemplate", nullptr},
          {"sources", json::array({{{"type", "url"}, {"url", "https://example.com/m.gguf"}}})}};
}

json Doc(json models) { return {{"schemaVersion", 1}, {"models", std::move(models)}}; }

Catalog MustParse(const json& doc) {
  auto c = Catalog::Parse(doc.dump(), "test");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? std::move(*c) : Catalog();
}

MachineInfo Machine(double ram_gb) {
  MachineInfo m;
  m.total_ram_gb = ram_gb;
  m.available_ram_gb = ram_gb;
  return m;
}

// ---------------------------------------------------------------- built-in catalog

TEST(BuiltinCatalog, ParsesAndHoldsTheTutorialAliases) {
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok()) << cat.status().message();
  for (const char* alias :
       {"phi-4-mini", "phi-3.5-mini", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b",
        "qwen2.5-7b-instruct", "deepseek-r1-1.5b", "deepseek-r1-7b", "llama-3.2", "llama-3.2-1b",
        "llama-3.2-3b", "gemma-3-270m", "gemma-3-1b", "smollm2-135m", "smollm2-360m"}) {
    EXPECT_FALSE(cat->ByAlias(alias).empty()) << alias;
  }
  EXPECT_EQ(cat->ByAlias("qwen2.5-7b-instruct").front()->id, "qwen2.5-7b-instruct-generic-cpu:1");
  EXPECT_EQ(cat->ByAlias("llama-3.2").front()->id, "Llama-3.2-1B-Instruct-generic-cpu:1");
  EXPECT_EQ(cat->ByAlias("smollm2-135m").front()->id, "SmolLM2-135M-Instruct-generic-cpu:1");
}

TEST(BuiltinCatalog, EveryVariantHasAHuggingFaceUrlAndFoundryFields) {
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  for (const ModelVariant& v : cat->variants()) {
    EXPECT_EQ(v.device, "CPU") << v.id;
    EXPECT_EQ(v.execution_provider, "CPUExecutionProvider") << v.id;
    EXPECT_EQ(v.task, "chat-completion") << v.id;
    EXPECT_NE(v.id.find("-generic-cpu:"), std::string::npos) << v.id;
    EXPECT_GT(v.min_ram_gb, 0) << v.id;
    EXPECT_GT(v.file_size_mb, 0) << v.id;
    EXPECT_FALSE(v.prompt_template.has_value()) << v.id;
    bool hf = false;
    for (const ModelSource& s : v.sources) {
      if (s.kind != ModelSource::Kind::kUrl) continue;
      const std::string prefix = "https://huggingface.co/";
      ASSERT_EQ(s.url.rfind(prefix, 0), 0u) << s.url;
      EXPECT_NE(s.url.find("/resolve/main/"), std::string::npos) << s.url;
      EXPECT_EQ(s.url.substr(s.url.size() - v.file_name.size()), v.file_name) << s.url;
      hf = true;
    }
    EXPECT_TRUE(hf) << v.id;
  }
}

// The PyPI sources must carry the facts tools/models.json records for the same files.
TEST(BuiltinCatalog, PypiSourcesAgreeWithToolsModelsJson) {
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  const json manifest = json::parse(ReadText(FOUNDRY_SOURCE_DIR "/tools/models.json"));
  const std::pair<const char*, const char*> pairs[] = {
      {"smollm2-135m", "smollm2"},
      {"gemma-3-270m", "gemma3"},
      {"qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b"},
      {"qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b"}};
  for (const auto& [alias, key] : pairs) {
    const json& m = manifest["models"][key];
    const ModelVariant* v = cat->ByAlias(alias).front();
    const ModelSource* pypi = nullptr;
    for (const ModelSource& s : v->sources) {
      if (s.kind == ModelSource::Kind::kPypi) pypi = &s;
    }
    ASSERT_NE(pypi, nullptr) << alias;
    ASSERT_TRUE(pypi->sha256.has_value());
    EXPECT_EQ(*pypi->sha256, m["sha256"].get<std::string>()) << alias;
    ASSERT_TRUE(pypi->size_bytes.has_value());
    EXPECT_EQ(*pypi->size_bytes, m["size"].get<int64_t>()) << alias;
    ASSERT_EQ(pypi->parts.size(), m["parts"].size()) << alias;
    for (size_t i = 0; i < pypi->parts.size(); ++i) {
      EXPECT_EQ(pypi->parts[i].package, m["parts"][i]["package"].get<std::string>());
      EXPECT_EQ(pypi->parts[i].version, m["parts"][i]["version"].get<std::string>());
      EXPECT_EQ(pypi->parts[i].member, m["parts"][i]["member"].get<std::string>());
    }
  }
}

TEST(BuiltinCatalog, IsTheCatalogFileInTheRepository) {
  EXPECT_EQ(BuiltinCatalogJson(), ReadText(FOUNDRY_SOURCE_DIR "/catalog/catalog.json"));
}

// ---------------------------------------------------------------- parsing, validation

TEST(CatalogParse, LookupByAliasAndId) {
  json a = Variant("Model-A-generic-cpu:1", "model-a");
  a["aliases"] = {"model-a-instruct"};
  Catalog cat = MustParse(Doc({a, Variant("Model-A-generic-cpu:2", "model-a"),
                               Variant("Model-B-generic-cpu:1", "model-b")}));
  EXPECT_EQ(cat.Aliases(), (std::vector<std::string>{"model-a", "model-b"}));
  EXPECT_EQ(cat.ByAlias("MODEL-A").size(), 2u);
  EXPECT_EQ(cat.ByAlias("model-a-instruct").size(), 1u);
  EXPECT_TRUE(cat.ByAlias("model").empty());
  ASSERT_NE(cat.ById("model-a-generic-cpu:1"), nullptr);
  EXPECT_EQ(cat.ById("model-a-generic-cpu:1")->version, 1);
  EXPECT_EQ(cat.ById("Model-A-generic-cpu")->version, 2);  // highest version
  EXPECT_EQ(cat.ById("Model-A-generic-cpu:3"), nullptr);
  EXPECT_EQ(cat.ById("Model-A-generic-cpu")->display_name, "Model-A-generic-cpu");
}

struct BadCase {
  const char* what;
  std::function<void(json&)> edit;
  const char* words;
};

TEST(CatalogParse, BadCatalogsGiveClearErrors) {
  const std::vector<BadCase> cases = {
      {"no models", [](json& d) { d.erase("models"); }, "\"models\" is missing"},
      {"schema", [](json& d) { d["schemaVersion"] = 2; }, "schemaVersion 2"},
      {"missing alias", [](json& d) { d["models"][0].erase("alias"); }, "\"alias\" is missing"},
      {"id without version", [](json& d) { d["models"][0]["name"] = "X"; }, "NAME:VERSION"},
      {"version zero", [](json& d) { d["models"][0]["name"] = "X:0"; }, "NAME:VERSION"},
      {"bad ram", [](json& d) { d["models"][0]["minRamGb"] = -1; }, "\"minRamGb\""},
      {"ram as string", [](json& d) { d["models"][0]["minRamGb"] = "4"; }, "\"minRamGb\""},
      {"device", [](json& d) { d["models"][0]["runtime"]["deviceType"] = "TPU"; }, "deviceType"},
      {"no sources", [](json& d) { d["models"][0]["sources"] = json::array(); }, "sources"},
      {"source type", [](json& d) { d["models"][0]["sources"][0]["type"] = "ftp"; }, "\"ftp\""},
      {"source url", [](json& d) { d["models"][0]["sources"][0]["url"] = "file:///x"; }, "https"},
      {"digest", [](json& d) { d["models"][0]["sources"][0]["sha256"] = "ABC"; }, "sha256"},
      {"path in file name", [](json& d) { d["models"][0]["fileName"] = "../x.gguf"; }, "fileName"},
      {"publisher slash", [](json& d) { d["models"][0]["publisher"] = "a/b"; }, "publisher"},
      {"duplicate id", [](json& d) { d["models"][1]["name"] = "A-generic-cpu:1"; }, "duplicate"},
      {"alias clash", [](json& d) { d["models"][0]["aliases"] = {"b"}; }, "already the alias"},
      {"empty parts",
       [](json& d) {
         d["models"][0]["sources"][0] = {{"type", "pypi"}, {"parts", json::array()}};
       },
       "parts"},
  };
  for (const BadCase& c : cases) {
    json doc = Doc({Variant("A-generic-cpu:1", "a"), Variant("B-generic-cpu:1", "b")});
    c.edit(doc);
    auto r = Catalog::Parse(doc.dump(), "\"cat.json\"");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find(c.words), std::string::npos)
        << c.what << ": " << r.status().message();
    EXPECT_NE(r.status().message().find("cat.json"), std::string::npos) << c.what;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << c.what;
  }
  auto not_json = Catalog::Parse("{\"models\": [", "\"x.json\"");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("not valid JSON"), std::string::npos);
  auto array = Catalog::Parse("[]", "\"x.json\"");
  ASSERT_FALSE(array.ok());
}

TEST(CatalogParse, LoadTakesTheCatalogFileElseTheBuiltIn) {
  TempDir dir;
  const fs::path file = dir.path() / "cat.json";
  WriteText(file, Doc({Variant("Only-generic-cpu:1", "only")}).dump());
  {
    auto cat = Catalog::Load(file);
    ASSERT_TRUE(cat.ok()) << cat.status().message();
    ASSERT_EQ(cat->variants().size(), 1u);
    EXPECT_EQ(cat->variants()[0].id, "Only-generic-cpu:1");
  }
  {
    auto cat = Catalog::Load(dir.path() / "missing.json");
    ASSERT_FALSE(cat.ok());
    EXPECT_EQ(cat.status().code(), StatusCode::kNotFound);
    EXPECT_NE(cat.status().message().find("missing.json"), std::string::npos);
  }
  {
    // The environment is read by the CLI only: the library ignores FOUNDRY_CATALOG.
    ScopedEnv env("FOUNDRY_CATALOG", file.c_str());
    auto cat = Catalog::Load(fs::path());
    ASSERT_TRUE(cat.ok());
    EXPECT_GT(cat->variants().size(), 10u);
  }
}

TEST(CatalogFormat, DisplayAliasKeepsDotsInIds) {
  auto cat = Catalog::Parse(Doc({Variant("Only-generic-cpu:1", "only")}).dump(), "test");
  ASSERT_TRUE(cat.ok()) << cat.status().message();
  EXPECT_EQ(DisplayAlias(&*cat, "Only-generic-cpu:1"), "only");
  EXPECT_EQ(DisplayAlias(&*cat, "only-GENERIC-cpu:1"), "only");
  // Not a catalog id: the id itself, dots and all (a file-name stem would cut it at ".5b").
  EXPECT_EQ(DisplayAlias(&*cat, "qwen2.5-coder-0.5b-instruct"), "qwen2.5-coder-0.5b-instruct");
  EXPECT_EQ(DisplayAlias(&*cat, "Only-generic-cpu"), "Only-generic-cpu");
  EXPECT_EQ(DisplayAlias(nullptr, "Only-generic-cpu:1"), "Only-generic-cpu:1");
  // A model loaded by path: its file name without ".gguf" only.
  EXPECT_EQ(DisplayAlias(&*cat, "/models/tiny-qwen2.gguf"), "tiny-qwen2");
  EXPECT_EQ(DisplayAlias(&*cat, "/models/qwen2.5-coder-0.5b-instruct.gguf"),
            "qwen2.5-coder-0.5b-instruct");
  EXPECT_EQ(DisplayAlias(&*cat, "/models/qwen2.5-0.5b"), "qwen2.5-0.5b");
}

TEST(CatalogFormat, SizesTasksAndParameters) {
  EXPECT_EQ(FormatFileSize(2549), "2.49 GB");
  EXPECT_EQ(FormatFileSize(94), "0.09 GB");
  EXPECT_EQ(ShortTask("chat-completion"), "chat");
  EXPECT_EQ(ShortTask("embeddings"), "embeddings");
  EXPECT_EQ(FormatParameterCount(3836000000), "3.8B");
  EXPECT_EQ(FormatParameterCount(134515000), "135M");
}

TEST(CatalogFormat, FoundryJsonHasFoundryKeys) {
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  const json j = ToFoundryJson(*cat->ByAlias("phi-4-mini").front());
  for (const char* key :
       {"name", "displayName", "alias", "uri", "version", "modelType", "providerType", "publisher",
        "task", "runtime", "fileSizeMb", "license", "licenseDescription", "promptTemplate",
        "supportsToolCalling", "maxOutputTokens", "parentModelUri", "modelSettings"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["name"], "Phi-4-mini-instruct-generic-cpu:1");
  EXPECT_EQ(j["runtime"]["deviceType"], "CPU");
  EXPECT_TRUE(j["promptTemplate"].is_null());
}

// ---------------------------------------------------------------- variant order

TEST(Resolve, FoundryPriorityOrder) {
  Catalog cat = MustParse(Doc({
      Variant("M-generic-cpu:1", "m"),
      Variant("M-openvino-cpu:1", "m", "CPU", "OpenVINOExecutionProvider"),
      Variant("M-generic-gpu:1", "m", "GPU", "WebGpuExecutionProvider"),
      Variant("M-cuda-gpu:1", "m", "GPU", "CUDAExecutionProvider"),
      Variant("M-generic-cpu:2", "m"),
      Variant("M-openvino-gpu:1", "m", "GPU", "OpenVINOExecutionProvider"),
      Variant("M-qnn-npu:1", "m", "NPU", "QNNExecutionProvider"),
  }));
  std::vector<std::string> order;
  for (const ModelVariant* v : OrderVariants(cat.ByAlias("m"), {})) order.push_back(v->id);
  EXPECT_EQ(order, (std::vector<std::string>{"M-qnn-npu:1", "M-openvino-gpu:1", "M-cuda-gpu:1",
                                             "M-generic-gpu:1", "M-openvino-cpu:1",
                                             "M-generic-cpu:2", "M-generic-cpu:1"}));
  // A cached variant wins.
  order.clear();
  for (const ModelVariant* v : OrderVariants(cat.ByAlias("m"), {"m-generic-cpu:1"})) {
    order.push_back(v->id);
  }
  EXPECT_EQ(order.front(), "M-generic-cpu:1");
  EXPECT_EQ(order[1], "M-qnn-npu:1");

  // Only generic CPU variants run here: the alias resolves to the newest of them.
  const MachineInfo m = Machine(16);
  auto r = ResolveModel(cat, "m", m, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->id, "M-generic-cpu:2");
  r = ResolveModel(cat, "M", m, {"m-generic-cpu:1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->id, "M-generic-cpu:1");
  // An id resolves to itself.
  r = ResolveModel(cat, "M-generic-cpu:1", m, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->id, "M-generic-cpu:1");
  r = ResolveModel(cat, "M-cuda-gpu:1", m, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  r = ResolveModel(cat, "nope", m, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("foundry model list"), std::string::npos);
}

TEST(Resolve, AliasWithoutRunnableVariant) {
  Catalog cat = MustParse(Doc({Variant("G-cuda-gpu:1", "g", "GPU", "CUDAExecutionProvider")}));
  auto r = ResolveModel(cat, "g", Machine(16), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
}

TEST(Resolve, TooBigModelNamesASmallerAliasThatFits) {
  json other = Variant("Other-generic-cpu:1", "other", "CPU", "CPUExecutionProvider", 8);
  other["publisher"] = "Elsewhere";
  other["parameterCount"] = 99000000;  // more parameters, but another family
  json emb = Variant("E-generic-cpu:1", "emb", "CPU", "CPUExecutionProvider", 1);
  emb["task"] = "embeddings";
  Catalog cat = MustParse(Doc({
      Variant("Big-generic-cpu:1", "big", "CPU", "CPUExecutionProvider", 16),
      Variant("Mid-generic-cpu:1", "mid", "CPU", "CPUExecutionProvider", 8),
      Variant("Small-generic-cpu:1", "small", "CPU", "CPUExecutionProvider", 2),
      Variant("Tiny-generic-cpu:1", "tiny", "CPU", "CPUExecutionProvider", 1),
      other,
      emb,
  }));
  const ModelVariant& big = *cat.ByAlias("big").front();
  EXPECT_TRUE(CheckFits(cat, big, Machine(16)).ok());
  Status st = CheckFits(cat, big, Machine(12));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange);
  EXPECT_NE(st.message().find("needs 16 GB"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("try the smaller chat model mid"), std::string::npos) << st.message();
  st = CheckFits(cat, big, Machine(4));
  EXPECT_NE(st.message().find("model small "), std::string::npos) << st.message();
  st = CheckFits(cat, big, Machine(0.5));
  EXPECT_NE(st.message().find("no chat model in the catalog fits"), std::string::npos)
      << st.message();
}

// ---------------------------------------------------------------- filters

TEST(Filter, ParseAndMatch) {
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  const ModelVariant& qwen = *cat->ByAlias("qwen2.5-0.5b").front();
  const ModelVariant& phi = *cat->ByAlias("phi-4-mini").front();
  auto match = [](const char* spec, const ModelVariant& v) {
    auto f = ParseModelFilter(spec);
    EXPECT_TRUE(f.ok()) << spec << ": " << f.status().message();
    return f.ok() && FilterMatches(*f, v);
  };
  EXPECT_TRUE(match("device=CPU", qwen));
  EXPECT_TRUE(match("device=cpu", qwen));
  EXPECT_FALSE(match("device=GPU", qwen));
  EXPECT_FALSE(match("device=!CPU", qwen));
  EXPECT_FALSE(match("device!=CPU", qwen));
  EXPECT_TRUE(match("device=!GPU", qwen));
  EXPECT_TRUE(match("alias=qwen*", qwen));
  EXPECT_FALSE(match("alias=qwen*", phi));
  EXPECT_TRUE(match("alias=!qwen*", phi));
  EXPECT_TRUE(match("alias=qwen2.5-0.5b-instruct", qwen));  // extra alias
  EXPECT_TRUE(match("task=chat", qwen));
  EXPECT_TRUE(match("task=chat-completion", qwen));
  EXPECT_FALSE(match("task=embeddings", qwen));
  EXPECT_TRUE(match("provider=CPUExecutionProvider", qwen));
  EXPECT_TRUE(match("provider=CPU", qwen));
  EXPECT_FALSE(match("provider=CUDA", qwen));
  for (const char* bad : {"device", "=CPU", "color=red", "device="}) {
    auto f = ParseModelFilter(bad);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  }
}

// ---------------------------------------------------------------- machine

TEST(Machine, ParsesMeminfoAndRamOverride) {
  double total = 0, avail = 0;
  ASSERT_TRUE(ParseMeminfo("MemTotal:       16777216 kB\nMemFree:  100 kB\n"
                           "MemAvailable:    8388608 kB\n",
                           &total, &avail)
                  .ok());
  EXPECT_DOUBLE_EQ(total, 16.0);
  EXPECT_DOUBLE_EQ(avail, 8.0);
  ASSERT_TRUE(ParseMeminfo("MemTotal: 4194304 kB\nMemFree: 1048576 kB\nCached: 1048576 kB\n",
                           &total, &avail)
                  .ok());
  EXPECT_DOUBLE_EQ(avail, 2.0);
  EXPECT_FALSE(ParseMeminfo("MemFree: 1 kB\n", &total, &avail).ok());
  EXPECT_FALSE(ParseMeminfo("MemTotalX: 5 kB\n", &total, &avail).ok());

  auto r = ParseRamOverride("8");
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(*r, 8.0);
  EXPECT_DOUBLE_EQ(*ParseRamOverride("0.5"), 0.5);
  for (const char* bad : {"", "abc", "8GB", "-1", "0", "nan", "inf"}) {
    EXPECT_FALSE(ParseRamOverride(bad).ok()) << bad;
  }
}

TEST(Machine, DetectHonoursTheRamOverride) {
  {
    auto m = DetectMachine("12.5");
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_DOUBLE_EQ(m->total_ram_gb, 12.5);
    EXPECT_TRUE(m->ram_overridden);
    EXPECT_TRUE(m->gpus.empty());
  }
  {
    auto m = DetectMachine("lots");
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.status().message().find("FOUNDRY_RAM_GB"), std::string::npos);
  }
  {
    // The environment is read by the CLI only: the library ignores FOUNDRY_RAM_GB.
    ScopedEnv env("FOUNDRY_RAM_GB", "12.5");
    auto m = DetectMachine("");
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->ram_overridden);
    EXPECT_GT(m->total_ram_gb, 0.1);
    EXPECT_LE(m->available_ram_gb, m->total_ram_gb);
    EXPECT_GT(m->cpu_threads, 0);
  }
}

// ---------------------------------------------------------------- cache

void MakeModel(const fs::path& dir, const std::string& name_json, bool gguf = true) {
  fs::create_directories(dir);
  if (gguf) WriteText(dir / "model.gguf", "GGUF");
  if (!name_json.empty()) WriteText(dir / kInferenceModelJson, name_json);
}

TEST(Cache, ScansFoundryLayoutAndUserFolders) {
  TempDir dir;
  const fs::path root = dir.path() / "models";
  MakeModel(root / "Microsoft" / "Phi-4-mini-instruct-generic-cpu-1",
            R"({"Name": "Phi-4-mini-instruct-generic-cpu:1", "PromptTemplate": null})");
  MakeModel(root / "my-model", R"({"Name": "my-model"})");  // bring your own
  MakeModel(root / "NoName", "not json");                   // name from the folder
  MakeModel(root / "Pub" / "Downloading-1", R"({"Name": "Downloading:1"})");
  WriteText(root / "Pub" / "Downloading-1" / kDownloadMarker, "");  // in progress
  MakeModel(root / "Pub" / "NoJson-1", "");                         // no inference_model.json
  MakeModel(root / "Pub" / "NoGguf-1", R"({"Name": "NoGguf:1"})", false);
  MakeModel(root / "a" / "b" / "TooDeep", R"({"Name": "TooDeep"})");

  ModelCache cache(root);
  auto list = cache.List();
  ASSERT_TRUE(list.ok()) << list.status().message();
  std::vector<std::string> ids;
  for (const CachedModel& m : *list) ids.push_back(m.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"my-model", "NoName", "Phi-4-mini-instruct-generic-cpu:1"}));
  EXPECT_EQ((*list)[2].model_file,
            root / "Microsoft" / "Phi-4-mini-instruct-generic-cpu-1" / "model.gguf");

  auto found = cache.Find("phi-4-mini-instruct-generic-cpu:1");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, "Phi-4-mini-instruct-generic-cpu:1");
  auto ids_set = cache.CachedIds();
  ASSERT_TRUE(ids_set.ok());
  EXPECT_EQ(ids_set->count("phi-4-mini-instruct-generic-cpu:1"), 1u);

  // Finishing the download makes the folder a model.
  fs::remove(root / "Pub" / "Downloading-1" / kDownloadMarker);
  EXPECT_EQ(cache.List()->size(), 4u);

  // A missing cache is an empty one.
  EXPECT_TRUE(ModelCache(dir.path() / "none").List()->empty());
}

TEST(Cache, DirForRemoveAndInferenceModelJson) {
  TempDir dir;
  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  const ModelVariant& v = *cat->ByAlias("smollm2-135m").front();
  ModelCache cache(dir.path());
  const fs::path d = cache.DirFor(v);
  EXPECT_EQ(d, dir.path() / "HuggingFace" / "SmolLM2-135M-Instruct-generic-cpu-1");
  EXPECT_EQ(IdToDirName("a:b:12"), "a:b-12");
  fs::create_directories(d);
  WriteText(d / v.file_name, "GGUF");
  ASSERT_TRUE(ModelCache::WriteInferenceModelJson(d, v.id, std::nullopt).ok());
  const json j = json::parse(ReadText(d / kInferenceModelJson));
  EXPECT_EQ(j["Name"], v.id);
  EXPECT_TRUE(j["PromptTemplate"].is_null());

  auto found = cache.Find(v.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  ASSERT_TRUE(cache.Remove(**found).ok());
  EXPECT_FALSE(fs::exists(d));
  EXPECT_FALSE(fs::exists(dir.path() / "HuggingFace"));  // empty publisher folder goes too
  EXPECT_TRUE(fs::exists(dir.path()));

  const CachedModel outside{std::string("x"), dir.path().parent_path(), fs::path()};
  Status st = cache.Remove(outside);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(fs::exists(dir.path()));
}

TEST(Cache, DirectoryPrecedenceAndCd) {
  TempDir tmp;
  CatalogOptions options;
  options.home = tmp.path() / ".foundry";
  {
    // The environment is read by the CLI only: the library ignores FOUNDRY_CACHE_DIR.
    ScopedEnv c("FOUNDRY_CACHE_DIR", "/tmp/elsewhere");
    auto d = CacheDirectory(options);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, options.home / "cache" / "models");
  }
  // cd: must exist; stored absolute; other settings survive.
  WriteText(options.home / "settings.json", R"({"port": 5273})");
  EXPECT_EQ(SetCacheDirectory(options.home, tmp.path() / "nope").status().code(),
            StatusCode::kNotFound);
  fs::create_directories(tmp.path() / "models");
  auto set = SetCacheDirectory(options.home, tmp.path() / "models/");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(*set, tmp.path() / "models");
  EXPECT_EQ(*CacheDirectory(options), tmp.path() / "models");
  const json settings = json::parse(ReadText(options.home / "settings.json"));
  EXPECT_EQ(settings["port"], 5273);
  EXPECT_EQ(settings["cacheDirectoryPath"], (tmp.path() / "models").string());
  EXPECT_EQ(*SettingsPath(options.home), options.home / "settings.json");

  // An explicit cache directory wins over the settings file.
  CatalogOptions explicit_dir = options;
  explicit_dir.cache_dir = "/tmp/elsewhere";
  EXPECT_EQ(*CacheDirectory(explicit_dir), fs::path("/tmp/elsewhere"));

  WriteText(options.home / "settings.json", "[1,2");
  auto bad = CacheDirectory(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("settings.json"), std::string::npos);

  // No home found at start-up: an error that says what to set, not a relative path.
  auto no_home = CacheDirectory(CatalogOptions());
  ASSERT_FALSE(no_home.ok());
  EXPECT_EQ(no_home.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_home.status().message().find("FOUNDRY_HOME"), std::string::npos);
  EXPECT_FALSE(SettingsPath(fs::path()).ok());
}

// ---------------------------------------------------------------- model select

// The tutorial's selector, restated: the first entry whose task equals the request and whose
// min_ram_gb the RAM covers.
TEST(Select, FirstMatchByTaskThenRam) {
  auto reg = ParseRegistry(R"([
    {"name": "qwen2.5-7b-instruct", "task": "chat", "min_ram_gb": 16, "notes": "best"},
    {"name": "qwen2.5-coder-1.5b", "task": "code", "min_ram_gb": 4, "notes": ""},
    {"name": "phi-4-mini", "task": "chat", "min_ram_gb": 8, "notes": "balanced"},
    {"name": "qwen2.5-0.5b", "task": "chat", "min_ram_gb": 4}
  ])",
                           "\"models.json\"");
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  auto chosen = [&](std::string_view task, double ram) -> std::string {
    const Selection s = SelectModel(*reg, task, ram);
    return s.chosen ? (*reg)[*s.chosen].name : "";
  };
  EXPECT_EQ(chosen("chat", 32), "qwen2.5-7b-instruct");
  EXPECT_EQ(chosen("chat", 16), "qwen2.5-7b-instruct");
  EXPECT_EQ(chosen("chat", 15.9), "phi-4-mini");
  EXPECT_EQ(chosen("chat", 8), "phi-4-mini");
  EXPECT_EQ(chosen("chat", 4), "qwen2.5-0.5b");
  EXPECT_EQ(chosen("chat", 2), "");
  EXPECT_EQ(chosen("code", 4), "qwen2.5-coder-1.5b");
  EXPECT_EQ(chosen("Chat", 32), "");  // exact task match, as the script compares
  const Selection s = SelectModel(*reg, "chat", 8);
  ASSERT_EQ(s.steps.size(), 4u);
  EXPECT_TRUE(s.steps[0].task_matches);
  EXPECT_FALSE(s.steps[0].fits);
  EXPECT_FALSE(s.steps[1].task_matches);
  EXPECT_TRUE(s.steps[2].kept());
  EXPECT_TRUE(s.steps[3].kept());
  EXPECT_EQ(*s.chosen, 2u);
}

TEST(Select, RegistryErrorsAndCatalogCandidates) {
  for (const char* bad : {"{", "42", R"({"x": []})", R"([{"task": "chat", "min_ram_gb": 1}])",
                          R"([{"name": "a", "min_ram_gb": 1}])",
                          R"([{"name": "a", "task": "chat", "min_ram_gb": "8"}])",
                          R"([{"name": "a", "task": "chat", "min_ram_gb": -1}])", "[1]"}) {
    auto r = ParseRegistry(bad, "\"r.json\"");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("r.json"), std::string::npos);
  }
  auto wrapped =
      ParseRegistry(R"({"models": [{"name": "a", "task": "chat", "min_ram_gb": 1}]})", "w");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), 1u);

  auto cat = Catalog::Builtin();
  ASSERT_TRUE(cat.ok());
  const std::vector<RegistryEntry> c = CatalogCandidates(*cat, Machine(8));
  ASSERT_EQ(c.size(), cat->Aliases().size());
  for (size_t i = 1; i < c.size(); ++i) EXPECT_GE(c[i - 1].min_ram_gb, c[i].min_ram_gb);
  const Selection s = SelectModel(c, "chat", 4);
  ASSERT_TRUE(s.chosen.has_value());
  EXPECT_EQ(c[*s.chosen].min_ram_gb, 4);
}

}  // namespace
}  // namespace foundry
