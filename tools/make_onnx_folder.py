"""An ONNX Runtime GenAI folder (what Olive writes for Foundry Local) from a llama/qwen2 GGUF:
tools/make_hf_folder.py writes a bf16 Hugging Face folder, the committed tokenizer fixtures
(tests/data/hf/<model>) are copied in, and onnxruntime-genai's model builder converts it
(`-p int4 -e cpu`: block-32 int4 MatMulNBits weights with f32 scales, lm_head included).

    python tools/make_onnx_folder.py GGUF FIXTURES OUT [--builder-python PY] [--tokenizer-only]

OUT/hf is the Hugging Face folder, OUT/onnx the ONNX one. The builder imports torch and
transformers, so PY is a python with tools/requirements-onnx.txt installed (default: this one).
"""
import argparse
import gzip
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The fixture files that describe the tokenizer alone (config.json and generation_config.json are
# the model's own).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def copy_fixtures(fixtures, dest, tokenizer_only=False):
    """Ungzips the committed transformers fixtures (tests/data/hf/<model>/*.gz) into `dest`, or
    only their TOKENIZER_FILES."""
    for name in os.listdir(fixtures):
        if name.endswith(".gz") and (not tokenizer_only or name[:-3] in TOKENIZER_FILES):
            with gzip.open(os.path.join(fixtures, name)) as f, open(os.path.join(dest, name[:-3]), "wb") as o:
                o.write(f.read())


def make_onnx_folder(gguf, fixtures, out, builder_python=sys.executable, tokenizer_only=False):
    """tokenizer_only: take only the tokenizer files from `fixtures` (a model of the same family
    with the same vocabulary); config.json and generation_config.json are then make_hf_folder's."""
    hf = os.path.join(out, "hf")
    onnx = os.path.join(out, "onnx")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_hf_folder.py"), gguf, hf,
                    "--dtype", "bf16"], check=True, stdout=subprocess.DEVNULL)
    copy_fixtures(fixtures, hf, tokenizer_only)
    subprocess.run([builder_python, "-m", "onnxruntime_genai.models.builder", "-i", hf, "-o", onnx,
                    "-p", "int4", "-e", "cpu"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return onnx


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("fixtures")
    ap.add_argument("out")
    ap.add_argument("--builder-python", default=sys.executable)
    ap.add_argument("--tokenizer-only", action="store_true",
                    help="take only the tokenizer files from FIXTURES")
    a = ap.parse_args()
    print(make_onnx_folder(a.gguf, a.fixtures, a.out, a.builder_python, a.tokenizer_only))
