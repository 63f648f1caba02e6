#!/usr/bin/env bash
# Test group 3: action, workflow and hook lint, offline, zero findings:
# check-jsonschema with the schemas it bundles (vendor.github-actions,
# vendor.github-workflows), zizmor --offline, `pre-commit validate-manifest`, and
# ShellCheck on the action's scripts and the test scripts.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

BIN="$TOOLS/venv/bin"
LOG="$(mktemp)"
cd "$ROOT"

expect_code 0 "check-jsonschema: action.yml against vendor.github-actions" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-actions action.yml
expect_code 0 "check-jsonschema: .github/workflows/*.yml against vendor.github-workflows" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
expect_code 0 "zizmor --offline: no findings in action.yml, the workflows and the hooks" \
  "$BIN/zizmor" --offline --no-progress action.yml .github/workflows .pre-commit-hooks.yaml
check "  (it looked at them)" contains "$LOG" "No findings"
# The README's example workflows and pre-commit config, as a user would paste them.
README_WF="$(mktemp -d)"
trap 'rm -rf "$LOG" "$README_WF"' EXIT
check "README.md has the action, CLI upload and sharding workflows" \
  [ "$("$BIN/python" tests/integration/readme_blocks.py README.md "$README_WF")" -ge 3 ]
expect_code 0 "check-jsonschema: the README's workflows" \
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows "$README_WF"/.github/workflows/*.yml
expect_code 0 "zizmor --offline: no findings in the README's workflows" \
  "$BIN/zizmor" --offline --no-progress --config tests/integration/readme-zizmor.yml "$README_WF/.github/workflows"
expect_code 0 "pre-commit validate-config: the README's .pre-commit-config.yaml" \
  "$BIN/pre-commit" validate-config "$README_WF/.pre-commit-config.yaml"

expect_code 0 "pre-commit validate-manifest .pre-commit-hooks.yaml" \
  "$BIN/pre-commit" validate-manifest .pre-commit-hooks.yaml
expect_code 0 "shellcheck: action/*.sh" "$BIN/shellcheck" -x action/install.sh action/run.sh action/update-checksums.sh
expect_code 0 "shellcheck (warnings): the test scripts and .ci/run" \
  "$BIN/shellcheck" -x --severity=warning tests/integration/*.sh .ci/run

check_summary
