// Reusable scratch memory for forward passes: buffers only grow, so a steady stream of
// same-sized batches allocates nothing after the first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace foundry {

class Workspace {
 public:
  float* Floats(int slot, size_t n) { return Grow(floats_, slot, n); }
  uint8_t* Bytes(int slot, size_t n) { return Grow(bytes_, slot, n); }
  uint16_t* Halfs(int slot, size_t n) { return Grow(halfs_, slot, n); }

 private:
  template <typename T>
  static T* Grow(std::vector<std::vector<T>>& pool, int slot, size_t n) {
    if (pool.size() <= static_cast<size_t>(slot)) pool.resize(slot + 1);
    if (pool[slot].size() < n) pool[slot].resize(n);
    return pool[slot].data();
  }
  std::vector<std::vector<float>> floats_;
  std::vector<std::vector<uint8_t>> bytes_;
  std::vector<std::vector<uint16_t>> halfs_;
};

}  // namespace foundry
