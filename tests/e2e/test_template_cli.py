"""End-to-end tests of `foundry template render`, against renders by Python jinja2 (HF's
configuration, as in tools/gen_chat_goldens.py)."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
SMOLLM2 = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
FIXTURES = os.path.join(ROOT, "tests", "data", "chat-templates", "published")
GOLDENS = json.load(open(os.path.join(ROOT, "tests", "golden", "data", "chat_templates.json"),
                        encoding="utf-8"))


def run(*args):
    return subprocess.run([FOUNDRY, "template", "render", *args], capture_output=True,
                          timeout=120)


def golden(template, conversation):
    for c in GOLDENS["cases"]:
        if c["template"] == template and c["conversation"] == conversation:
            return c
    raise KeyError((template, conversation))


def write_conversation(tmp_path, name):
    conv = GOLDENS["conversations"][name]
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps(conv["messages"], ensure_ascii=False), encoding="utf-8")
    args = ["--messages", str(messages)]
    if conv.get("tools") is not None:
        tools = tmp_path / "tools.json"
        tools.write_text(json.dumps(conv["tools"]), encoding="utf-8")
        args += ["--tools", str(tools)]
    if conv["add_generation_prompt"]:
        args.append("--add-generation-prompt")
    return args


@pytest.mark.parametrize("conversation", ["tool_call_round", "non_ascii", "prefill"])
def test_template_file_renders_exactly(tmp_path, conversation):
    name = "Qwen-Qwen2.5-7B-Instruct"
    args = write_conversation(tmp_path, conversation)
    r = run("--template", os.path.join(FIXTURES, name + ".jinja"), "--bos-token",
            GOLDENS["bos_token"], "--eos-token", GOLDENS["eos_token"], *args)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode("utf-8") == golden(name, conversation)["expected"]


def test_bos_and_eos_tokens_are_passed(tmp_path):
    name = "microsoft-Phi-3.5-mini-instruct"  # prints eos_token without a generation prompt
    args = write_conversation(tmp_path, "multi_turn_no_gen")
    r = run("--template", os.path.join(FIXTURES, name + ".jinja"), "--bos-token",
            GOLDENS["bos_token"], "--eos-token", GOLDENS["eos_token"], *args)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == golden(name, "multi_turn_no_gen")["expected"]
    assert r.stdout.decode().endswith(GOLDENS["eos_token"])


def test_model_template_and_no_added_newline(tmp_path):
    if not os.path.exists(SMOLLM2):
        pytest.skip("run `make models` first")
    args = write_conversation(tmp_path, "multi_turn")
    r = run("--model", SMOLLM2, *args)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == golden("SmolLM2-135M-Instruct", "multi_turn")["expected"]
    assert r.stdout.decode().endswith("<|im_start|>assistant\n")


def test_template_exception_exits_nonzero_with_its_message(tmp_path):
    name = "google-gemma-2-2b-it"
    args = write_conversation(tmp_path, "not_alternating")
    r = run("--template", os.path.join(FIXTURES, name + ".jinja"), *args)
    assert r.returncode != 0
    assert r.stdout == b""
    msg = golden(name, "not_alternating")["error"]
    assert msg == "Conversation roles must alternate user/assistant/user/assistant/..."
    assert msg in r.stderr.decode()


def test_syntax_error_names_line_and_column(tmp_path):
    bad = tmp_path / "bad.jinja"
    bad.write_text("line one\n{% if messages %}\n{{ messages[0].role + }}\n{% endif %}")
    messages = tmp_path / "m.json"
    messages.write_text('[{"role": "user", "content": "hi"}]')
    r = run("--template", str(bad), "--messages", str(messages))
    assert r.returncode != 0
    assert "line 3, column" in r.stderr.decode()


def test_bad_messages_json_is_an_error(tmp_path):
    messages = tmp_path / "m.json"
    messages.write_text('{"role": "user"}')
    r = run("--template", os.path.join(FIXTURES, "google-gemma-2-2b-it.jinja"), "--messages",
            str(messages))
    assert r.returncode != 0
    assert "array" in r.stderr.decode()
