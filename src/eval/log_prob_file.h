// A reference run's log-probabilities, saved so that another model (a quantization of it, or the
// same model with another KV type) can be compared with it token by token (KL divergence). The
// file records the chunk plan's tokens, so a comparison on another text or tokenizer is refused.
//
// Layout (little-endian): "FNDLOGP1", int64 n_ctx, n_vocab, n_chunks, then n_chunks * n_ctx
// int32 tokens, then for each scored position n_vocab IEEE-half log-probabilities.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "eval/perplexity.h"

namespace foundry::eval {

class LogProbWriter {
 public:
  static StatusOr<std::unique_ptr<LogProbWriter>> Create(const std::string& path,
                                                         const ChunkPlan& plan, int64_t n_vocab);
  // Appends the log-softmax of one scored position's logits.
  Status Append(std::span<const float> logits);
  // Flushes and checks that every write reached the file.
  Status Close();

 private:
  LogProbWriter(std::string path, std::ofstream out)
      : path_(std::move(path)), out_(std::move(out)) {}
  std::string path_;
  std::ofstream out_;
  std::vector<uint16_t> row_;
};

class LogProbReader {
 public:
  // Fails unless the file was written for the same plan (tokens, n_ctx) and vocabulary size.
  static StatusOr<std::unique_ptr<LogProbReader>> Open(const std::string& path,
                                                       const ChunkPlan& plan, int64_t n_vocab);
  // The next scored position's log-probabilities.
  Status Next(std::vector<float>* log_probs);

 private:
  LogProbReader(std::string path, std::ifstream in, int64_t n_vocab)
      : path_(std::move(path)), in_(std::move(in)), n_vocab_(n_vocab) {}
  std::string path_;
  std::ifstream in_;
  int64_t n_vocab_;
  std::vector<uint16_t> row_;
};

}  // namespace foundry::eval
