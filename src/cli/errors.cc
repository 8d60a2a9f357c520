#include <cstdio>

#include "cli/commands.h"

namespace foundry::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 2;
    case StatusCode::kNotFound:
      return 3;
    case StatusCode::kCorruptFile:
      return 4;
    case StatusCode::kOutOfRange:
      return 5;
    case StatusCode::kIoError:
      return 6;
    case StatusCode::kUnimplemented:
      return 7;
    case StatusCode::kInternal:
      return 70;
  }
  return 1;
}

}  // namespace foundry::cli
