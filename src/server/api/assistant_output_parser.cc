#include "server/api/assistant_output_parser.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace foundry {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kMistralArgs = "[ARGS]";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

// The length of the longest suffix of `text` that is a proper prefix of `marker`: text that
// may still become the marker.
size_t PartialMarkerSuffix(std::string_view text, std::string_view marker) {
  if (marker.empty()) return 0;
  for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n) {
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  }
  return 0;
}

std::string Dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

std::optional<ojson> ParseJson(std::string_view text) {
  ojson j = ojson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// {"name": …, "arguments"|"parameters": {…} or "{…}"} into a call; false when it is not one.
bool CallFromObject(const ojson& j, ParsedToolCall* out) {
  if (!j.is_object()) return false;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) return false;
  out->name = name->get<std::string>();
  auto args = j.find("arguments");
  if (args == j.end()) args = j.find("parameters");
  if (args == j.end() || args->is_null()) {
    out->arguments = "{}";
  } else if (args->is_object()) {
    out->arguments = Dump(*args);
  } else if (args->is_string()) {
    auto inner = ParseJson(args->get<std::string>());
    if (!inner || !inner->is_object()) return false;
    out->arguments = Dump(*inner);
  } else {
    return false;
  }
  return true;
}

// One object or a list of objects.
std::vector<ParsedToolCall> CallsFromJson(const ojson& j) {
  std::vector<ParsedToolCall> calls;
  if (j.is_array()) {
    if (j.empty()) return {};
    for (const ojson& item : j) {
      ParsedToolCall c;
      if (!CallFromObject(item, &c)) return {};
      calls.push_back(std::move(c));
    }
  } else {
    ParsedToolCall c;
    if (!CallFromObject(j, &c)) return {};
    calls.push_back(std::move(c));
  }
  return calls;
}

// A body of JSON objects separated by ';' or new lines (Llama 3's plain JSON calls).
std::vector<ParsedToolCall> CallsFromJsonText(std::string_view body) {
  body = Trim(body);
  if (auto j = ParseJson(body)) return CallsFromJson(*j);
  std::vector<ParsedToolCall> calls;
  size_t start = 0;
  for (size_t i = 0; i <= body.size(); ++i) {
    if (i < body.size() && body[i] != ';' && body[i] != '\n') continue;
    const std::string_view part = Trim(body.substr(start, i - start));
    if (part.empty()) {
      start = i + 1;
      continue;
    }
    auto j = ParseJson(part);
    if (!j) continue;  // a ';' or new line inside a string: keep extending the part
    start = i + 1;
    std::vector<ParsedToolCall> some = CallsFromJson(*j);
    if (some.empty()) return {};
    for (auto& c : some) calls.push_back(std::move(c));
  }
  // Every character must belong to a parsed part (the last one must have ended cleanly).
  if (calls.empty() || !IsBlank(body.substr(std::min(start, body.size())))) return {};
  return calls;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// Llama 3.1's built-in tool form after <|python_tag|>: name.call(key="value", n=1).
std::vector<ParsedToolCall> CallsFromPythonCall(std::string_view body) {
  body = Trim(body);
  const size_t open = body.find(".call(");
  if (open == std::string_view::npos || body.back() != ')') return {};
  ParsedToolCall c;
  c.name = std::string(body.substr(0, open));
  if (!IsIdentifier(c.name)) return {};
  std::string_view rest = body.substr(open + 6, body.size() - open - 7);
  ojson args = ojson::object();
  while (!Trim(rest).empty()) {
    rest = Trim(rest);
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return {};
    const std::string key(Trim(rest.substr(0, eq)));
    if (!IsIdentifier(key)) return {};
    rest = Trim(rest.substr(eq + 1));
    // The value runs to the next top-level comma; strings may hold commas.
    size_t end = 0;
    bool in_string = false;
    char quote = 0;
    for (; end < rest.size(); ++end) {
      const char ch = rest[end];
      if (in_string) {
        if (ch == '\\') {
          ++end;
        } else if (ch == quote) {
          in_string = false;
        }
      } else if (ch == '"' || ch == '\'') {
        in_string = true;
        quote = ch;
      } else if (ch == ',') {
        break;
      }
    }
    std::string value(Trim(rest.substr(0, end)));
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = "\"" + value.substr(1, value.size() - 2) + "\"";
    }
    auto v = ParseJson(value);
    if (!v) return {};
    args[key] = *v;
    rest = end < rest.size() ? rest.substr(end + 1) : std::string_view();
  }
  c.arguments = Dump(args);
  return {c};
}

// Mistral: [{"name", "arguments"}, …], or the newer name[ARGS]{…}, one per [TOOL_CALLS].
std::vector<ParsedToolCall> CallsFromMistral(std::string_view body, std::string_view marker) {
  std::vector<ParsedToolCall> calls;
  size_t start = 0;
  while (start <= body.size()) {
    size_t next = body.find(marker, start);
    const std::string_view part =
        Trim(body.substr(start, next == std::string_view::npos ? body.npos : next - start));
    if (!part.empty()) {
      std::vector<ParsedToolCall> some;
      if (const size_t a = part.find(kMistralArgs); a != std::string_view::npos) {
        ParsedToolCall c;
        c.name = std::string(Trim(part.substr(0, a)));
        auto args = ParseJson(part.substr(a + kMistralArgs.size()));
        if (!IsIdentifier(c.name) || !args || !args->is_object()) return {};
        c.arguments = Dump(*args);
        some.push_back(std::move(c));
      } else if (auto j = ParseJson(part)) {
        some = CallsFromJson(*j);
      }
      if (some.empty()) return {};
      for (auto& c : some) calls.push_back(std::move(c));
    }
    if (next == std::string_view::npos) break;
    start = next + marker.size();
  }
  return calls;
}

}  // namespace

std::vector<ParsedToolCall> ParseToolCallBody(ToolCallSyntax syntax, std::string_view body) {
  switch (syntax) {
    case ToolCallSyntax::kMistral:
      return CallsFromMistral(body, MarkupOf(syntax).open);
    case ToolCallSyntax::kLlama3: {
      std::vector<ParsedToolCall> calls = CallsFromJsonText(body);
      return calls.empty() ? CallsFromPythonCall(body) : calls;
    }
    case ToolCallSyntax::kNone:
    case ToolCallSyntax::kHermes:
    case ToolCallSyntax::kPhi4Mini:
      return CallsFromJsonText(body);
  }
  return {};
}

AssistantOutputParser::AssistantOutputParser(OutputParserOptions options)
    : options_(std::move(options)), markup_(MarkupOf(options_.syntax)) {
  if (options_.reasoning && options_.starts_in_reasoning) mode_ = Mode::kReasoning;
}

void AssistantOutputParser::Prime(std::string_view text) {
  std::vector<OutputEvent> ignored = Push(text);
  (void)ignored;
}

std::vector<OutputEvent> AssistantOutputParser::Push(std::string_view text) {
  pending_.append(text);
  std::vector<OutputEvent> out;
  Run(/*at_end=*/false, &out);
  return out;
}

std::vector<OutputEvent> AssistantOutputParser::Finish() {
  std::vector<OutputEvent> out;
  Run(/*at_end=*/true, &out);
  return out;
}

void AssistantOutputParser::Run(bool at_end, std::vector<OutputEvent>* out) {
  bool progressed = true;
  while (progressed) {
    progressed = false;
    switch (mode_) {
      case Mode::kContent:
        StepContent(at_end, &progressed, out);
        break;
      case Mode::kReasoning:
        StepReasoning(at_end, &progressed, out);
        break;
      case Mode::kCall:
        StepCall(at_end, &progressed, out);
        break;
    }
  }
}

void AssistantOutputParser::EmitText(OutputEvent::Kind kind, std::string text,
                                     std::vector<OutputEvent>* out) {
  if (kind == OutputEvent::Kind::kContent && trim_content_start_) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return;
    text.erase(0, first);
    trim_content_start_ = false;
  }
  if (text.empty()) return;
  if (kind == OutputEvent::Kind::kContent) answer_started_ = true;
  // Consecutive pieces of one kind merge into one event.
  if (!out->empty() && out->back().kind == kind && kind != OutputEvent::Kind::kToolCall) {
    out->back().text += text;
    return;
  }
  OutputEvent e;
  e.kind = kind;
  e.text = std::move(text);
  out->push_back(std::move(e));
}

void AssistantOutputParser::StepContent(bool at_end, bool* progressed,
                                        std::vector<OutputEvent>* out) {
  if (pending_.empty()) return;
  const bool calls = options_.parse_tool_calls;
  if (calls && !answer_started_) {
    bool wait = false;
    if (StartsBareCall(at_end, &wait)) {
      mode_ = Mode::kCall;
      *progressed = true;
      return;
    }
    if (wait) return;
  }
  size_t best = std::string::npos;
  std::string_view marker;
  auto consider = [&](std::string_view m) {
    const size_t at = pending_.find(m);
    if (at < best) {
      best = at;
      marker = m;
    }
  };
  if (calls) consider(markup_.open);
  if (options_.reasoning) consider(kThinkOpen);
  if (best != std::string::npos) {
    EmitText(OutputEvent::Kind::kContent, pending_.substr(0, best), out);
    pending_.erase(0, best + marker.size());
    if (marker == kThinkOpen) {
      mode_ = Mode::kReasoning;
    } else {
      call_open_ = std::string(marker);
      mode_ = Mode::kCall;
    }
    *progressed = true;
    return;
  }
  size_t hold = 0;
  if (!at_end) {
    if (calls) hold = std::max(hold, PartialMarkerSuffix(pending_, markup_.open));
    if (options_.reasoning) hold = std::max(hold, PartialMarkerSuffix(pending_, kThinkOpen));
  }
  EmitText(OutputEvent::Kind::kContent, pending_.substr(0, pending_.size() - hold), out);
  pending_.erase(0, pending_.size() - hold);
}

bool AssistantOutputParser::StartsBareCall(bool at_end, bool* wait) {
  constexpr std::string_view kFence = "```";
  // Llama 3 writes its calls as plain JSON; other families only by mistake, so for them the
  // JSON must name an offered function (checked in StepCall).
  if (options_.syntax != ToolCallSyntax::kLlama3 && options_.tool_names.empty()) return false;
  const size_t first = pending_.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    *wait = !at_end;  // only whitespace so far
    return false;
  }
  const std::string_view rest = std::string_view(pending_).substr(first);
  if (!at_end && rest.size() < kFence.size() && kFence.starts_with(rest)) {
    *wait = true;
    return false;
  }
  if (rest.front() != '{' && !rest.starts_with(kFence)) return false;
  pending_.erase(0, first);
  call_open_.clear();
  return true;
}

void AssistantOutputParser::StepReasoning(bool at_end, bool* progressed,
                                          std::vector<OutputEvent>* out) {
  if (pending_.empty()) return;
  const size_t close = pending_.find(kThinkClose);
  if (close != std::string::npos) {
    EmitText(OutputEvent::Kind::kReasoning, pending_.substr(0, close), out);
    pending_.erase(0, close + kThinkClose.size());
    mode_ = Mode::kContent;
    trim_content_start_ = true;
    *progressed = true;
    return;
  }
  const size_t hold = at_end ? 0 : PartialMarkerSuffix(pending_, kThinkClose);
  EmitText(OutputEvent::Kind::kReasoning, pending_.substr(0, pending_.size() - hold), out);
  pending_.erase(0, pending_.size() - hold);
}

void AssistantOutputParser::StepCall(bool at_end, bool* progressed, std::vector<OutputEvent>* out) {
  // Bare JSON and the close-less markups run to the end of the answer.
  const bool closed_by_marker = !call_open_.empty() && !markup_.close.empty();
  std::string_view close = closed_by_marker ? std::string_view(markup_.close) : "";
  size_t end = closed_by_marker ? pending_.find(close) : std::string::npos;
  if (end == std::string::npos && !at_end) return;  // wait for the rest of the call
  const bool found = end != std::string::npos;
  if (!found) {
    end = pending_.size();
    close = "";
  }
  const std::string body = pending_.substr(0, end);
  if (call_open_.empty() ? !EmitBareCalls(body, out) : !EmitCalls(body, out)) {
    // Not a call: the text comes back as content, markup included.
    EmitText(OutputEvent::Kind::kContent, call_open_ + body + std::string(close), out);
  }
  pending_.erase(0, end + close.size());
  call_open_.clear();
  mode_ = Mode::kContent;
  // Whitespace after a call (before the next one or the end) is not content.
  if (n_calls_ > 0) trim_content_start_ = true;
  *progressed = true;
}

bool AssistantOutputParser::EmitBareCalls(std::string_view body, std::vector<OutputEvent>* out) {
  std::string_view json = Trim(body);
  if (json.starts_with("```")) {  // a fenced block: ```json\n…\n```
    const size_t line = json.find('\n');
    if (line == std::string_view::npos || !json.ends_with("```") || json.size() < line + 4) {
      return false;
    }
    json = json.substr(line + 1, json.size() - line - 4);
  }
  std::vector<ParsedToolCall> calls = ParseToolCallBody(ToolCallSyntax::kLlama3, json);
  if (options_.syntax != ToolCallSyntax::kLlama3 || !options_.tool_names.empty()) {
    for (const ParsedToolCall& c : calls) {
      bool offered = false;
      for (const std::string& n : options_.tool_names) offered = offered || n == c.name;
      if (!offered) return false;
    }
  }
  return EmitParsed(std::move(calls), out);
}

bool AssistantOutputParser::EmitCalls(std::string_view body, std::vector<OutputEvent>* out) {
  return EmitParsed(ParseToolCallBody(options_.syntax, body), out);
}

bool AssistantOutputParser::EmitParsed(std::vector<ParsedToolCall> calls,
                                       std::vector<OutputEvent>* out) {
  if (calls.empty()) return false;
  for (ParsedToolCall& c : calls) {
    OutputEvent e;
    e.kind = OutputEvent::Kind::kToolCall;
    e.index = n_calls_++;
    c.id = options_.id_prefix + std::to_string(e.index);
    e.call = std::move(c);
    out->push_back(std::move(e));
  }
  return true;
}

}  // namespace foundry
