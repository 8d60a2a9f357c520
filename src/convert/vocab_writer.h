// Writes a vocabulary as GGUF tokenizer.ggml.* metadata: the inverse of Vocab::FromGguf.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "convert/hf_tokenizer.h"
#include "format/gguf_writer.h"

namespace foundry::convert {

// Validates the vocabulary (Vocab::Build), pads the token list to `n_vocab` (the rows of the
// embedding) with "[PAD<i>]" user-defined tokens as llama.cpp's converter does, and adds the
// keys plus tokenizer.chat_template. An error when the tokenizer has more tokens than rows.
Status WriteVocab(const HfTokenizer& tokenizer, int64_t n_vocab, GgufWriter* w);

}  // namespace foundry::convert
