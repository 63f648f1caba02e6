#!/usr/bin/env python3
"""The usual way to convert a checkpoint to safetensors, timed: torch.load + save_file.

    python bench/convert_reference.py IN OUT.safetensors [--key K] [--weights-only | --full]

What people run today (and what `modelgate convert` replaces without unpickling):
torch.load(IN, map_location="cpu", weights_only=True) (or weights_only=False with --full,
which executes the pickle), nested dicts flattened to dotted names (`--key K` takes that
sub-dict first), non-tensor leaves JSON-encoded into __metadata__, then
safetensors.torch.save_file. save_file refuses tensors that share memory, so a tensor whose
storage was already taken by an earlier name (tied weights) and every non-contiguous view
is written as a contiguous copy, as the usual conversion scripts do.

Prints one JSON line: wall seconds (total, which includes `import torch`; load; save), peak RSS of this process in MB
(getrusage ru_maxrss), tensor count and output bytes. Needs torch and safetensors.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def flatten(obj, prefix=""):
    import torch
    tensors, meta = {}, {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            t, m = flatten(v, name + ".")
            tensors.update(t)
            meta.update(m)
        elif isinstance(v, torch.Tensor):
            tensors[name] = v
        else:
            meta[name] = v
    return tensors, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--key")
    ap.add_argument("--full", action="store_true",
                    help="torch.load(weights_only=False): runs the pickle, trusted files only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    import torch
    from safetensors.torch import save_file
    obj = torch.load(args.input, map_location="cpu", weights_only=not args.full)
    if args.key:
        for part in args.key.split("."):
            obj = obj[part]
    if not isinstance(obj, dict):
        print(f"{args.input}: not a dict of tensors", file=sys.stderr)
        return 2
    tensors, meta = flatten(obj)
    t1 = time.perf_counter()
    seen, out = set(), {}
    for name, t in tensors.items():
        t = t.detach()
        ptr = t.untyped_storage().data_ptr()
        if not t.is_contiguous():
            t = t.contiguous()              # a copy with its own storage
        elif ptr in seen:
            t = t.clone()                   # tied / shared storage: save_file refuses sharing
        else:
            seen.add(ptr)
        out[name] = t
    metadata = {k: json.dumps(v, default=str) for k, v in meta.items()} or None
    save_file(out, str(args.output), metadata=metadata)
    t2 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"input": str(args.input), "input_bytes": args.input.stat().st_size,
                      "output_bytes": args.output.stat().st_size, "tensors": len(out),
                      "wall_s": round(t2 - t0, 3), "load_s": round(t1 - t0, 3),
                      "save_s": round(t2 - t1, 3), "peak_rss_mb": round(rss_mb, 1),
                      "torch": torch.__version__.split("+")[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
