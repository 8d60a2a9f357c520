#include "eval/log_prob_file.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"

namespace foundry::eval {
namespace {

constexpr char kMagic[8] = {'F', 'N', 'D', 'L', 'O', 'G', 'P', '1'};

template <typename T>
void Put(std::ofstream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof(v));
}

template <typename T>
bool Get(std::ifstream& in, T* v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(v), sizeof(*v)));
}

}  // namespace

StatusOr<std::unique_ptr<LogProbWriter>> LogProbWriter::Create(const std::string& path,
                                                               const ChunkPlan& plan,
                                                               int64_t n_vocab) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot write " + path + ": " + std::strerror(errno));
  out.write(kMagic, sizeof(kMagic));
  Put<int64_t>(out, plan.n_ctx);
  Put<int64_t>(out, n_vocab);
  Put<int64_t>(out, plan.n_chunks);
  out.write(reinterpret_cast<const char*>(plan.tokens.data()),
            static_cast<std::streamsize>(plan.tokens.size() * sizeof(int32_t)));
  auto w = std::unique_ptr<LogProbWriter>(new LogProbWriter(path, std::move(out)));
  w->row_.resize(static_cast<size_t>(n_vocab));
  return w;
}

Status LogProbWriter::Append(std::span<const float> logits) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  double sum_exp = 0.0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  const double log_sum = std::log(sum_exp);
  for (size_t i = 0; i < logits.size(); ++i) {
    row_[i] = Fp32ToFp16(static_cast<float>(logits[i] - max_logit - log_sum));
  }
  out_.write(reinterpret_cast<const char*>(row_.data()),
             static_cast<std::streamsize>(row_.size() * sizeof(uint16_t)));
  return out_ ? OkStatus() : IoError("writing " + path_ + " failed (disk full?)");
}

Status LogProbWriter::Close() {
  out_.flush();
  out_.close();
  return out_ ? OkStatus() : IoError("writing " + path_ + " failed (disk full?)");
}

StatusOr<std::unique_ptr<LogProbReader>> LogProbReader::Open(const std::string& path,
                                                             const ChunkPlan& plan,
                                                             int64_t n_vocab) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path + ": " + std::strerror(errno));
  char magic[sizeof(kMagic)];
  int64_t n_ctx = 0, vocab = 0, n_chunks = 0;
  if (!in.read(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 ||
      !Get(in, &n_ctx) || !Get(in, &vocab) || !Get(in, &n_chunks)) {
    return CorruptFile(path + " is not a log-probability file written by " +
                       "`foundry perplexity --save-logprobs`");
  }
  if (vocab != n_vocab) {
    return InvalidArgument(path + " was written by a model with " + std::to_string(vocab) +
                           " tokens in its vocabulary, this one has " + std::to_string(n_vocab));
  }
  if (n_ctx != plan.n_ctx || n_chunks < plan.n_chunks) {
    return InvalidArgument(path + " holds " + std::to_string(n_chunks) + " chunks of " +
                           std::to_string(n_ctx) + " tokens; this run needs " +
                           std::to_string(plan.n_chunks) + " of " + std::to_string(plan.n_ctx) +
                           " (use the same --ctx, and at most as many --chunks)");
  }
  std::vector<int32_t> tokens(static_cast<size_t>(n_chunks * n_ctx));
  if (!in.read(reinterpret_cast<char*>(tokens.data()),
               static_cast<std::streamsize>(tokens.size() * sizeof(int32_t)))) {
    return CorruptFile(path + " is truncated");
  }
  if (!std::equal(plan.tokens.begin(), plan.tokens.end(), tokens.begin())) {
    return InvalidArgument(path + " was computed on other tokens: use the same text and a " +
                           "model with the same tokenizer");
  }
  auto r = std::unique_ptr<LogProbReader>(new LogProbReader(path, std::move(in), n_vocab));
  r->row_.resize(static_cast<size_t>(n_vocab));
  return r;
}

Status LogProbReader::Next(std::vector<float>* log_probs) {
  if (!in_.read(reinterpret_cast<char*>(row_.data()),
                static_cast<std::streamsize>(row_.size() * sizeof(uint16_t)))) {
    return CorruptFile(path_ + " is truncated");
  }
  log_probs->resize(row_.size());
  for (size_t i = 0; i < row_.size(); ++i) (*log_probs)[i] = Fp16ToFp32(row_[i]);
  return OkStatus();
}

}  // namespace foundry::eval
