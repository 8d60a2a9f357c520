// Cross-check against the reference gguf-py package: tests/data/kernels/*.bin are written by
// tools/gen_kernel_vectors.py from gguf.quants.quantize/dequantize. Our dequantization must
// equal gguf-py's bit for bit, and where gguf-py quantizes, our bytes must equal its bytes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../isa_under_test.h"
#include "base/fp16.h"
#include "base/tensor_type.h"
#include "kernels/kernels.h"

namespace foundry {
namespace {

struct Vector {
  uint32_t type = 0;
  uint32_t n = 0;
  bool has_input = false;
  std::vector<float> input;
  std::vector<uint8_t> quantized;
  std::vector<float> dequantized;
};

bool ReadAll(const std::string& path, std::vector<uint8_t>* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) out->insert(out->end(), buf, buf + got);
  std::fclose(f);
  return true;
}

// Parses the FKV1 format described in tools/gen_kernel_vectors.py.
bool Load(const std::string& name, Vector* v) {
  std::vector<uint8_t> data;
  if (!ReadAll(std::string(FOUNDRY_SOURCE_DIR) + "/tests/data/kernels/" + name, &data)) {
    ADD_FAILURE() << "cannot read " << name;
    return false;
  }
  size_t pos = 0;
  auto take = [&](void* dst, size_t bytes) {
    if (pos + bytes > data.size()) return false;
    std::memcpy(dst, data.data() + pos, bytes);
    pos += bytes;
    return true;
  };
  char magic[4];
  uint32_t has_input = 0, nbytes = 0;
  if (!take(magic, 4) || std::memcmp(magic, "FKV1", 4) != 0) return false;
  if (!take(&v->type, 4) || !take(&v->n, 4) || !take(&has_input, 4)) return false;
  v->has_input = has_input != 0;
  if (v->has_input) {
    v->input.resize(v->n);
    if (!take(v->input.data(), v->n * 4u)) return false;
  }
  if (!take(&nbytes, 4)) return false;
  v->quantized.resize(nbytes);
  if (!take(v->quantized.data(), nbytes)) return false;
  v->dequantized.resize(v->n);
  if (!take(v->dequantized.data(), v->n * 4u)) return false;
  return pos == data.size();
}

class GgufPyVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufPyVectors, MatchBitForBit) {
  Vector v;
  ASSERT_TRUE(Load(GetParam(), &v)) << GetParam();
  const TypeTraits* t = harness::KernelsUnderTest().Find(static_cast<QuantType>(v.type));
  ASSERT_NE(t, nullptr) << v.type;
  ASSERT_EQ(RowBytes(*t, v.n), v.quantized.size());

  std::vector<float> deq(v.n);
  t->dequantize_row(v.quantized.data(), deq.data(), v.n);
  int bad = 0;
  for (uint32_t i = 0; i < v.n; ++i) {
    if (BitsFromFp32(deq[i]) != BitsFromFp32(v.dequantized[i]) && ++bad <= 5) {
      ADD_FAILURE() << GetParam() << " dequantize element " << i << ": " << deq[i] << " vs "
                    << v.dequantized[i];
    }
  }
  EXPECT_EQ(bad, 0);

  if (v.has_input) {
    // gguf-py quantizes weights as ggml's reference does; the SIMD tables' Q8_0 quantizer is
    // llama.cpp's activation quantizer, which rounds differently (kernels_simd_test).
    const TypeTraits* rt = FindRefTypeTraits(t->type);
    ASSERT_NE(rt->quantize_row, nullptr);
    std::vector<uint8_t> q(v.quantized.size());
    rt->quantize_row(v.input.data(), q.data(), v.n);
    int qbad = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      if (q[i] != v.quantized[i] && ++qbad <= 5) {
        ADD_FAILURE() << GetParam() << " quantize byte " << i << ": " << int(q[i]) << " vs "
                      << int(v.quantized[i]);
      }
    }
    EXPECT_EQ(qbad, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, GgufPyVectors,
                         ::testing::Values("f16.bin", "bf16.bin", "q4_0.bin", "q4_1.bin",
                                           "q8_0.bin", "q5_1.bin", "q4_k.bin", "q5_k.bin", "q6_k.bin"));

}  // namespace
}  // namespace foundry
