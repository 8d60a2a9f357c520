// Status and StatusOr (public, foundry/status.h) plus the project's internal invariant check.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "foundry/status.h"

// Internal invariants only: never reachable from user input or file contents.
#define FOUNDRY_CHECK(cond)                                                            \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
