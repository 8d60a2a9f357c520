#include "server/api/error.h"

#include <nlohmann/json.hpp>

#include "server/api/json_text.h"

namespace foundry {

ApiError InvalidRequest(std::string param, std::string message) {
  ApiError e;
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

ApiError ServerError(std::string message) {
  ApiError e;
  e.http = 500;
  e.type = "server_error";
  e.message = std::move(message);
  return e;
}

ApiError ServerBusy(std::string message) {
  ApiError e = ServerError(std::move(message));
  e.http = 503;
  e.code = "server_busy";
  return e;
}

ApiError ErrorFromStatus(const Status& st) {
  ApiError e;
  e.message = st.message();
  switch (st.code()) {
    case StatusCode::kOk:
    case StatusCode::kInvalidArgument:
    case StatusCode::kCorruptFile:
    case StatusCode::kUnimplemented:
      e.http = 400;
      break;
    case StatusCode::kNotFound:
      e.http = 404;
      e.code = "model_not_found";
      break;
    case StatusCode::kOutOfRange:
      e.http = 400;
      e.code = "context_length_exceeded";
      break;
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      e.http = 500;
      e.type = "server_error";
      break;
  }
  return e;
}

std::string ErrorBody(const ApiError& e) {
  using json = nlohmann::json;
  return JsonText(json{{"error",
                        {{"message", e.message},
                         {"type", e.type},
                         {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                         {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}});
}

}  // namespace foundry
