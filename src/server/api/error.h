// OpenAI-shaped errors: the HTTP status and {"error": {"message", "type", "param", "code"}}.
// Every route of the service answers its errors in this shape (Foundry Local's routes too).
#pragma once

#include <string>

#include "base/status.h"

namespace foundry {

struct ApiError {
  int http = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the request field at fault ("" for none: null in JSON)
  std::string code;   // e.g. model_not_found ("" for none: null in JSON)
};

// A 400 invalid_request_error about one request field.
ApiError InvalidRequest(std::string param, std::string message);
// A 500 server_error.
ApiError ServerError(std::string message);
// A 503 server_error with code server_busy (the client should retry).
ApiError ServerBusy(std::string message);
// The HTTP status, type and code for a Status from the layers below (NotFound: 404
// model_not_found, OutOfRange: 400 context_length_exceeded, IoError/Internal: 500).
ApiError ErrorFromStatus(const Status& st);

// The JSON text of an error answer.
std::string ErrorBody(const ApiError& e);

}  // namespace foundry
