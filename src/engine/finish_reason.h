// Why a sequence's generation ended.
#pragma once

namespace foundry {

enum class FinishReason {
  kStop,       // end-of-generation token or a stop string
  kLength,     // max_tokens reached or the context is full
  kCancelled,  // the cancellation flag was set (client gone) or the scheduler shut down
  kError,      // the forward pass failed (status says why)
};
const char* FinishReasonName(FinishReason r);  // "stop", "length", "cancelled", "error"

}  // namespace foundry
