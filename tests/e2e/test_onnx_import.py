"""ONNX Runtime GenAI folders (what Olive writes for Foundry Local), built in the test from the
SmolLM2 GGUF with onnxruntime-genai's model builder (tools/make_onnx_folder.py):
* the tutorial's part 3: the folder placed under the directory given to `foundry cache cd`,
  `foundry cache ls` shows its name, `foundry model run NAME --verbose` answers (imported on
  first use, the GGUF kept in the folder);
* `foundry model compile ONNX_DIR`: every int4 MatMulNBits weight lands in the GGUF without
  requantizing (the Q4_0 blocks dequantize to exactly ONNX Runtime's (q - 8) * scale values),
  and greedy continuations are compared with onnxruntime-genai's
  (tests/golden/data/onnx_import_smollm2.json from tools/gen_onnx_goldens.py);
* the issue's acceptance on Qwen2.5-Coder-1.5B: the tutorial's part 3 on its int4 folder, then
  greedy continuations equal onnxruntime-genai's on >= 7 of 8 prompts and every first token
  (tests/golden/data/onnx_import_qwen2.5-coder-1.5b.json);
* bad folders fail with one line and leave nothing behind.
The builder needs tools/requirements-onnx.txt (torch CPU, transformers, onnxruntime-genai):
FOUNDRY_ONNX_PYTHON names a python that has it, else this python or .cache/peer/venv-hf."""
import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isolated_home import isolated_home  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_onnx_folder import make_onnx_folder  # noqa: E402

FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
SMOL_GGUF = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
SMOL_FIXTURES = os.path.join(ROOT, "tests", "data", "hf", "SmolLM2-135M-Instruct")
GOLDEN = os.path.join(ROOT, "tests", "golden", "data", "onnx_import_smollm2.json")


def builder_python():
    if os.environ.get("FOUNDRY_ONNX_PYTHON"):
        return os.environ["FOUNDRY_ONNX_PYTHON"]
    if importlib.util.find_spec("onnxruntime_genai") and importlib.util.find_spec("torch"):
        return sys.executable
    venv = os.path.join(ROOT, ".cache", "peer", "venv-hf", "bin", "python")
    return venv if os.path.exists(venv) else None


pytestmark = [
    pytest.mark.skipif(not os.path.exists(SMOL_GGUF), reason="SmolLM2 GGUF not downloaded (make models)"),
    pytest.mark.skipif(builder_python() is None,
                       reason="onnxruntime-genai's builder is not installed (tools/requirements-onnx.txt)"),
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    return make_onnx_folder(SMOL_GGUF, SMOL_FIXTURES, str(tmp_path_factory.mktemp("onnx")),
                            builder_python())


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("onnx-home")
    with isolated_home(FOUNDRY, h) as env:
        yield h, env


def foundry(env, *args, timeout=300, cwd=None):
    return subprocess.run([FOUNDRY, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd)


def tutorial_part3(env, tmp_path, place, folder_name, alias):
    """The tutorial's part 3: `foundry cache cd` a models directory, `place(folder)` puts the ONNX
    folder there, an inference_model.json names it ALIAS, `cache ls` shows it and `model run ALIAS
    --verbose` answers. Returns (the folder, the run). `model run` samples (the service's default
    temperature, as Foundry Local's), so its text only has to be there."""
    env.pop("FOUNDRY_CACHE_DIR", None)  # the cache is the one `foundry cache cd` names
    models = tmp_path / "models"
    models.mkdir()
    assert foundry(env, "cache", "cd", str(models)).returncode == 0
    folder = models / folder_name
    place(folder)
    (folder / "inference_model.json").write_text(json.dumps({"Name": alias, "PromptTemplate": None}))
    ls = foundry(env, "cache", "ls")
    assert ls.returncode == 0 and alias in ls.stdout, ls.stdout + ls.stderr
    run = foundry(env, "model", "run", alias, "What is the capital of France?", "--verbose",
                  "--max-tokens", "16", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[2] == "🟢 Model %s loaded successfully" % alias and "\n".join(lines[3:]).strip(), run.stdout
    return folder, run


def test_tutorial_part3_onnx_folder_in_the_cache(home, onnx_dir, tmp_path):
    env = dict(home[1])  # the tutorial drops this module's FOUNDRY_CACHE_DIR from it
    folder, run = tutorial_part3(env, tmp_path, lambda f: shutil.copytree(onnx_dir, f),
                                 "smollm2-135m-instruct-onnx", "smollm2-onnx")
    # The answer itself, greedy, on the service `model run` started.
    url = re.search(r"Service is Started on (http://\S+?)/?, PID", run.stdout).group(1)
    greedy = requests.post(url + "/v1/chat/completions", timeout=300, json={
        "model": "smollm2-onnx", "temperature": 0, "max_tokens": 16,
        "messages": [{"role": "user", "content": "What is the capital of France?"}]}).json()
    assert "Paris" in greedy["choices"][0]["message"]["content"], greedy
    imported = folder / "foundry-import.gguf"
    assert imported.is_file()
    mtime = imported.stat().st_mtime_ns
    again = foundry(env, "model", "run", "smollm2-onnx", "Hi", "--max-tokens", "4", timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert imported.stat().st_mtime_ns == mtime  # kept: later runs load the GGUF
    assert [p.name for p in folder.iterdir() if ".importing" in p.name] == []
    foundry(env, "service", "stop")


QWEN15_GGUF = os.path.join(ROOT, ".cache", "models", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
QWEN15_GOLDEN = os.path.join(ROOT, "tests", "golden", "data", "onnx_import_qwen2.5-coder-1.5b.json")


def greedy_agreement(env, model, golden_path):
    """(full, first, prefix): how many of the golden's onnxruntime-genai continuations `foundry
    generate` repeats whole, how many it starts with the same token, and how many of all their
    tokens it repeats before its first different one."""
    full = first = prefix = 0
    for case in json.load(open(golden_path))["cases"]:
        g = foundry(env, "generate", str(model), "--prompt", case["prompt"], "--raw", "--temperature",
                    "0", "--max-tokens", str(len(case["greedy"])), "--json", timeout=600)
        assert g.returncode == 0, g.stderr
        out = json.loads(g.stdout)
        assert out["prompt_tokens"] == case["input_ids"], case["prompt"]
        got = out["completion_tokens"]
        full += got == case["greedy"]
        first += got[:1] == case["greedy"][:1]
        prefix += next((i for i, (a, b) in enumerate(zip(got, case["greedy"])) if a != b),
                       min(len(got), len(case["greedy"])))
    print("greedy agreement with onnxruntime-genai: %d/%d full, %d first tokens, %d tokens before"
          " the first difference" % (full, len(json.load(open(golden_path))["cases"]), first, prefix))
    return full, first, prefix


# The acceptance on a Qwen2.5 model: the tutorial's part 3 with an int4 ONNX folder of
# Qwen2.5-Coder-1.5B (its HF folder from the Q4_K_M GGUF, 0.5B's tokenizer files: the same
# vocabulary), then greedy continuations of 8 prompts × 32 tokens compared with
# onnxruntime-genai's (tests/golden/data/onnx_import_qwen2.5-coder-1.5b.json, from
# tools/gen_onnx_goldens.py qwen2.5-coder-1.5b). A 3 GB folder and the builder's minutes: too
# slow for the sanitizer builds, where SmolLM2 covers the same code.
@pytest.mark.skipif(not os.path.exists(QWEN15_GGUF), reason="Qwen2.5-Coder-1.5B not downloaded (make models)")
@pytest.mark.skipif("build-asan" in FOUNDRY, reason="skipped against the ASan build")
def test_tutorial_part3_qwen2_5_coder_1_5b_greedy_equals_onnxruntime_genai(tmp_path):
    try:
        check_qwen_1_5b_tutorial(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # 4 GB that pytest would otherwise keep


def check_qwen_1_5b_tutorial(tmp_path):
    src = make_onnx_folder(QWEN15_GGUF, os.path.join(ROOT, "tests", "data", "hf", "qwen2.5-coder-0.5b-instruct"),
                           str(tmp_path / "build"), builder_python(), tokenizer_only=True)
    shutil.rmtree(tmp_path / "build" / "hf")  # 3 GB of bf16 no longer needed
    with isolated_home(FOUNDRY, tmp_path / "home") as env:
        folder, _ = tutorial_part3(env, tmp_path, lambda f: shutil.move(src, f),
                                   "qwen2.5-coder-1.5b-instruct-onnx", "qwen-onnx")
        foundry(env, "service", "stop")
        full, first, _ = greedy_agreement(env, folder / "foundry-import.gguf", QWEN15_GOLDEN)
    print("Qwen2.5-Coder-1.5B greedy agreement with onnxruntime-genai: %d/8 full, %d/8 first" % (full, first))
    assert first == 8 and full >= 7, (full, first)  # the bar: >= 80% full, every first token


def test_compile_is_lossless_and_greedy_is_compared_with_onnxruntime_genai(home, onnx_dir):
    import gguf
    from gguf.quants import dequantize
    h, env = home
    r = foundry(env, "model", "compile", onnx_dir, "--name", "smol-onnx")
    assert r.returncode == 0, r.stdout + r.stderr
    model = h / "cache" / "smol-onnx" / "smol-onnx.gguf"
    tensors = {t.name: t for t in gguf.GGUFReader(str(model)).tensors}
    assert "output.weight" not in tensors  # tied: the lm_head's bytes are the embedding's
    # MatMulNBits bytes straight from model.onnx.data: the builder writes the initializers in
    # order, each at an offset its ONNX graph names; the down projection of layer 0 is checked
    # against its dequantized ONNX values by reading the external data the GGUF was made from.
    pyv = builder_python()
    script = (
        "import onnx, numpy as np, sys, os\n"
        "d = sys.argv[1]\n"
        "m = onnx.load(os.path.join(d, 'model.onnx'), load_external_data=False)\n"
        "raw = np.memmap(os.path.join(d, 'model.onnx.data'), dtype=np.uint8, mode='r')\n"
        "def get(n):\n"
        "    t = [t for t in m.graph.initializer if t.name == n][0]\n"
        "    e = {x.key: x.value for x in t.external_data}\n"
        "    return raw[int(e['offset']):int(e['offset']) + int(e['length'])], list(t.dims)\n"
        "out = {}\n"
        "for p in ['model.layers.0.mlp.down_proj', 'model.layers.0.attn.qkv_proj', 'lm_head']:\n"
        "    w, (n, nb, _) = get(p + '.MatMul.weight_Q4')\n"
        "    s = get(p + '.MatMul.weight_scales')[0].view(np.float32).reshape(n, nb)\n"
        "    w = w.reshape(n, nb, 16)\n"
        "    q = np.stack([w & 15, w >> 4], -1).reshape(n, nb, 32).astype(np.float32)\n"
        "    np.save(os.path.join(sys.argv[2], p + '.npy'), ((q - 8) * s[:, :, None]).reshape(n, nb * 32))\n")
    tmp = h / "onnx-weights"
    tmp.mkdir(exist_ok=True)
    subprocess.run([pyv, "-c", script, onnx_dir, str(tmp)], check=True)

    def ours(name):
        t = tensors[name]
        return dequantize(t.data, t.tensor_type).reshape(int(t.shape[1]), int(t.shape[0]))

    down = np.load(tmp / "model.layers.0.mlp.down_proj.npy")
    # Q4_0 keeps the scale as f16: the values agree to the scale's rounding (2^-11 relative).
    assert np.allclose(ours("blk.0.ffn_down.weight"), down, rtol=2 ** -10, atol=0)
    qkv = np.load(tmp / "model.layers.0.attn.qkv_proj.npy")
    assert np.allclose(ours("blk.0.attn_v.weight"), qkv[576 + 192:], rtol=2 ** -10, atol=0)
    # llama's Q rows permuted to GGUF's interleaved RoPE layout, as convert_hf_to_gguf.py does.
    q = qkv[:576].reshape(9, 2, 32, 576).swapaxes(1, 2).reshape(576, 576)
    assert np.allclose(ours("blk.0.attn_q.weight"), q, rtol=2 ** -10, atol=0)
    assert np.allclose(ours("token_embd.weight"), np.load(tmp / "lm_head.npy"), rtol=2 ** -10, atol=0)

    full, first, prefix = greedy_agreement(env, model, GOLDEN)
    # Measured on the build host (docs/byom.md), of 8 x 32 tokens: with the AVX2 kernels (Q4_0
    # repacked in llama.cpp's repacked order; AVX-512, the default where the CPU has it, takes
    # the same Q4_0 kernels) 0/8 full, 8/8 first and 99 tokens before the first difference;
    # 4/8, 7/8, 181 in the file's layout (FOUNDRY_REPACK=0); 1/8, 6/8, 105 with scalar kernels:
    # the weights are identical (above) and the engine's own summation orders disagree with each
    # other on this small model's near-ties. The floor below holds for all three (a real bug, such as a wrong
    # RoPE layout, leaves a few tokens); the bar (7/8 full, 8/8 first) is not met by so
    # small a model (Qwen2.5-Coder-0.5B, by hand: 6/8 full, 8/8 first); the 1.5B test above
    # holds it.
    assert first >= 6 and prefix >= 80, (full, first, prefix)


def expect_error(env, args, needle, cache):
    before = sorted(os.listdir(cache)) if os.path.exists(cache) else []
    r = foundry(env, "model", "compile", *args)
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert (sorted(os.listdir(cache)) if os.path.exists(cache) else []) == before


def test_bad_onnx_folders_fail_with_one_line_and_leave_nothing(home, onnx_dir, tmp_path):
    h, env = home
    cache = h / "cache"

    def copy(name):
        return str(shutil.copytree(onnx_dir, tmp_path / name))

    d = copy("no-model")
    os.remove(os.path.join(d, "model.onnx"))
    expect_error(env, [d], "model.onnx is missing", cache)
    d = copy("no-data")
    os.remove(os.path.join(d, "model.onnx.data"))
    expect_error(env, [d], "model.onnx.data (the model's external data) is missing", cache)
    d = copy("truncated")
    with open(os.path.join(d, "model.onnx.data"), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(d, "model.onnx.data")) // 2)
    expect_error(env, [d], "truncated file?", cache)
    d = copy("corrupt")
    with open(os.path.join(d, "model.onnx"), "r+b") as f:
        f.truncate(1000)
    expect_error(env, [d], "corrupt or truncated protobuf", cache)
    d = copy("no-config")  # not recognised as ONNX: the Hugging Face route says what it lacks
    os.remove(os.path.join(d, "genai_config.json"))
    expect_error(env, [d], "config.json is missing", cache)
    # An op the importer does not know, and unsupported bits / block sizes: the graph rewritten.
    pyv = builder_python()
    rewrite = (
        "import onnx, sys\n"
        "p = sys.argv[1]\n"
        "m = onnx.load(p, load_external_data=False)\n"
        "for n in m.graph.node:\n"
        "    if sys.argv[2] == 'op' and n.op_type == 'Sigmoid':\n"
        "        n.op_type = 'Gelu'; break\n"
        "    if sys.argv[2] != 'op' and n.op_type == 'MatMulNBits':\n"
        "        for a in n.attribute:\n"
        "            if a.name == sys.argv[2]: a.i = int(sys.argv[3])\n"
        "        break\n"
        "onnx.save(m, p)\n")
    for name, args, needle in [
        ("op", ["op"], "unsupported ONNX op pattern: Gelu node '/model/layers.0/mlp/act_fn/Sigmoid'"),
        ("bits", ["bits", "8"], "8-bit weights; only 4-bit are imported"),
        ("block", ["block_size", "64"], "block_size 64; only 32 maps onto Q4_0/Q4_1"),
    ]:
        d = copy(name)
        subprocess.run([pyv, "-c", rewrite, os.path.join(d, "model.onnx"), *args], check=True)
        expect_error(env, [d, "--name", name], needle, cache)
    expect_error(env, [onnx_dir, "--quant", "q8_0"], "--quant does not apply to an ONNX folder", cache)


def test_prompt_template_becomes_the_chat_template(home, onnx_dir, tmp_path):
    """A folder without a chat template of its own: inference_model.json's PromptTemplate
    (Foundry Local's format) renders the conversation."""
    h, env = home
    d = shutil.copytree(onnx_dir, tmp_path / "pt")
    os.remove(d / "chat_template.jinja")
    pt = {"system": "<|im_start|>system\n{Content}<|im_end|>\n",
          "user": "<|im_start|>user\n{Content}<|im_end|>\n",
          "assistant": "<|im_start|>assistant\n{Content}<|im_end|>\n",
          "prompt": "<|im_start|>user\n{Content}<|im_end|>\n<|im_start|>assistant\n"}
    (d / "inference_model.json").write_text(json.dumps({"Name": "pt", "PromptTemplate": pt}))
    r = foundry(env, "model", "compile", str(d), "--name", "pt-model")
    assert r.returncode == 0, r.stdout + r.stderr
    msgs = tmp_path / "messages.json"
    msgs.write_text(json.dumps([{"role": "system", "content": 'Be "brief".'},
                                {"role": "user", "content": "Hi"},
                                {"role": "assistant", "content": "Hello"},
                                {"role": "user", "content": "Bye"}]))
    r = foundry(env, "template", "render", "--model", str(h / "cache" / "pt-model" / "pt-model.gguf"),
                "--messages", str(msgs), "--add-generation-prompt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ('<|im_start|>system\nBe "brief".<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n'
                        "<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
                        "<|im_start|>assistant\n"), r.stdout
