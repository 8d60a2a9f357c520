#include "cli/install_with_progress.h"

#include "cli/progress_bar.h"

namespace foundry::cli {

StatusOr<InstallResult> InstallWithProgress(const ModelCache& cache, const ModelVariant& v,
                                            const CatalogOptions& options) {
  ProgressBar bar;
  DownloadOptions opts;
  int64_t last_done = 0, last_total = -1;
  opts.progress = [&](int64_t done, int64_t total) {
    last_done = done;
    last_total = total;
    bar.Update(done, total);
  };
  auto r = InstallModel(cache, v, opts, options.home, options.pypi_index_url);
  // The last update may have been throttled: draw the final state once.
  if (last_done > 0) bar.Update(last_done, last_total, /*final=*/true);
  return r;
}

}  // namespace foundry::cli
