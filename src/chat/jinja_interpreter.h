// Renders a parsed chat template. Semantics follow jinja2 3.x as transformers configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF's tojson,
// raise_exception and strftime_now). Every render is bounded: output size, loop iterations,
// nesting depth and total bytes of strings built; exceeding a bound is an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_value.h"

namespace foundry::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;
  int64_t max_loop_iterations = 1'000'000;
  int max_depth = 400;        // nested statements/expressions, macro calls included
  int max_macro_depth = 100;  // recursive macro calls
  uint64_t max_work_bytes = uint64_t{1} << 30;  // bytes of all strings built during a render
};

struct RenderOptions {
  RenderLimits limits;
  // Clock for strftime_now(): fixed UTC seconds for reproducible renders; unset: local time now.
  std::optional<int64_t> now_unix_seconds;
};

// Variables visible to the template, in order.
using Globals = std::vector<std::pair<std::string, Value>>;

StatusOr<std::string> Render(const Program& program, const Globals& globals,
                             const RenderOptions& options);

}  // namespace foundry::jinja
