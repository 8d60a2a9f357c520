// Fixed-width text columns, as Foundry Local prints its tables: a cell padded to its column's
// width, and at least one space after a cell that fills or overflows it.
#pragma once

#include <string>
#include <string_view>

namespace foundry::cli {

inline std::string Pad(std::string_view cell, size_t width) {
  std::string out(cell);
  out.append(cell.size() >= width ? 1 : width - cell.size(), ' ');
  return out;
}

}  // namespace foundry::cli
