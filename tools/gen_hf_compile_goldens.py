#!/usr/bin/env python3
"""Golden data for `foundry model compile` on a real Hugging Face folder (test oracles).

1. llama.cpp's converter (convert_hf_to_gguf.py of the pinned llama-cpp-python 0.3.36 source
   tree) with --outtype f16 and q8_0, and its llama-quantize (.cache/peer/build-0.3.36) from
   that f16 file to q4_0 and q4_1: for every tensor its name, type, shape and the sha256 of its
   bytes. The compile route must write byte-identical tensors for these types.
2. transformers (torch CPU, float32) on the same folder: for 5 prompts the prompt's token ids,
   the top-1 token at every position (teacher forced) with its margin over the runner-up, and a
   16-token greedy continuation. An f32 compile must agree on every top-1 (the margins show how
   close a tie was).
3. llama.cpp (llama-cpp-python 0.3.36 of .cache/peer/venv-avx2, run as a subprocess of this
   script with --llama-greedy) on the converter's q8_0 file: the same 16-token greedy
   continuations, token by token after the prompt as one batch. A q8_0 compile must equal them.

Writes tests/golden/data/hf_compile_<model>.json for SmolLM2-135M-Instruct (hf_compile_smollm2)
and qwen2.5-coder-0.5b-instruct.

  .cache/peer/venv-hf/bin/python tools/make_hf_reference_folders.py   # the folders, first
  .cache/peer/venv-hf/bin/python tools/gen_hf_compile_goldens.py [--model qwen2.5-coder-0.5b-instruct]

--model gemma-3-270m: the Gemma 3 270M folder that tools/make_hf_folder.py writes from
.cache/models/gemma-3-270m-Q4_K_M.gguf (bf16 weights, a SentencePiece tokenizer.model built
from the GGUF's vocabulary): f16, q8_0 and llama-quantize's q4_0 and q4_k_m, plus the
vocabulary keys (tokens, scores and types as sha256, special ids and flags); writes
tests/golden/data/hf_compile_gemma3.json.

  .cache/peer/venv-hf/bin/python tools/make_hf_folder.py .cache/models/gemma-3-270m-Q4_K_M.gguf \
      .cache/hf/gemma-3-270m --dtype bf16
  .cache/peer/venv-hf/bin/python tools/gen_hf_compile_goldens.py --model gemma-3-270m
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLAMA_CPP = os.path.join(ROOT, ".cache", "peer", "llama_cpp_python-0.3.36", "vendor", "llama.cpp")
QUANTIZE = os.path.join(ROOT, ".cache", "peer", "build-0.3.36", "bin", "llama-quantize")
LLAMA_PYTHON = os.path.join(ROOT, ".cache", "peer", "venv-avx2", "bin", "python")
# model folder under .cache/hf -> golden file name
GOLDENS = {
    "SmolLM2-135M-Instruct": "hf_compile_smollm2.json",
    "qwen2.5-coder-0.5b-instruct": "hf_compile_qwen2.5-coder-0.5b.json",
    "gemma-3-270m": "hf_compile_gemma3.json",  # tools/make_hf_folder.py's folder, not HF's
}
GEMMA3 = "gemma-3-270m"
PROMPTS = [
    "The capital city of France is",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Q: What is 12 times 7?\nA:",
    "<|im_start|>user\nName three primary colors.<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time, in a small village by the sea,",
]
CONTINUATION = 16


def tensor_table(gguf_path):
    sys.path.insert(0, os.path.join(LLAMA_CPP, "gguf-py"))
    import gguf

    reader = gguf.GGUFReader(gguf_path)
    out = []
    for t in reader.tensors:
        out.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(x) for x in t.shape],  # GGUF order: fastest-varying first
            "sha256": hashlib.sha256(t.data.tobytes()).hexdigest(),
        })
    return out


def vocab_table(gguf_path):
    sys.path.insert(0, os.path.join(LLAMA_CPP, "gguf-py"))
    import gguf

    out = {}
    for key, field in gguf.GGUFReader(gguf_path).fields.items():
        if not key.startswith("tokenizer."):
            continue
        value = field.contents()
        if isinstance(value, list):
            value = hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()
        out[key] = value
    return out


def convert(folder, outtype, out):
    subprocess.run([sys.executable, os.path.join(LLAMA_CPP, "convert_hf_to_gguf.py"),
                    "--outtype", outtype, "--outfile", out, folder], check=True,
                   stdout=subprocess.DEVNULL)


def quantize(src, dst, qtype):
    subprocess.run([QUANTIZE, src, dst, qtype], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def logits_oracle(folder):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    results = []
    with torch.no_grad():
        for prompt in PROMPTS:
            ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
            logits = model(torch.tensor([ids])).logits[0]
            top2 = torch.topk(logits, 2, dim=-1)
            generated = model.generate(torch.tensor([ids]), max_new_tokens=CONTINUATION,
                                       do_sample=False, num_beams=1,
                                       attention_mask=torch.ones(1, len(ids), dtype=torch.long))
            results.append({
                "prompt": prompt,
                "input_ids": ids,
                "top1": top2.indices[:, 0].tolist(),
                "top1_margin": [round(float(m), 4) for m in
                                (top2.values[:, 0] - top2.values[:, 1]).tolist()],
                "greedy": generated[0, len(ids):].tolist(),
            })
    return results


def llama_greedy(model_path, prompts_ids):
    """Runs in the llama-cpp-python venv: each prompt evaluated as one batch, then CONTINUATION
    argmax tokens fed one at a time (ties to the lowest id)."""
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=model_path, n_ctx=512, n_batch=512, n_threads=2, logits_all=True,
                seed=0, verbose=False)
    out = []
    for ids in prompts_ids:
        llm.reset()
        llm.eval(ids)
        tokens = []
        for _ in range(CONTINUATION):
            tok = int(np.argmax(np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)))
            tokens.append(tok)
            llm.eval([tok])
        out.append(tokens)
    return out


def llama_greedy_subprocess(model_path, prompts_ids):
    r = subprocess.run([LLAMA_PYTHON, os.path.abspath(__file__), "--llama-greedy", model_path],
                       input=json.dumps(prompts_ids), capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="SmolLM2-135M-Instruct", choices=sorted(GOLDENS))
    ap.add_argument("--folder", help="default: .cache/hf/MODEL")
    ap.add_argument("--out", help="default: tests/golden/data/<the model's golden>")
    ap.add_argument("--llama-greedy", metavar="GGUF",
                    help="internal: prompt ids (JSON on stdin) -> llama.cpp greedy tokens")
    args = ap.parse_args()
    if args.llama_greedy:
        json.dump(llama_greedy(args.llama_greedy, json.load(sys.stdin)), sys.stdout)
        return
    gemma3 = args.model == GEMMA3
    folder = args.folder or os.path.join(ROOT, ".cache", "hf", args.model)
    out_path = args.out or os.path.join(ROOT, "tests", "golden", "data", GOLDENS[args.model])
    golden = {
        "generator": "tools/gen_hf_compile_goldens.py (llama-cpp-python 0.3.36 "
                     "convert_hf_to_gguf.py + llama-quantize; transformers float32)" if gemma3 else
                     "tools/gen_hf_compile_goldens.py (llama-cpp-python 0.3.36 "
                     "convert_hf_to_gguf.py + llama-quantize; transformers float32; "
                     "llama.cpp greedy on the converted q8_0)",
        "folder": f".cache/hf/{args.model} (tools/%s)" %
                  ("make_hf_folder.py" if gemma3 else "make_hf_reference_folders.py"),
        "tensors": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for outtype in ["f16", "q8_0"]:
            out = os.path.join(tmp, f"{outtype}.gguf")
            convert(folder, outtype, out)
            golden["tensors"][outtype] = tensor_table(out)
        f16 = os.path.join(tmp, "f16.gguf")
        if gemma3:
            golden["vocab"] = vocab_table(f16)
        for qtype in ["q4_0", "q4_k_m"] if gemma3 else ["q4_0", "q4_1"]:
            out = os.path.join(tmp, f"{qtype}.gguf")
            quantize(f16, out, qtype.upper())
            golden["tensors"][qtype] = tensor_table(out)
        if not gemma3:
            golden["transformers_f32"] = logits_oracle(folder)
            greedy = llama_greedy_subprocess(os.path.join(tmp, "q8_0.gguf"),
                                             [case["input_ids"] for case in golden["transformers_f32"]])
            golden["llama_cpp_q8_0"] = [{"prompt": case["prompt"], "input_ids": case["input_ids"],
                                         "greedy": tokens}
                                        for case, tokens in zip(golden["transformers_f32"], greedy)]
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
