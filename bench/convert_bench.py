#!/usr/bin/env python3
"""`modelgate convert` against torch.load + safetensors save_file, side by side in one run.

    python bench/convert_bench.py INPUTS_DIR [--modelgate BIN] [--reps 3] [--python PY]

INPUTS_DIR is what bench/make_convert_inputs.py wrote (convert_zip_675mb/model.pt and
convert_legacy_290mb/model.pt). For each input and each repetition, in alternation:

- `modelgate convert IN OUT.safetensors` under /usr/bin/time -v (wall, peak RSS);
- `PY bench/convert_reference.py IN OUT.safetensors` (torch.load(weights_only=True) +
  safetensors.torch.save_file; its own wall, split into load and save, and peak RSS);
- then both outputs are compared tensor by tensor (names, dtypes, shapes, bytes) with
  `safetensors.numpy.load_file`, so the two tools are shown to write the same tensors.

Prints a Markdown table of medians (wall, peak RSS, ratio reference / modelgate). PY must
have torch, numpy and safetensors (bench/requirements.txt). Outputs go to a temporary
directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = [
    ("zip state dict (GPT-2-medium widths)", "convert_zip_675mb/model.pt"),
    ("legacy checkpoint (GPT-2-small widths)", "convert_legacy_290mb/model.pt"),
]


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, stdout of `cmd` under /usr/bin/time -v."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return wall, int(m.group(1)) / 1024 if m else float("nan"), p.stdout


def same_tensors(a: Path, b: Path, py: str) -> str:
    code = (
        "import sys\nfrom safetensors.numpy import load_file\n"
        "x, y = load_file(sys.argv[1]), load_file(sys.argv[2])\n"
        "assert sorted(x) == sorted(y), (sorted(set(x) ^ set(y)))[:5]\n"
        "for k in x:\n"
        "    assert x[k].dtype == y[k].dtype and x[k].shape == y[k].shape, k\n"
        "    assert x[k].tobytes() == y[k].tobytes(), k\n"
        "print(len(x))\n"
    )
    p = subprocess.run([py, "-c", code, str(a), str(b)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"outputs differ: {p.stderr[-2000:]}")
    return p.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", type=Path)
    ap.add_argument("--modelgate", default=str(HERE.parent / "target/release/modelgate"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    versions = subprocess.run(
        [args.python, "-c", "import torch, safetensors, numpy; print(torch.__version__.split('+')[0], safetensors.__version__, numpy.__version__)"],
        capture_output=True, text=True, check=True).stdout.split()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for what, rel in INPUTS:
            src = args.inputs / rel
            mg, ref, ref_load, ref_save = [], [], [], []
            for _ in range(args.reps):
                out_mg = Path(tmp, "mg.safetensors")
                out_ref = Path(tmp, "ref.safetensors")
                for p in (out_mg, out_ref):
                    p.unlink(missing_ok=True)
                mg.append(timed([args.modelgate, "convert", str(src), str(out_mg)])[:2])
                w, r, out = timed([args.python, str(HERE / "convert_reference.py"), str(src), str(out_ref)])
                j = json.loads(out.strip().splitlines()[-1])
                ref.append((w, r))
                ref_load.append(j["load_s"])
                ref_save.append(j["save_s"])
                count = same_tensors(out_mg, out_ref, args.python)
            med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
            rows.append((what, src.stat().st_size / 1e6, count, med(mg, 0), med(mg, 1),
                         med(ref, 0), statistics.median(ref_load), statistics.median(ref_save),
                         med(ref, 1)))
    print(f"torch {versions[0]}, safetensors {versions[1]}, numpy {versions[2]}; "
          f"median of {args.reps} alternating runs; outputs equal tensor by tensor\n")
    print("| input | size | tensors | modelgate wall | modelgate peak RSS | torch.load + save_file wall (load / save) | its peak RSS | wall ratio | RSS ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for what, mb, n, mw, mr, rw, rl, rs, rr in rows:
        print(f"| {what} | {mb:.1f} MB | {n} | {mw:.2f} s | {mr:.1f} MB | {rw:.2f} s ({rl:.2f} / {rs:.2f}) "
              f"| {rr:.0f} MB | {rw / mw:.1f}× | {rr / mr:.0f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
