// Generated Unicode data (tools/gen_unicode_tables.py writes unicode_tables.cc).
#pragma once

#include <cstdint>

namespace foundry {

// One run of code points sharing a general category. `category` is a UnicodeCategory value;
// the run ends where the next run starts.
struct UnicodeCategoryRun {
  uint32_t first;
  uint8_t category;
};

extern const UnicodeCategoryRun kUnicodeCategoryRuns[];
extern const int kUnicodeCategoryRunCount;
extern const char kUnicodeVersion[];

}  // namespace foundry
