// Stop strings over streamed text: text that could still turn into a stop string is held
// back until it either completes one (generation ends before it) or cannot (it is released).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace foundry {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops = {});

  // Appends generated text. Returns the text that is now safe to emit; sets *stopped when a
  // stop string completed (the returned text then ends right before it, and the rest is
  // dropped).
  std::string Push(std::string_view text, bool* stopped);
  // End of generation: everything held back.
  std::string Flush();

 private:
  std::vector<std::string> stops_;  // empty strings removed
  std::string held_;
};

}  // namespace foundry
