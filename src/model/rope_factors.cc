#include "model/rope_factors.h"

#include <cmath>

#include "model/layers.h"

namespace foundry {

Status BindRopeFactors(const GgufFile& g, const std::string& name, int64_t n_rot, Tensor* t) {
  FOUNDRY_RETURN_IF_ERROR(BindVector(g, name, n_rot / 2, t, /*optional=*/true));
  if (t->empty()) return OkStatus();
  for (int64_t i = 0; i < t->ne[0]; ++i) {
    const float f = t->F32()[i];
    if (!(f > 0) || !std::isfinite(f)) {
      return CorruptFile("tensor '" + name + "' has a factor that is not a positive number");
    }
  }
  return OkStatus();
}

}  // namespace foundry
