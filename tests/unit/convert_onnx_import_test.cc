// MatMulNBits' 4-bit packing repacked into ggml's Q4_0 nibble order: every element keeps its
// value, so a Q4_0 block with the same scale dequantizes to what ONNX Runtime computes.
#include <gtest/gtest.h>

#include <cstdint>

#include "convert/onnx_import.h"

namespace foundry::convert {
namespace {

TEST(OnnxImport, RepackNibbles32MovesEveryElementToGgmlOrder) {
  uint8_t onnx[16], ggml[16];
  auto value = [](int e) { return static_cast<uint8_t>((e * 7 + 3) & 15); };
  for (int k = 0; k < 16; ++k)
    onnx[k] = static_cast<uint8_t>(value(2 * k) | (value(2 * k + 1) << 4));
  RepackNibbles32(onnx, ggml);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(ggml[j] & 15, value(j)) << j;
    EXPECT_EQ(ggml[j] >> 4, value(j + 16)) << j;
  }
}

}  // namespace
}  // namespace foundry::convert
