"""Static checks of action.yml's wiring (part of test group 1, run by action.sh).

- no `${{ }}` expression inside a `run:` script: inputs reach scripts through `env:` only;
- every input is used, and every INPUT_* variable run.sh reads is set from an input;
- every output reads a step output that the scripts (or modelgate itself) really write;
- every `uses:` is pinned to a full commit SHA with a version comment.
"""

import pathlib
import re
import sys

import yaml

path = pathlib.Path(sys.argv[1])
root = path.parent
text = path.read_text()
action = yaml.safe_load(text)
errors = []

steps = action["runs"]["steps"]
inputs = set(action["inputs"])
used = set()
for step in steps:
    if "${{" in step.get("run", ""):
        errors.append(f"step {step.get('name')}: expression inside run:")
    blob = yaml.safe_dump({k: v for k, v in step.items() if k != "run"})
    used |= set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", blob))
for name in sorted(inputs - used):
    errors.append(f"input {name} is never used")
for name in sorted(used - inputs):
    errors.append(f"inputs.{name} is not declared")

run_step = next(s for s in steps if s.get("id") == "run")
env_inputs = {k for k in run_step["env"] if k.startswith("INPUT_")}
script_inputs = set(re.findall(r"\b(INPUT_[A-Z_]+)", (root / "action/run.sh").read_text()))
if env_inputs != script_inputs:
    errors.append(f"run.sh reads {sorted(script_inputs)} but the step sets {sorted(env_inputs)}")
for key, value in run_step["env"].items():
    if key.startswith("INPUT_"):
        want = "${{ inputs." + key[len("INPUT_"):].lower().replace("_", "-") + " }}"
        if value != want:
            errors.append(f"env {key} is {value!r}, expected {want!r}")

written = {
    # action/run.sh
    "run": {"sarif-file", "json-file", "cyclonedx-file", "exit-code"}
    # modelgate's own GITHUB_OUTPUT lines (src/report/github.rs write_outputs)
    | {"verdict", "critical", "high", "medium", "low", "info", "suppressed"},
    "install": {"path", "source", "version"},
}
for script, step_id in [("action/run.sh", "run"), ("action/install.sh", "install")]:
    body = (root / script).read_text()
    for name in written[step_id]:
        if step_id == "run" and name in {"verdict", "critical", "high", "medium", "low", "info", "suppressed"}:
            src = (root / "src/report/github.rs").read_text()
            if name == "verdict":
                ok = '"verdict={verdict}"' in src
            else:
                ok = "for sev in Severity::ALL_DESC" in src or f'"{name}=' in src
        else:
            ok = f"{name}=" in body
        if not ok:
            errors.append(f"{script}: does not write output {name}")
for name, out in action["outputs"].items():
    m = re.fullmatch(r"\$\{\{ steps\.([a-z]+)\.outputs\.([a-z-]+) \}\}", out["value"])
    if not m or m.group(2) not in written.get(m.group(1), set()):
        errors.append(f"output {name}: {out['value']} is not written by any step")

for line in text.splitlines():
    m = re.search(r"uses:\s*(\S+)(.*)", line)
    if m and not m.group(1).startswith("./"):
        if not re.fullmatch(r"[^@]+@[0-9a-f]{40}", m.group(1)) or not re.search(r"#\s*v\d", m.group(2)):
            errors.append(f"not pinned by SHA with a version comment: {line.strip()}")

for e in errors:
    print(f"action.yml: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
