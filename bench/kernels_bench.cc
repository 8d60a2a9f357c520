// Per-row kernel timings, per type and per ISA the CPU supports:
//   vec_dot/<weight type>/<isa>/<n>   one weight row times a quantized activation row
//   quantize/<activation type>/<isa>/<n>   one activation row quantized
// Weight rows rotate through a ~4 MiB set (L2/L3 resident, like a matmul's rows streaming
// from cache); bytes_per_second counts weight bytes (vec_dot) or input floats (quantize).
//   matmul/<weight type>/<isa>/<tokens>/<path>   a 768 x 147456 matrix (113 MB in Q8_0,
//       larger than the caches) times `tokens` activation rows, through the type's gemm,
//       vec_dot one output at a time, or gemm_repacked8 (MatMulPath)
//   build-*/bin/kernels_bench --benchmark_filter=vec_dot/Q4_K
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "base/tensor_type.h"
#include "kernels/kernels.h"

namespace foundry {
namespace {

constexpr QuantType kWeightTypes[] = {
    QuantType::kF32,  QuantType::kF16,  QuantType::kBF16, QuantType::kQ4_0, QuantType::kQ4_1,
    QuantType::kQ5_0, QuantType::kQ8_0, QuantType::kQ4_K, QuantType::kQ5_K, QuantType::kQ6_K};
constexpr QuantType kActTypes[] = {QuantType::kQ8_0, QuantType::kQ8_1, QuantType::kQ8_K};
constexpr int64_t kSizes[] = {576, 1536, 2048, 4096};
constexpr size_t kWeightSetBytes = 4u << 20;

std::vector<float> Gaussian(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

void BenchVecDot(benchmark::State& state, QuantType type, Isa isa, int64_t n) {
  const TypeTraits* wt = FindTypeTraitsForIsa(type, isa);
  const TypeTraits* at = FindTypeTraitsForIsa(wt->vec_dot_type, isa);
  const TypeTraits* ref = FindRefTypeTraits(type);
  std::mt19937 rng(1);
  const size_t row_bytes = RowBytes(*wt, n);
  const size_t rows = std::max<size_t>(16, kWeightSetBytes / row_bytes);
  // Realistic weights: quantize Gaussian rows with the reference quantizer.
  std::vector<uint8_t> w(rows * row_bytes);
  const std::vector<float> src = Gaussian(n, rng);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<float> row = src;
    for (float& x : row) x *= 1.0f + 0.001f * static_cast<float>(r % 7);
    ref->quantize_row(row.data(), w.data() + r * row_bytes, n);
  }
  const std::vector<float> x = Gaussian(n, rng);
  std::vector<uint8_t> a(RowBytes(*at, n));
  at->quantize_row(x.data(), a.data(), n);
  size_t r = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(wt->vec_dot(n, w.data() + r * row_bytes, a.data()));
    if (++r == rows) r = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * row_bytes));
}

void BenchQuantize(benchmark::State& state, QuantType type, Isa isa, int64_t n) {
  const TypeTraits* at = FindTypeTraitsForIsa(type, isa);
  std::mt19937 rng(2);
  const std::vector<float> x = Gaussian(n, rng);
  std::vector<uint8_t> a(RowBytes(*at, n));
  for (auto _ : state) {
    at->quantize_row(x.data(), a.data(), n);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(float)));
}

// How BenchMatMul multiplies: the type's gemm, vec_dot per output, or gemm_repacked8 on weights
// repack_rows8 rewrote.
enum class MatMulPath { kGemm, kVecDot, kRepacked8 };
constexpr const char* kMatMulPathNames[] = {"gemm", "vec_dot", "repacked8"};

void BenchMatMul(benchmark::State& state, QuantType type, Isa isa, int64_t n_tokens,
                 MatMulPath path) {
  constexpr int64_t kIn = 768, kOut = 147456;  // a whole number of blocks of every type
  const TypeTraits* wt = FindTypeTraitsForIsa(type, isa);
  const TypeTraits* at = FindTypeTraitsForIsa(wt->vec_dot_type, isa);
  const TypeTraits* ref = FindRefTypeTraits(type);
  std::mt19937 rng(3);
  const size_t row_bytes = RowBytes(*wt, kIn), act_bytes = RowBytes(*at, kIn);
  std::vector<uint8_t> w(kOut * row_bytes);
  const std::vector<float> src = Gaussian(kIn, rng);
  for (int64_t r = 0; r < kOut; ++r) ref->quantize_row(src.data(), w.data() + r * row_bytes, kIn);
  std::vector<uint8_t> a(n_tokens * act_bytes);
  for (int64_t t = 0; t < n_tokens; ++t) {
    at->quantize_row(Gaussian(kIn, rng).data(), a.data() + t * act_bytes, kIn);
  }
  if (path == MatMulPath::kRepacked8) {
    std::vector<uint8_t> repacked(w.size());
    wt->repack_rows8(kIn, w.data(), row_bytes, kOut, repacked.data());
    w.swap(repacked);
  }
  std::vector<float> y(static_cast<size_t>(n_tokens * kOut));
  for (auto _ : state) {
    const GemmArgs args{kIn, w.data(), row_bytes, kOut, a.data(), act_bytes, n_tokens, y.data(), kOut};
    if (path == MatMulPath::kGemm) {
      wt->gemm(args);
    } else if (path == MatMulPath::kRepacked8) {
      wt->gemm_repacked8(args);
    } else {
      for (int64_t r = 0; r < kOut; ++r) {
        for (int64_t t = 0; t < n_tokens; ++t) {
          y[t * kOut + r] = wt->vec_dot(kIn, w.data() + r * row_bytes, a.data() + t * act_bytes);
        }
      }
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.size()));
}

void RegisterAll() {
  for (Isa isa : kAllIsas) {
    if (!IsaSupported(isa)) continue;
    const std::string isa_name(IsaName(isa));
    for (QuantType t : kWeightTypes) {
      for (int64_t n : kSizes) {
        if (n % static_cast<int64_t>(FindRefTypeTraits(t)->block_elems) != 0) continue;
        const std::string name =
            "vec_dot/" + std::string(QuantTypeName(t)) + "/" + isa_name + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), BenchVecDot, t, isa, n);
      }
    }
    for (QuantType t : kWeightTypes) {
      if (!FindTypeTraitsForIsa(t, isa)->gemm) continue;
      const TypeTraits* wt = FindTypeTraitsForIsa(t, isa);
      for (int64_t tokens : {1, 64}) {
        for (MatMulPath path :
             {MatMulPath::kGemm, MatMulPath::kVecDot, MatMulPath::kRepacked8}) {
          if (path == MatMulPath::kRepacked8 && !wt->repack_rows8) continue;
          const std::string name = "matmul/" + std::string(QuantTypeName(t)) + "/" + isa_name +
                                   "/" + std::to_string(tokens) + "/" +
                                   kMatMulPathNames[static_cast<int>(path)];
          benchmark::RegisterBenchmark(name.c_str(), BenchMatMul, t, isa, tokens, path);
        }
      }
    }
    for (QuantType t : kActTypes) {
      for (int64_t n : kSizes) {
        if (n % static_cast<int64_t>(FindRefTypeTraits(t)->block_elems) != 0) continue;
        const std::string name =
            "quantize/" + std::string(QuantTypeName(t)) + "/" + isa_name + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), BenchQuantize, t, isa, n);
      }
    }
  }
}

}  // namespace
}  // namespace foundry

int main(int argc, char** argv) {
  foundry::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
