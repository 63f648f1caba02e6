#!/usr/bin/env python3
"""Write the benchmark inputs for `modelgate convert` (not committed; deterministic).

    python bench/make_convert_inputs.py OUTDIR [--zip-mb 675] [--legacy-mb 290]

Needs torch (bench/requirements.txt). Writes

    OUTDIR/convert_zip_675mb/model.pt       torch.save zip state dict, ~675 MB
    OUTDIR/convert_legacy_290mb/model.pt    torch.save(..., _use_new_zipfile_serialization=False), ~290 MB
    OUTDIR/convert_inputs.json              per file: bytes, tensor count, sha256

Both are GPT-2-style decoder state dicts in float32 with realistic layer shapes
(token/position embeddings, per layer ln_1/ln_2, attn.c_attn (d, 3d), attn.c_proj (d, d),
mlp.c_fc (d, 4d), mlp.c_proj (4d, d), ln_f, and lm_head.weight tied to the token
embedding, i.e. one shared storage). The zip uses d=1024 (GPT-2 medium widths), the legacy
file d=768 (GPT-2 small); the number of layers is whatever fits the requested size. Every
tensor is filled by torch.randn from a generator seeded with its index, so reruns hold the
same weights (the zip's .data/serialization_id and the legacy storage keys still differ
between runs, as torch writes them). Use small sizes (e.g. --zip-mb 20 --legacy-mb 10) for a
quick check.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import OrderedDict
from pathlib import Path

VOCAB, CTX = 50257, 1024


def gpt2_state_dict(target_bytes: int, d: int):
    """An OrderedDict in GPT-2 layout whose float32 tensors add up to about target_bytes."""
    import torch

    shapes = [("transformer.wte.weight", (VOCAB, d)), ("transformer.wpe.weight", (CTX, d))]
    per_layer = lambda i: [  # noqa: E731
        (f"transformer.h.{i}.ln_1.weight", (d,)), (f"transformer.h.{i}.ln_1.bias", (d,)),
        (f"transformer.h.{i}.attn.c_attn.weight", (d, 3 * d)),
        (f"transformer.h.{i}.attn.c_attn.bias", (3 * d,)),
        (f"transformer.h.{i}.attn.c_proj.weight", (d, d)),
        (f"transformer.h.{i}.attn.c_proj.bias", (d,)),
        (f"transformer.h.{i}.ln_2.weight", (d,)), (f"transformer.h.{i}.ln_2.bias", (d,)),
        (f"transformer.h.{i}.mlp.c_fc.weight", (d, 4 * d)),
        (f"transformer.h.{i}.mlp.c_fc.bias", (4 * d,)),
        (f"transformer.h.{i}.mlp.c_proj.weight", (4 * d, d)),
        (f"transformer.h.{i}.mlp.c_proj.bias", (d,)),
    ]
    nbytes = lambda sh: 4 * int(torch.Size(sh).numel())  # noqa: E731
    total = sum(nbytes(s) for _, s in shapes)
    layer_bytes = sum(nbytes(s) for _, s in per_layer(0))
    if total > target_bytes:        # small sizes for a quick check: shrink the vocabulary
        vocab = max(16, (target_bytes // 2) // (4 * d))
        shapes[0] = ("transformer.wte.weight", (vocab, d))
        total = sum(nbytes(s) for _, s in shapes)
    n_layers = max(0, round((target_bytes - total) / layer_bytes))
    for i in range(n_layers):
        shapes += per_layer(i)
    shapes += [("transformer.ln_f.weight", (d,)), ("transformer.ln_f.bias", (d,))]
    sd = OrderedDict()
    for idx, (name, shape) in enumerate(shapes):
        g = torch.Generator().manual_seed(idx)
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            sd[name] = torch.ones(shape)
        else:
            sd[name] = torch.randn(shape, generator=g) * 0.02
    sd["lm_head.weight"] = sd["transformer.wte.weight"]     # tied: one storage, two names
    return sd, n_layers


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description="Write modelgate convert benchmark inputs.")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--zip-mb", type=float, default=675)
    ap.add_argument("--legacy-mb", type=float, default=290)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    info = {"torch": torch.__version__.split("+")[0], "files": {}}
    for case, mb, d, legacy in (("convert_zip", args.zip_mb, 1024, False),
                                ("convert_legacy", args.legacy_mb, 768, True)):
        t0 = time.time()
        sd, n_layers = gpt2_state_dict(int(mb * 1e6), d)
        out = args.outdir / f"{case}_{mb:g}mb" / "model.pt"
        out.parent.mkdir(parents=True, exist_ok=True)
        torch.save(sd, out, _use_new_zipfile_serialization=not legacy)
        size = out.stat().st_size
        info["files"][str(out.relative_to(args.outdir))] = {
            "format": "pytorch-legacy" if legacy else "pytorch-zip", "bytes": size,
            "tensors": len(sd), "layers": n_layers, "hidden": d,
            "sha256": sha256_file(out)}
        print(f"{out}: {size / 1e6:.1f} MB, {len(sd)} tensors ({n_layers} layers, d={d}), "
              f"{time.time() - t0:.1f}s")
        del sd
    (args.outdir / "convert_inputs.json").write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()
