// LanguageModel: a GGUF file's weights bound to an architecture, plus its tokenizer.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "engine/internal.h"
#include "kernels/kernels.h"

namespace foundry {
namespace {

// Weights are read into huge pages when the file takes at most a quarter of the machine's
// memory (decoding streams them all for every token; see MappedFile::ReadIntoHugePages), and
// mapped otherwise, or when the caller asks for the map (pages shared between processes and
// left to the page cache).
StatusOr<std::unique_ptr<GgufFile>> OpenWeights(const std::string& path, bool map_weights) {
  if (map_weights) return GgufFile::Open(path);
  struct stat st;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (::stat(path.c_str(), &st) == 0 && pages > 0 && page > 0 &&
      static_cast<double>(st.st_size) <= 0.25 * static_cast<double>(pages) * page) {
    return GgufFile::OpenInHugePages(path);
  }
  return GgufFile::Open(path);
}

}  // namespace

const internal::LanguageModelParts& internal::PartsOf(const LanguageModel& lm) {
  return *lm.parts_;
}

LanguageModel::LanguageModel() : parts_(std::make_unique<internal::LanguageModelParts>()) {}
LanguageModel::~LanguageModel() = default;

StatusOr<std::shared_ptr<LanguageModel>> LanguageModel::Load(const std::string& path,
                                                             const LoadOptions& options) {
  std::string warning;
  const Isa isa = ResolveIsa(options.isa, BestSupportedIsa(), DefaultIsa(), &warning);
  if (!warning.empty()) std::fprintf(stderr, "foundry: %s\n", warning.c_str());
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, OpenWeights(path, options.map_weights));
  std::shared_ptr<LanguageModel> lm(new LanguageModel());
  internal::LanguageModelParts& parts = *lm->parts_;
  parts.gguf = std::move(file);
  auto model = Model::Load(parts.gguf, *KernelsForIsa(isa), options.repack_weights);
  if (!model.ok()) return Status(model.status().code(), path + ": " + model.status().message());
  parts.model = std::move(model).value();
  auto tok = Tokenizer::Create(*parts.gguf);
  if (!tok.ok()) return Status(tok.status().code(), path + ": " + tok.status().message());
  parts.tokenizer = std::move(tok).value();
  return lm;
}

int64_t LanguageModel::n_vocab() const { return parts_->model->hparams().n_vocab; }
int64_t LanguageModel::n_ctx_train() const { return parts_->model->hparams().n_ctx_train; }
int64_t LanguageModel::n_embd() const { return parts_->model->hparams().n_embd; }
std::string_view LanguageModel::isa() const { return IsaName(parts_->model->kernels().isa); }

std::vector<int32_t> LanguageModel::Tokenize(std::string_view text, bool add_special,
                                             bool parse_special) const {
  return parts_->tokenizer->Encode(text, add_special, parse_special);
}

}  // namespace foundry
