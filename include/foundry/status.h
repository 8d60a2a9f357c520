// Status and StatusOr: expected failures travel as values with a message a user can act on.
// Public: the engine API (foundry/engine.h) returns them; the whole project uses them.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace foundry {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input or request
  kNotFound,         // missing file or model
  kCorruptFile,      // a file whose contents break the format
  kOutOfRange,       // e.g. prompt longer than the context
  kIoError,
  kUnimplemented,    // valid input we do not support (yet): an unknown architecture
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status CorruptFile(std::string m) { return {StatusCode::kCorruptFile, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from OK");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace foundry

// Propagate a failed Status from the enclosing function.
#define FOUNDRY_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::foundry::Status _st = (expr);          \
    if (!_st.ok()) return _st;               \
  } while (0)

#define FOUNDRY_CONCAT_INNER(a, b) a##b
#define FOUNDRY_CONCAT(a, b) FOUNDRY_CONCAT_INNER(a, b)
// Declares `lhs` from a StatusOr, or returns its error.
#define FOUNDRY_ASSIGN_OR_RETURN(lhs, expr)                         \
  auto FOUNDRY_CONCAT(_sor_, __LINE__) = (expr);                    \
  if (!FOUNDRY_CONCAT(_sor_, __LINE__).ok())                        \
    return FOUNDRY_CONCAT(_sor_, __LINE__).status();                \
  lhs = std::move(FOUNDRY_CONCAT(_sor_, __LINE__)).value()
