// `foundry model compile SRC [--name ALIAS] [--quant Q]`: a Hugging Face checkpoint folder, an
// ONNX Runtime GenAI folder (imported), or a GGUF file to re-quantize, compiled into a GGUF model
// in the cache (<cache>/<ALIAS>/<alias>.gguf +
// inference_model.json), where `foundry cache ls` lists it and `foundry model run ALIAS` runs it.
// The model is written into a hidden temporary folder marked in progress (download.tmp) and renamed
// into place at the end, so an interrupted or failed compile never leaves a model that looks
// complete.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "convert/compile_plan.h"
#include "convert/disk_space.h"
#include "convert/gguf_requantize.h"
#include "convert/hf_compile.h"
#include "convert/hf_tokenizer.h"
#include "convert/onnx_import.h"

namespace foundry::cli {
namespace {
namespace fs = std::filesystem;

struct CompileArgs {
  std::string src;
  std::string name;
  std::string quant;  // empty: not given (q4_k_m)
};

// The default alias: the source folder's name (a GGUF file's name without .gguf), lower-cased.
std::string DefaultAlias(const fs::path& src) {
  fs::path p = fs::absolute(src).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::error_code ec;
  if (fs::is_regular_file(p, ec) && p.extension() == ".gguf") p = p.stem();
  return AsciiLower(p.filename().string());
}

// The plan for what SRC is: a GGUF file, an ONNX Runtime GenAI folder, else a Hugging Face
// folder. `quant_given`: --quant was on the command line (an ONNX folder's int4 weights are
// imported as they are).
StatusOr<std::unique_ptr<convert::CompilePlan>> MakePlan(const fs::path& src,
                                                         const convert::CompileOptions& options,
                                                         bool quant_given) {
  std::error_code ec;
  if (fs::is_regular_file(src, ec)) {
    FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<convert::GgufRequantizePlan> plan,
                             convert::GgufRequantizePlan::Make(src, options));
    return std::unique_ptr<convert::CompilePlan>(std::move(plan));
  }
  if (!fs::is_directory(src, ec)) {
    return NotFound(src.string() +
                    " is neither a folder (a Hugging Face model folder) nor a GGUF file");
  }
  if (convert::IsOnnxGenaiFolder(src)) {
    if (quant_given) {
      return InvalidArgument(
          "--quant does not apply to an ONNX folder: its int4 weights are imported as they are "
          "(Q4_0 / Q4_1)");
    }
    FOUNDRY_ASSIGN_OR_RETURN(convert::HfTokenizer tokenizer, convert::ReadHfTokenizer(src));
    FOUNDRY_ASSIGN_OR_RETURN(
        convert::OnnxImportPlan plan,
        convert::OnnxImportPlan::Make(src, std::move(tokenizer), options.model_name));
    return std::unique_ptr<convert::CompilePlan>(
        std::make_unique<convert::OnnxImportPlan>(std::move(plan)));
  }
  // config.json first: a folder that is not a model at all says so, not "no tokenizer.json".
  FOUNDRY_RETURN_IF_ERROR(convert::ReadHfConfig(src).status());
  FOUNDRY_ASSIGN_OR_RETURN(convert::HfTokenizer tokenizer, convert::ReadHfTokenizer(src));
  FOUNDRY_ASSIGN_OR_RETURN(convert::HfCompilePlan plan,
                           convert::HfCompilePlan::Make(src, std::move(tokenizer), options));
  return std::unique_ptr<convert::CompilePlan>(
      std::make_unique<convert::HfCompilePlan>(std::move(plan)));
}

Status CheckAlias(const std::string& alias) {
  if (alias.empty() || alias == "." || alias == ".." || alias[0] == '.' ||
      alias.find_first_of("/\\:") != std::string::npos) {
    return InvalidArgument("'" + alias +
                           "' cannot name a model folder (use --name with letters, digits, '-', "
                           "'_' or '.', not starting with '.')");
  }
  return OkStatus();
}

// Writes the model into `tmp`, then renames it to `dir`.
Status CompileInto(const convert::CompilePlan& plan, const std::string& alias, const fs::path& tmp,
                   const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) return IoError("cannot create " + tmp.string() + ": " + ec.message());
  {
    std::FILE* marker = std::fopen((tmp / kDownloadMarker).c_str(), "wb");
    if (marker == nullptr) return IoError("cannot write in " + tmp.string());
    std::fclose(marker);
  }
  ProgressBar bar;
  FOUNDRY_RETURN_IF_ERROR(plan.Write(
      tmp / (alias + ".gguf"), [&bar](const std::string& tensor, uint64_t done, uint64_t total) {
        bar.Update(static_cast<int64_t>(done), static_cast<int64_t>(total), false, tensor);
      }));
  bar.Update(1, 1, /*final=*/true, "done");
  FOUNDRY_RETURN_IF_ERROR(ModelCache::WriteInferenceModelJson(tmp, alias, plan.prompt_template()));
  fs::remove(tmp / kDownloadMarker, ec);
  if (ec) return IoError("cannot remove " + (tmp / kDownloadMarker).string() + ": " + ec.message());
  fs::rename(tmp, dir, ec);
  if (ec) return IoError("cannot move the model to " + dir.string() + ": " + ec.message());
  return OkStatus();
}

StatusOr<fs::path> Compile(const Environment& env, const CompileArgs& a) {
  const fs::path src = a.src;
  std::error_code ec;
  if (!fs::exists(src, ec)) {
    return NotFound(a.src +
                    " does not exist (expected a Hugging Face or ONNX Runtime GenAI model folder, "
                    "or a GGUF file)");
  }
  const bool quant_given = !a.quant.empty();
  FOUNDRY_ASSIGN_OR_RETURN(convert::CompileQuant quant,
                           convert::ParseCompileQuant(quant_given ? a.quant : "q4_k_m"));
  const std::string alias = a.name.empty() ? DefaultAlias(src) : a.name;
  FOUNDRY_RETURN_IF_ERROR(CheckAlias(alias));
  FOUNDRY_ASSIGN_OR_RETURN(fs::path cache_dir, CacheDirectory(env.catalog));
  const ModelCache cache(cache_dir);
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<CachedModel> existing, cache.Find(alias));
  const fs::path dir = cache_dir / alias;
  if (existing || fs::exists(dir, ec)) {
    return InvalidArgument("the cache already has a model named " + alias + " (" +
                           (existing ? existing->dir : dir).string() +
                           "); choose another --name or remove it with `foundry cache remove " +
                           alias + "`");
  }
  convert::CompileOptions options;
  options.quant = quant;
  options.model_name = alias;
  options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<convert::CompilePlan> plan,
                           MakePlan(src, options, quant_given));
  fs::create_directories(cache_dir, ec);
  if (ec)
    return IoError("cannot create the cache directory " + cache_dir.string() + ": " + ec.message());
  const fs::space_info space = fs::space(cache_dir, ec);
  if (ec)
    return IoError("cannot read the free space of " + cache_dir.string() + ": " + ec.message());
  FOUNDRY_RETURN_IF_ERROR(
      convert::CheckDiskSpace(cache_dir, plan->estimated_bytes(), space.available));

  std::printf("%s %s (%s) into %s...\n", plan->verb().c_str(), src.string().c_str(),
              plan->source_description().c_str(), dir.string().c_str());
  std::fflush(stdout);
  const fs::path tmp = cache_dir / ("." + alias + ".compiling");
  fs::remove_all(tmp, ec);  // a compile interrupted earlier
  Status s = CompileInto(*plan, alias, tmp, dir);
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  return dir;
}

}  // namespace

void AddCompileCommand(CLI::App& model, const Environment& env, int& exit_code) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* compile = model.add_subcommand(
      "compile",
      "Compile a Hugging Face or ONNX Runtime GenAI model folder, or re-quantize a GGUF file, into "
      "a GGUF model in the cache");
  compile
      ->add_option(
          "source", args->src,
          "Folder with config.json, *.safetensors and tokenizer.json, an ONNX Runtime GenAI "
          "folder (genai_config.json, model.onnx), or a .gguf file")
      ->required();
  compile->add_option(
      "--name", args->name,
      "The model's name in the cache (default: the folder's or file's name, lower-cased)");
  compile->add_option("--quant", args->quant,
                      "Weight type: " + convert::SupportedCompileQuants() + " (default q4_k_m)");
  compile->callback([&env, args, &exit_code] {
    StatusOr<fs::path> dir = Compile(env, *args);
    if (!dir.ok()) {
      exit_code = ReportError(dir.status());
      return;
    }
    const std::string alias = dir->filename().string();
    std::printf("Model %s was compiled to %s\nRun it with: foundry model run %s\n", alias.c_str(),
                dir->string().c_str(), alias.c_str());
    exit_code = 0;
  });
}

}  // namespace foundry::cli
