#include "convert/gguf_requantize.h"

#include <algorithm>

#include "base/thread_pool.h"
#include "convert/quant_plan.h"
#include "convert/tensor_stream.h"
#include "format/gguf_writer.h"
#include "kernels/kernels.h"

namespace foundry::convert {
namespace fs = std::filesystem;
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

// llama-quantize's test of the tensors it may quantize (for the architectures this engine
// runs): 2-D+ weights other than norms, expert routers and position/token-type embeddings.
bool Quantizable(const std::string& name, const std::vector<uint64_t>& ne) {
  return ne.size() >= 2 && EndsWith(name, "weight") && !EndsWith(name, "_norm.weight") &&
         name.find("ffn_gate_inp.weight") == std::string::npos && name != "position_embd.weight" &&
         name != "token_types.weight";
}

// Keys the output writes itself.
bool Rewritten(std::string_view key) {
  return key == "general.file_type" || key == "general.quantization_version" ||
         key == "general.name" || key == "general.alignment";
}

}  // namespace

StatusOr<std::unique_ptr<GgufRequantizePlan>> GgufRequantizePlan::Make(
    const fs::path& src, const CompileOptions& options) {
  std::unique_ptr<GgufRequantizePlan> plan(new GgufRequantizePlan());
  plan->options_ = options;
  FOUNDRY_ASSIGN_OR_RETURN(plan->file_, GgufFile::Open(src.string()));
  const GgufFile& f = *plan->file_;
  FOUNDRY_ASSIGN_OR_RETURN(std::string_view arch, f.GetString("general.architecture"));
  plan->arch_ = std::string(arch);
  QuantModelInfo info;
  info.arch = plan->arch_;
  FOUNDRY_ASSIGN_OR_RETURN(uint64_t n_layer, f.GetUint(plan->arch_ + ".block_count"));
  FOUNDRY_ASSIGN_OR_RETURN(uint64_t n_head, f.GetUint(plan->arch_ + ".attention.head_count"));
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<uint64_t> n_head_kv,
                           f.FindUint(plan->arch_ + ".attention.head_count_kv"));
  info.n_layer = static_cast<int64_t>(n_layer);
  info.n_head = static_cast<int64_t>(n_head);
  info.n_head_kv = static_cast<int64_t>(n_head_kv.value_or(n_head));

  for (const GgufTensorInfo& t : f.tensors()) {
    Tensor out;
    out.src = &t;
    out.ne.assign(t.ne.begin(), t.ne.begin() + std::max<uint32_t>(1, t.n_dims));
    out.type = t.type;
    plan->tensors_.push_back(std::move(out));
  }
  std::sort(plan->tensors_.begin(), plan->tensors_.end(), [](const Tensor& a, const Tensor& b) {
    return LlamaQuantizeOrder(a.src->name, b.src->name);
  });
  std::vector<PlannedTensor> planned;
  for (const Tensor& t : plan->tensors_) planned.push_back({t.src->name, t.ne});
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<QuantType> types,
                           ChooseTensorTypes(options.quant, info, planned));
  // The metadata takes at most what it takes in the source.
  uint64_t source_tensor_bytes = 0;
  for (const GgufTensorInfo& t : f.tensors()) source_tensor_bytes += t.nbytes;
  plan->estimated_bytes_ = f.file_size() - std::min(f.file_size(), source_tensor_bytes);
  for (size_t i = 0; i < plan->tensors_.size(); ++i) {
    Tensor& t = plan->tensors_[i];
    if (Quantizable(t.src->name, t.ne)) t.type = types[i];
    if (t.type != t.src->type && FindRefTypeTraits(t.src->type) == nullptr) {
      return Unimplemented("tensor " + t.src->name + " has type " +
                           std::string(QuantTypeName(t.src->type)) +
                           ", which foundry cannot dequantize to re-quantize it");
    }
    plan->estimated_bytes_ += TensorBytes(t.ne, t.type) + GgufWriter::kAlignment;
  }
  return plan;
}

std::string GgufRequantizePlan::source_description() const {
  return "GGUF " + arch_ + ", " + std::string(CompileQuantName(options_.quant));
}

std::vector<std::pair<std::string, QuantType>> GgufRequantizePlan::tensor_types() const {
  std::vector<std::pair<std::string, QuantType>> out;
  for (const Tensor& t : tensors_) out.emplace_back(t.src->name, t.type);
  return out;
}

Status GgufRequantizePlan::Write(const fs::path& out, const Progress& progress) const {
  GgufWriter w;
  for (const auto& [key, value] : file_->metadata()) {
    if (Rewritten(key)) continue;
    FOUNDRY_RETURN_IF_ERROR(w.AddValue(key, value));
  }
  if (!options_.model_name.empty()) w.AddString("general.name", options_.model_name);
  w.AddUint32("general.file_type", CompileQuantFileType(options_.quant));
  w.AddUint32("general.quantization_version", 2);
  for (const Tensor& t : tensors_) {
    FOUNDRY_RETURN_IF_ERROR(w.AddTensor(t.src->name, t.ne, t.type).status());
  }
  FOUNDRY_RETURN_IF_ERROR(w.Open(out.string()));
  uint64_t done = 0;
  ThreadPool pool(std::max(1, options_.threads), /*spin_us=*/0);
  for (const Tensor& t : tensors_) {
    const GgufTensorInfo& s = *t.src;
    if (t.type == s.type) {  // unchanged: the bytes as they are
      FOUNDRY_RETURN_IF_ERROR(w.Append(s.data, s.nbytes));
      done += s.nbytes;
      if (progress) progress(s.name, done, estimated_bytes_);
      continue;
    }
    const TypeTraits* from = FindRefTypeTraits(s.type);
    const auto info = FindQuantTypeInfo(static_cast<uint32_t>(s.type));
    const size_t src_row_bytes = RowBytes(*info, s.ne[0]);
    const FloatRowSource source = [&](uint64_t r, float* dst) {
      from->dequantize_row(s.data + r * src_row_bytes, dst, static_cast<int64_t>(s.ne[0]));
    };
    FOUNDRY_RETURN_IF_ERROR(StreamQuantizedTensor(t.ne, t.type, source, &w, pool, [&](uint64_t n) {
      done += n;
      if (progress) progress(s.name, done, estimated_bytes_);
    }));
  }
  return w.Finish();
}

}  // namespace foundry::convert
