#!/usr/bin/env python3
"""Write large PyTorch-format checkpoints for the `modelgate convert` memory/time benchmark
without torch (deterministic, not committed).

    python3 bench/make_convert_synthetic.py OUTDIR [--zip-mb 675] [--legacy-mb 290]

The files have the layout `torch.save` writes (zip: `<folder>/data.pkl` protocol 2 with
persistent ids `('storage', torch.FloatStorage, key, 'cpu', numel)` and stored members
`<folder>/data/<key>`, `<folder>/byteorder`, `<folder>/version`; legacy: magic number,
protocol 1001, sys_info, the pickle, the key list, then each storage as an int64 element
count and its bytes), built with the standard library: the globals are named through a
stand-in `torch` module placed in sys.modules only while pickling (nothing is imported or
loaded from a file). Tensors are GPT-2-style float32 matrices filled with a repeating
pattern. bench/make_convert_inputs.py writes the same kind of files with real torch.
"""

from __future__ import annotations

import argparse
import collections
import io
import math
import pickle
import struct
import sys
import types
import zipfile
from pathlib import Path


def stand_in_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*a):  # named only; never called
        raise RuntimeError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


class T:
    """A tensor placeholder: reduces to _rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict())."""

    def __init__(self, key, shape):
        self.key, self.shape = key, shape
        self.numel = 1
        for d in shape:
            self.numel *= d

    def __reduce__(self):
        _, utils = sys.modules["torch"], sys.modules["torch._utils"]
        stride = []
        acc = 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        return (utils._rebuild_tensor_v2,
                (Storage(self.key, self.numel), 0, tuple(self.shape), tuple(stride), False,
                 collections.OrderedDict()))


class Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", sys.modules["torch"].FloatStorage, obj.key, "cpu", obj.numel)
        return None


def layers(target_bytes, d):
    shapes = [("wte.weight", (50257, d)), ("wpe.weight", (1024, d))]
    i = 0
    while sum(4 * math.prod(s) for _, s in shapes) < target_bytes:
        p = f"h.{i}."
        shapes += [(p + "ln_1.weight", (d,)), (p + "attn.c_attn.weight", (d, 3 * d)),
                   (p + "attn.c_proj.weight", (d, d)), (p + "ln_2.weight", (d,)),
                   (p + "mlp.c_fc.weight", (d, 4 * d)), (p + "mlp.c_proj.weight", (4 * d, d))]
        i += 1
    return shapes


def tensor_bytes(numel, seed):
    block = struct.pack("<256f", *[((seed * 31 + j) % 97) / 97.0 for j in range(256)])
    reps, rest = divmod(numel, 256)
    return block * reps + block[: rest * 4]


def state_dict(shapes):
    sd = collections.OrderedDict()
    for k, (name, shape) in enumerate(shapes):
        sd[name] = T(str(k), list(shape))
    return sd


def write_zip(path, shapes):
    stand_in_torch()
    sd = state_dict(shapes)
    buf = io.BytesIO()
    P(buf, protocol=2).dump(sd)
    folder = path.stem
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{folder}/data.pkl", buf.getvalue())
        z.writestr(f"{folder}/byteorder", "little")
        for k, t in enumerate(sd.values()):
            z.writestr(f"{folder}/data/{k}", tensor_bytes(t.numel, k))
        z.writestr(f"{folder}/version", "3\n")


def write_legacy(path, shapes):
    stand_in_torch()
    sd = state_dict(shapes)
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True,
                     "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
        P(f, protocol=2).dump(sd)
        pickle.dump([str(k) for k in range(len(sd))], f, protocol=2)
        for k, t in enumerate(sd.values()):
            f.write(struct.pack("<q", t.numel))
            f.write(tensor_bytes(t.numel, k))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--zip-mb", type=int, default=675)
    ap.add_argument("--legacy-mb", type=int, default=290)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_zip(out / "model_zip.pt", layers(a.zip_mb << 20, 1024))
    write_legacy(out / "model_legacy.pt", layers(a.legacy_mb << 20, 768))
    for p in sorted(out.glob("*.pt")):
        print(p, p.stat().st_size)


if __name__ == "__main__":
    main()
