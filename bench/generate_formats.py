#!/usr/bin/env python3
"""Generate the non-pickle format cases of the modelgate benchmark (benign files only).

Called by bench/generate.py (`--only safetensors_400mb,...` or a full generate); it runs
this script once per python, because the libraries live in different venvs:

    $BENCH_PYTHON_ONNX (default python3): safetensors, numpy, onnx, gguf
        bench/generate_formats.py --out TREE safetensors_400mb gguf_llama3_300mb onnx_256mb
    $BENCH_PYTHON_TF (default python3): tensorflow-cpu, keras, h5py
        bench/generate_formats.py --out TREE keras_dense_134mb h5_dense_134mb

All tensor data is zeros (quick to create; the scanners' cost does not depend on the values).

  safetensors_400mb/model.safetensors  safetensors.numpy.save_file, 8 float32 tensors 12207x1024 (~400 MB)
  gguf_llama3_300mb/model.gguf         gguf.GGUFWriter: the real Llama 3 instruct chat template
                                       (tests/data/chat_templates/llama-3-instruct.jinja), a 32000-token
                                       vocabulary, 8 float32 tensors 9155x1024 (~300 MB)
  onnx_256mb/model.onnx                onnx.helper: MatMul + Add, one 4096x16384 float32 initializer
                                       (~268 MB, inside the protobuf, no external data)
  keras_dense_134mb/model.keras        Keras 3 model.save: Sequential Input(4096) -> Dense(4096) x 2
                                       (zeros initializers, ~134 MB of weights)
  h5_dense_134mb/model.h5              the same model, legacy HDF5 model.save (model_config attribute)
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLS = 1024

ONNX_CASES = ["safetensors_400mb", "gguf_llama3_300mb", "onnx_256mb"]
TF_CASES = ["keras_dense_134mb", "h5_dense_134mb"]
FORMAT_CASES = ONNX_CASES + TF_CASES


def rows_for(mb, layers=8):
    return round(mb * 1e6 / (layers * COLS * 4))


def target(out, case, name):
    d = os.path.join(out, case)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def gen_safetensors(out, log):
    import numpy as np
    from safetensors.numpy import save_file

    rows = rows_for(400)
    log(f"safetensors_400mb: 8 x ({rows}, {COLS}) float32 zeros")
    tensors = {f"model.layers.{i}.mlp.weight": np.zeros((rows, COLS), dtype=np.float32) for i in range(8)}
    tensors["model.norm.weight"] = np.ones(COLS, dtype=np.float32)
    save_file(tensors, target(out, "safetensors_400mb", "model.safetensors"),
              metadata={"format": "pt", "generator": "modelgate bench"})


def gen_gguf(out, log):
    import gguf
    import numpy as np

    with open(os.path.join(ROOT, "tests", "data", "chat_templates", "llama-3-instruct.jinja")) as f:
        template = f.read()
    rows = rows_for(300)
    nvocab = 32000
    log(f"gguf_llama3_300mb: llama-3-instruct template ({len(template)} chars), {nvocab} tokens, "
        f"8 x ({rows}, {COLS}) float32 zeros")
    w = gguf.GGUFWriter(target(out, "gguf_llama3_300mb", "model.gguf"), "llama")
    w.add_name("modelgate-bench")
    w.add_context_length(8192)
    w.add_embedding_length(COLS)
    w.add_block_count(8)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"tok{i:05d}" for i in range(nvocab)])
    w.add_token_types([1] * nvocab)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template(template)
    for i in range(8):
        w.add_tensor(f"blk.{i}.ffn_up.weight", np.zeros((rows, COLS), dtype=np.float32))
    w.add_tensor("output_norm.weight", np.ones(COLS, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gen_onnx(out, log):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k, n = 4096, 16384
    log(f"onnx_256mb: MatMul with a ({k}, {n}) float32 zeros initializer")
    w = numpy_helper.from_array(np.zeros((k, n), dtype=np.float32), "W")
    b = numpy_helper.from_array(np.zeros(n, dtype=np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        "dense",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", n])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="modelgate-bench")
    onnx.checker.check_model(model)
    onnx.save(model, target(out, "onnx_256mb", "model.onnx"))


def gen_keras(out, log, which):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras

    n = 4096
    log(f"keras: Sequential Input({n}) -> Dense({n}) x 2, zeros initializers (keras {keras.__version__})")
    model = keras.Sequential([
        keras.Input((n,)),
        keras.layers.Dense(n, activation="relu", kernel_initializer="zeros", name="dense_1"),
        keras.layers.Dense(n, kernel_initializer="zeros", name="dense_2"),
    ], name="bench_dense")
    if "keras_dense_134mb" in which:
        log("keras_dense_134mb: model.save (.keras)")
        model.save(target(out, "keras_dense_134mb", "model.keras"))
    if "h5_dense_134mb" in which:
        log("h5_dense_134mb: model.save (legacy .h5)")
        model.save(target(out, "h5_dense_134mb", "model.h5"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("cases", nargs="+", choices=FORMAT_CASES)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    which = set(args.cases)

    def log(msg):
        print(f"[generate_formats] {msg}", flush=True)

    if "safetensors_400mb" in which:
        gen_safetensors(out, log)
    if "gguf_llama3_300mb" in which:
        gen_gguf(out, log)
    if "onnx_256mb" in which:
        gen_onnx(out, log)
    if which & set(TF_CASES):
        gen_keras(out, log, which)
    versions = {"python": sys.version.split()[0]}
    for mod in ("numpy", "safetensors", "gguf", "onnx", "keras", "tensorflow", "h5py"):
        if mod in sys.modules:
            versions[mod] = getattr(sys.modules[mod], "__version__", "?")
    if "gguf" in sys.modules and versions.get("gguf") == "?":
        try:
            import importlib.metadata as md
            versions["gguf"] = md.version("gguf")
        except Exception:  # noqa: BLE001
            pass
    print("VERSIONS " + repr(versions), flush=True)


if __name__ == "__main__":
    main()
