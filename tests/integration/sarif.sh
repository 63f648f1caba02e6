#!/usr/bin/env bash
# Test group 4: every kind of SARIF modelgate writes passes Microsoft's SARIF multitool
# (`validate --rule-kind "Gh;Sarif"`: the SARIF 2.1.0 rules plus GitHub code scanning's
# ingestion rules) with no errors. A deliberately broken copy must fail, so the check
# cannot pass by validating nothing.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/log"
PY="${PYTHON:-$TOOLS/venv/bin/python}"
# The npm package's launcher passes its arguments through a shell, which splits
# "Gh;Sarif" at the `;`: call the platform binary it points to directly.
MULTITOOL="${SARIF_MULTITOOL:-$(cd "$TOOLS/npm" && node -p "require('@microsoft/sarif-multitool')")}"
# A self-contained .NET program: run it without ICU, which a minimal machine may lack.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

(cd "$ROOT" && cargo build --quiet --locked --bin modelgate)
MG="${CARGO_TARGET_DIR:-$ROOT/target}/debug/modelgate"
"$MULTITOOL" --version | head -n 1

# errors_in SARIF: runs the validator, prints its error results, and fails when any.
errors_in() {
  local out="$1.validation.sarif"
  "$MULTITOOL" validate --rule-kind "Gh;Sarif" --log ForceOverwrite -o "$out" "$1" >"$1.validation.log" 2>&1 || {
    cat "$1.validation.log"
    return 2
  }
  "$PY" - "$out" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
results = [r for run in log["runs"] for r in run.get("results", [])]
errors = [r for r in results if r.get("level", "warning") == "error"]
warnings = [r for r in results if r.get("level", "warning") == "warning"]
for r in errors:
    print(f"  error {r['ruleId']}: {r['message'].get('id', '')} {r['message'].get('arguments', '')}")
print(f"  {len(errors)} errors, {len(warnings)} warnings")
sys.exit(1 if errors else 0)
PY
}

scan() { # NAME ARGS...: writes $WORK/NAME.sarif (and .json)
  local name="$1"
  shift
  (cd "$WORK/ws" && "$MG" scan --no-progress --format text --sarif "$WORK/$name.sarif" --json "$WORK/$name.json" "$@" >/dev/null) || [ $? -eq 1 ]
}

mkdir -p "$WORK/ws"
cp -R "$ROOT/examples" "$ROOT/tests/fixtures" "$WORK/ws/"
# A file that cannot be read (a dangling symlink): a tool execution notification.
mkdir -p "$WORK/ws/broken"
ln -s "$WORK/ws/does-not-exist.pkl" "$WORK/ws/broken/dangling.pkl"
mkdir -p "$WORK/ws/empty"
cat >"$WORK/ws/policy.yml" <<'YML'
deny:
  extensions:
    - extensions: [".pkl"]
      severity: high
ignore:
  - rule: pickle-unknown-global
    paths: ["**"]
    reason: "reviewed: our own logging setup"
  - rule: pickle-code-execution
    paths: ["examples/malicious/os_system.pkl"]
    reason: "a test payload"
    expires: 2020-01-01
YML

# Model references in code, a notebook and a config (results on Python lines).
mkdir -p "$WORK/ws/app/configs"
cat >"$WORK/ws/app/train.py" <<'PYSRC'
from transformers import AutoModel as AM

MODEL = "acme/totally-harmless"
model = AM.from_pretrained(MODEL, trust_remote_code=True)
other = AM.from_pretrained("0penai/whisper-large")
PYSRC
cat >"$WORK/ws/app/configs/train.yaml" <<'YML'
model:
  model_name_or_path: acme/base
  revision: main
YML
cat >"$WORK/ws/app/demo.ipynb" <<'NB'
{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
  "source": ["from transformers import pipeline\n", "p = pipeline(model=\"acme/big-model\")\n"]}],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
NB
# A lock whose entry for acme/totally-harmless was scanned critical: offline, the call
# gets model-ref-risky with the hf:// model file as a related location; the others are
# model-ref-unlocked.
cat >"$WORK/ws/app/modelgate.lock" <<'LOCK'
{
  "version": 1,
  "models": [
    {
      "repo": "acme/totally-harmless",
      "requested": null,
      "commit": "3333333333333333333333333333333333333333",
      "verdict": "critical",
      "files": [
        {"path": "config.json", "size": 2, "verdict": null},
        {"path": "pytorch_model.bin", "size": 1024, "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "verdict": "critical"}
      ]
    }
  ]
}
LOCK

scan examples --no-config examples
scan refs --no-config app
scan fixtures --no-config --category fixtures fixtures
scan policy -c policy.yml examples
scan broken --no-config broken examples/benign
scan empty --no-config empty
for k in 1 2 3; do scan "shard$k" --no-config --shard "$k/3" examples fixtures; done
(cd "$WORK/ws" && "$MG" merge --no-config --format text --sarif "$WORK/merged.sarif" \
  "$WORK/shard1.json" "$WORK/shard2.json" "$WORK/shard3.json" >/dev/null) || [ $? -eq 1 ]

check "the policy report has a suppressed result" contains "$WORK/policy.sarif" '"suppressions"'
check "the broken report has a tool execution notification" contains "$WORK/broken.sarif" '"toolExecutionNotifications"'
check "model references are results at the call's line and column" "$PY" - "$WORK/refs.sarif" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0]["results"]
def at(rule, uri):
    return sorted(
        (r["locations"][0]["physicalLocation"]["region"].get("startLine"),
         r["locations"][0]["physicalLocation"]["region"].get("startColumn"))
        for r in results
        if r["ruleId"] == rule and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
assert at("model-ref-unpinned", "app/train.py") == [(4, 9), (5, 9)], at("model-ref-unpinned", "app/train.py")
assert at("model-ref-remote-code", "app/train.py") == [(4, 9)]
assert at("model-ref-lookalike-publisher", "app/train.py") == [(5, 9)]
assert at("model-ref-unpinned", "app/configs/train.yaml") == [(2, 23)]
assert [l for l, _ in at("model-ref-unpinned", "app/demo.ipynb")] == [2]
assert at("model-ref-risky", "app/train.py") == [(4, 9)]
risky = next(r for r in results if r["ruleId"] == "model-ref-risky")
rel = risky["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
assert rel.endswith("acme/totally-harmless@3333333333333333333333333333333333333333/pytorch_model.bin"), rel
assert len([r for r in results if r["ruleId"] == "model-ref-unlocked"]) == 3
PY
for name in examples fixtures policy broken empty merged refs; do
  expect_code 0 "$name.sarif: no multitool errors" errors_in "$WORK/$name.sarif"
  tail -n 1 "$LOG"
done

# The negative control: an absolute URI under %SRCROOT% and a rule without help.
"$PY" - "$WORK/examples.sarif" "$WORK/bad.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
run = log["runs"][0]
loc = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
loc["uri"] = "file:///home/user/" + loc["uri"]
del run["tool"]["driver"]["rules"][0]["help"]
json.dump(log, open(sys.argv[2], "w"))
PY
expect_code 1 "a broken SARIF is caught (the validator really runs)" errors_in "$WORK/bad.sarif"
check "  SARIF1004 (absolute URI with a uriBaseId)" contains "$LOG" "SARIF1004"
check "  GH2012 (rule without help)" contains "$LOG" "GH2012"

check_summary
