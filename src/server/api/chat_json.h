// JSON (OpenAI-style messages and tool lists) to chat-template values. Lives at the service
// and CLI edge so the chat layer does not depend on nlohmann::json. Header-only; keeps key order
// (ordered_json) because templates can print dicts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/chat_template.h"
#include "chat/jinja_value.h"

namespace foundry {

inline StatusOr<jinja::Value> JsonToValue(const nlohmann::ordered_json& j, int depth = 0) {
  if (depth > 256) return InvalidArgument("JSON nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return jinja::Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return jinja::Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return jinja::Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return jinja::Value::Float(static_cast<double>(u));
      return jinja::Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return jinja::Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return jinja::Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<jinja::Value> items;
      for (const auto& e : j) {
        FOUNDRY_ASSIGN_OR_RETURN(jinja::Value v, JsonToValue(e, depth + 1));
        items.push_back(std::move(v));
      }
      return jinja::Value::MakeList(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      jinja::Value d = jinja::Value::MakeDict();
      int inner = 0;
      for (const auto& [k, e] : j.items()) {
        FOUNDRY_ASSIGN_OR_RETURN(jinja::Value v, JsonToValue(e, depth + 1));
        inner = std::max(inner, v.Depth());
        d.Set(k, std::move(v));
      }
      d.SetDepth(inner + 1);
      return d;
    }
    default:
      return InvalidArgument("unsupported JSON value");
  }
}

// A JSON array of {role, content, tool_calls?, tool_call_id?, name?, ...} objects.
inline StatusOr<std::vector<ChatMessage>> JsonToMessages(const nlohmann::ordered_json& j) {
  if (!j.is_array()) return InvalidArgument("messages must be a JSON array");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    const std::string where = "message " + std::to_string(i);
    if (!m.is_object()) return InvalidArgument(where + " is not a JSON object");
    if (!m.contains("role") || !m["role"].is_string()) {
      return InvalidArgument(where + " needs a string \"role\"");
    }
    ChatMessage msg;
    for (const auto& [k, e] : m.items()) {
      FOUNDRY_ASSIGN_OR_RETURN(jinja::Value v, JsonToValue(e));
      if (k == "role") {
        msg.role = e.get<std::string>();
      } else if (k == "content") {
        msg.content = std::move(v);
      } else if (k == "tool_calls") {
        msg.tool_calls = std::move(v);
      } else if (k == "tool_call_id" && e.is_string()) {
        msg.tool_call_id = e.get<std::string>();
      } else if (k == "name" && e.is_string()) {
        msg.name = e.get<std::string>();
      } else {
        msg.extra.emplace_back(k, std::move(v));
      }
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace foundry
