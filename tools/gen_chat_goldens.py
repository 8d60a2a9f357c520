#!/usr/bin/env python3
"""Golden renders of chat templates with Python jinja2, configured as Hugging Face
transformers configures it for `apply_chat_template`:

  * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[AssistantTracker ({% generation %}), jinja2.ext.loopcontrols])
  * filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=None, separators=None,
    sort_keys=False) (NOT jinja2's HTML-safe tojson)
  * globals raise_exception (raises TemplateError(message)) and strftime_now (here pinned to
    a fixed UTC time so renders are reproducible)
  * render(messages=..., tools=<list or None>, documents=None, add_generation_prompt=...,
    bos_token=..., eos_token=...)

Templates: the model publishers' templates (tests/data/chat-templates/published/*.jinja, see
the README there), the templates extracted from the real GGUF models (tests/data/chat-templates/*.jinja; gemma-3-270m's GGUF carries none) and feature
templates (tests/data/chat-templates/features/*.jinja). Output:
tests/golden/data/chat_templates.json with every template source, every conversation and, per
(template, conversation), the expected render or jinja2's error message.

Usage: python3 tools/gen_chat_goldens.py [--extract-from-models]
"""
import argparse
import calendar
import datetime
import glob
import json
import os

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL = os.path.join(ROOT, "tests", "data", "chat-templates")
PUBLISHED = os.path.join(LOCAL, "published")
OUT = os.path.join(ROOT, "tests", "golden", "data", "chat_templates.json")
MODELS = {
    "SmolLM2-135M-Instruct": os.path.join(ROOT, ".cache", "models",
                                          "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma-3-270m": os.path.join(ROOT, ".cache", "models", "gemma-3-270m-Q4_K_M.gguf"),
    "qwen2.5-coder-0.5b-instruct": os.path.join(ROOT, ".cache", "models",
                                                "qwen2.5-coder-0.5b-instruct.gguf"),
}
NOW = datetime.datetime(2024, 7, 26, 9, 30, 15)
NOW_UNIX = calendar.timegm(NOW.timetuple())
BOS, EOS = "<s>", "</s>"


class AssistantTracker(Extension):
    """transformers' {% generation %} block: renders its body unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                     "description": "Temperature unit"}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "add",
        "description": "Add two numbers.",
        "parameters": {"type": "object", "properties": {
            "a": {"type": "number", "description": "First"},
            "b": {"type": "integer", "description": "Second"}},
            "required": ["a", "b"]}}},
]


def msg(role, content, **kw):
    m = {"role": role, "content": content}
    for k in ("tool_calls", "tool_call_id", "name"):
        if k in kw:
            m[k] = kw[k]
    return m


def call(cid, name, arguments):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


CONVERSATIONS = {
    "user_only": {"messages": [msg("user", "Hello!")], "add_generation_prompt": True},
    "system_user": {"messages": [msg("system", "You are terse."), msg("user", "What is 2+2?")],
                    "add_generation_prompt": True},
    "multi_turn": {"messages": [
        msg("system", "You are a helpful assistant."), msg("user", "Hi there."),
        msg("assistant", "Hello! How can I help?"), msg("user", "Tell me a joke.")],
        "add_generation_prompt": True},
    "multi_turn_no_gen": {"messages": [
        msg("user", "Hi there."), msg("assistant", "Hello!"), msg("user", "Bye.")],
        "add_generation_prompt": False},
    "prefill": {"messages": [msg("user", "Write a haiku."), msg("assistant", "Autumn moon")],
                "add_generation_prompt": False},
    "non_ascii": {"messages": [
        msg("user", "Grüß dich! 你好 🌍 — «ça va?»"), msg("assistant", "ありがとう ✓"),
        msg("user", "Ünïcödé\ttabs\nand newlines")], "add_generation_prompt": True},
    "whitespace": {"messages": [msg("system", "  spaced system  \n"),
                                msg("user", "\n  padded question \n\n")],
                   "add_generation_prompt": True},
    "think": {"messages": [msg("user", "Solve it."),
                           msg("assistant", "<think>\nreasoning\n</think>\n\nThe answer is 4."),
                           msg("user", "Thanks /no_think")], "add_generation_prompt": True},
    "tools": {"messages": [msg("system", "Use tools when needed."),
                           msg("user", "Weather in Paris?")],
              "tools": TOOLS, "add_generation_prompt": True},
    "tools_no_system": {"messages": [msg("user", "Add 2 and 3.")], "tools": TOOLS,
                        "add_generation_prompt": True},
    "tool_call_round": {"messages": [
        msg("user", "Weather in Paris?"),
        msg("assistant", None, tool_calls=[call("call00001", "get_weather",
                                                {"city": "Paris", "unit": "celsius"})]),
        msg("tool", "{\"temperature\": 21}", tool_call_id="call00001", name="get_weather"),
        msg("assistant", "It is 21 °C in Paris."), msg("user", "And Lyon?")],
        "tools": TOOLS, "add_generation_prompt": True},
    # As the service passes an OpenAI request: arguments parsed from the client's JSON string
    # into an object, content None beside tool_calls, the tool's name.
    "openai_agent_loop": {"messages": [
        msg("system", "You are a weather bot."), msg("user", "Weather in Paris and Lyon?"),
        msg("assistant", None, tool_calls=[call("call_7_0", "get_weather", {"city": "Paris"}),
                                           call("call_7_1", "get_weather",
                                                {"city": "Lyon", "unit": "celsius"})]),
        msg("tool", "Sunny, 21 °C.", tool_call_id="call_7_0", name="get_weather"),
        msg("tool", "{\"sky\": \"rain\"}", tool_call_id="call_7_1", name="get_weather"),
        msg("assistant", "Paris is sunny; Lyon has rain."), msg("user", "Thanks!")],
        "tools": TOOLS, "add_generation_prompt": True},
    "tool_call_string_args": {"messages": [
        msg("user", "Add 2 and 3."),
        msg("assistant", None, tool_calls=[call("call00002", "add", "{\"a\": 2, \"b\": 3}")]),
        msg("tool", "5", tool_call_id="call00002")], "add_generation_prompt": True},
    "two_tool_calls": {"messages": [
        msg("user", "Weather in Paris and Lyon?"),
        msg("assistant", None, tool_calls=[call("call00003", "get_weather", {"city": "Paris"}),
                                           call("call00004", "get_weather", {"city": "Lyon"})]),
        msg("tool", "sunny", tool_call_id="call00003"),
        msg("tool", "rainy", tool_call_id="call00004")],
        "tools": TOOLS, "add_generation_prompt": True},
    "not_alternating": {"messages": [msg("user", "One."), msg("user", "Two.")],
                        "add_generation_prompt": True},
    "empty": {"messages": [], "add_generation_prompt": True},
    "system_only": {"messages": [msg("system", "Only a system prompt.")],
                    "add_generation_prompt": False},
    "bad_role": {"messages": [msg("user", "Hi"), msg("narrator", "Meanwhile...")],
                 "add_generation_prompt": False},
}


def extract_model_templates():
    import gguf
    for name, path in MODELS.items():
        if not os.path.exists(path):
            print(f"skip {name}: {path} missing")
            continue
        r = gguf.GGUFReader(path)
        f = r.fields.get("tokenizer.chat_template")
        if f is None:
            print(f"{name}: no tokenizer.chat_template in the GGUF")
            continue
        text = bytes(f.parts[f.data[0]]).decode("utf-8")
        with open(os.path.join(LOCAL, name + ".jinja"), "w", encoding="utf-8") as out:
            out.write(text)
        print(f"{name}: extracted {len(text)} chars")


def load_templates():
    templates = {}
    for path in sorted(glob.glob(os.path.join(PUBLISHED, "*.jinja"))):
        templates[os.path.basename(path)[:-6]] = open(path, encoding="utf-8").read()
    for path in sorted(glob.glob(os.path.join(LOCAL, "*.jinja"))):
        templates[os.path.basename(path)[:-6]] = open(path, encoding="utf-8").read()
    for path in sorted(glob.glob(os.path.join(LOCAL, "features", "*.jinja"))):
        templates["feature-" + os.path.basename(path)[:-6]] = open(path, encoding="utf-8").read()
    return templates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extract-from-models", action="store_true")
    args = ap.parse_args()
    if args.extract_from_models:
        extract_model_templates()
    env = make_env()
    templates = load_templates()
    cases = []
    for tname, source in templates.items():
        try:
            tmpl = env.from_string(source)
        except jinja2.TemplateSyntaxError as e:
            raise SystemExit(f"{tname}: jinja2 cannot parse it: {e}")
        convs = CONVERSATIONS
        for cname, conv in convs.items():
            case = {"template": tname, "conversation": cname}
            try:
                case["expected"] = tmpl.render(messages=json.loads(json.dumps(conv["messages"])),
                                               tools=conv.get("tools"), documents=None,
                                               add_generation_prompt=conv["add_generation_prompt"],
                                               bos_token=BOS, eos_token=EOS)
            except Exception as e:  # noqa: BLE001 - every jinja2 failure becomes a golden
                case["error"] = str(e)
                case["error_type"] = type(e).__name__
            cases.append(case)
    data = {
        "generator": "tools/gen_chat_goldens.py",
        "jinja2_version": jinja2.__version__,
        "now_unix_seconds": NOW_UNIX,
        "bos_token": BOS,
        "eos_token": EOS,
        "templates": templates,
        "conversations": CONVERSATIONS,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n_err = sum("error" in c for c in cases)
    print(f"wrote {OUT}: {len(templates)} templates, {len(cases)} cases ({n_err} errors)")


if __name__ == "__main__":
    main()
