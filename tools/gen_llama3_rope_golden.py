#!/usr/bin/env python3
"""Llama 3.1+ rope_freqs factors exactly as llama.cpp's convert_hf_to_gguf.py computes them
(LlamaModel.generate_extra_tensors: float32 torch arithmetic), as hex floats, for
tests/unit/convert_hf_compile_test.cc. Needs torch (the test-only venv of
tools/requirements-hf.txt):

    python3 tools/gen_llama3_rope_golden.py > tests/data/convert/llama3_rope_factors.json
"""
import json
import math

import torch


def factors(base, dim, factor, low, high, old):
    # The converter's formula, operation for operation.
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    low_wavelen, high_wavelen = old / low, old / high
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(1)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return torch.tensor(out, dtype=torch.float32)


CASES = [  # rope_theta, head_dim, factor, low_freq_factor, high_freq_factor, original context
    (500000.0, 64, 32.0, 1.0, 4.0, 8192),   # Llama 3.2 1B/3B
    (500000.0, 128, 8.0, 1.0, 4.0, 8192),   # Llama 3.1 8B
    (10000.0, 32, 8.0, 1.0, 4.0, 64),       # tests/data/models/tiny-llama3.gguf's
]
print(json.dumps([{"rope_theta": c[0], "head_dim": c[1], "factor": c[2], "low_freq_factor": c[3],
                   "high_freq_factor": c[4], "original_max_position_embeddings": c[5],
                   "factors": [x.hex() for x in factors(*c).tolist()]} for c in CASES], indent=1))
