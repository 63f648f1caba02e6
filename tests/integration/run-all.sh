#!/usr/bin/env bash
# The integration tests that need no GitHub: installs the pinned tools, then runs
#   lint.sh       action/workflow/hook lint (check-jsonschema, zizmor --offline, shellcheck)
#   sarif.sh      SARIF checked by Microsoft's SARIF multitool
#   action.sh     the action's install and run scripts under a simulated runner
#   precommit.sh  pre-commit try-repo on temporary repositories
# Every group runs even when an earlier one failed; the exit code says whether all passed.
# (Shard runs merged == a full run is a Rust test: tests/merge.rs, in `cargo test`.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

start=$SECONDS
bash "$here/tools.sh"
echo "== tools installed ($((SECONDS - start)) s)"
failed=()
for t in lint sarif action precommit; do
  start=$SECONDS
  echo "== $t"
  if bash "$here/$t.sh"; then
    echo "== $t: ok ($((SECONDS - start)) s)"
  else
    echo "== $t: FAILED ($((SECONDS - start)) s)"
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "integration tests failed: ${failed[*]}" >&2
  exit 1
fi
echo "integration tests: all groups passed"
