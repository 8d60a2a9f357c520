// Lookup in the small {name, function} tables of filters, tests, methods and globals. The
// tables are unsorted so that a new entry is one line anywhere; they hold tens of rows.
#pragma once

#include <span>
#include <string_view>

namespace foundry::jinja {

template <typename Entry>
const Entry* FindByName(std::span<const Entry> table, std::string_view name) {
  for (const Entry& e : table) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace foundry::jinja
