// The ISA a test program runs its kernels and models on: FOUNDRY_ISA, read once here at the
// test harness's edge as the CLI reads it at its own (ctest registers the kernel and golden
// tests once per ISA with it: tests/CMakeLists.txt). Unset or unknown: the default ISA, as an
// empty LoadOptions::isa gets.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "foundry/engine.h"
#include "kernels/kernels.h"

namespace foundry::harness {

// FOUNDRY_ISA's value ("" when unset).
inline const std::string& IsaUnderTestName() {
  static const std::string name = [] {
    const char* value = std::getenv("FOUNDRY_ISA");
    return std::string(value != nullptr ? value : "");
  }();
  return name;
}

// Options that load a model on that ISA.
inline LoadOptions TestLoadOptions() {
  LoadOptions options;
  options.isa = IsaUnderTestName();
  return options;
}

// The ISA those options load a model with, and its kernels.
inline Isa IsaUnderTest() {
  std::string warning;
  return ResolveIsa(IsaUnderTestName(), BestSupportedIsa(), DefaultIsa(), &warning);
}
inline const Kernels& KernelsUnderTest() { return *KernelsForIsa(IsaUnderTest()); }

// Skips every test of the program, saying why, when FOUNDRY_ISA names an ISA this CPU cannot
// run: its kernels cannot be tested here (ctest then reports the program as skipped).
class IsaUnderTestEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    for (Isa isa : kAllIsas) {
      if (IsaName(isa) == IsaUnderTestName() && !IsaSupported(isa)) {
        std::printf("FOUNDRY_ISA=%s: this CPU lacks the ISA, skipping every test\n",
                    IsaUnderTestName().c_str());
        GTEST_SKIP() << "this CPU lacks " << IsaUnderTestName();
      }
    }
  }
};

inline const bool kIsaUnderTestEnvironmentAdded =
    (::testing::AddGlobalTestEnvironment(new IsaUnderTestEnvironment), true);

}  // namespace foundry::harness
