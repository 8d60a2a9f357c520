"""Seeds for tests/fuzz/onnx_model_fuzz.cc (tests/data/onnx-model-corpus): small ModelProtos
written with the `onnx` package (test-only; in .cache/peer/venv-hf): a MatMulNBits decoder
fragment with raw initializers, the same with typed float_data, and one naming external data
(which the fuzz target, having no folder, must refuse)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data", "onnx-model-corpus")
os.makedirs(out, exist_ok=True)

w = helper.make_tensor("model.layers.0.attn.o_proj.MatMul.weight_Q4", TensorProto.UINT8, [4, 1, 16],
                       np.arange(64, dtype=np.uint8).tobytes(), raw=True)
s = helper.make_tensor("model.layers.0.attn.o_proj.MatMul.weight_scales", TensorProto.FLOAT, [4],
                       np.array([0.5, 1, 2, 4], dtype=np.float32).tobytes(), raw=True)
norm = helper.make_tensor("model.layers.0.input_layernorm.weight", TensorProto.FLOAT, [32],
                          np.ones(32, dtype=np.float32).tolist())
mm = helper.make_node("MatMulNBits", ["x", w.name, s.name], ["y"], name="/mm", domain="com.microsoft",
                      K=32, N=4, bits=4, block_size=32)
ln = helper.make_node("SimplifiedLayerNormalization", ["h", norm.name], ["x"], name="/ln",
                      epsilon=1e-5, axis=-1)


def save(name, inits, nodes):
    g = helper.make_graph(nodes, "g", [], [], initializer=inits)
    with open(os.path.join(out, name), "wb") as f:
        f.write(helper.make_model(g).SerializeToString())


save("matmulnbits.onnx", [w, s], [mm])
save("typed_float_data.onnx", [w, s, norm], [ln, mm])
ext = TensorProto(name="cos_cache", data_type=TensorProto.FLOAT, dims=[2, 2])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "model.onnx.data"), ("offset", "0"), ("length", "16")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save("external.onnx", [ext, s], [mm])
