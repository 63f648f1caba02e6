#!/usr/bin/env bash
# Test group 2: the pre-commit hooks of .pre-commit-hooks.yaml, run by `pre-commit
# try-repo` against this repository (its HEAD commit plus any uncommitted changes) in a
# temporary git repository: the hook fails on a malicious model and passes on a clean one.
#
# `language: rust` makes pre-commit `cargo install` this repository for each try-repo
# run. CARGO_TARGET_DIR is shared between the runs (cargo honours it inside pre-commit)
# so dependencies build once, and the release profile is made cheap: this tests the hook,
# not the optimiser.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

PRE_COMMIT="${PRE_COMMIT:-$TOOLS/venv/bin/pre-commit}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/log"
export PRE_COMMIT_HOME="$WORK/pre-commit-home"
export CARGO_TARGET_DIR="${MODELGATE_HOOK_TARGET_DIR:-$ROOT/target/ci-hook}"
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_DEBUG=0
export CARGO_TERM_COLOR=never
# The hook runs where a developer commits, not in GitHub Actions.
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT

new_repo() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  git -C "$dir" init -q
  git -C "$dir" config user.email ci@example.invalid
  git -C "$dir" config user.name ci
  git -C "$dir" config commit.gpgsign false
  echo "$dir"
}

# A repository with a malicious pickle (under a misleading name, to show routing by
# content) and a repository with only a clean PyTorch checkpoint and a text file.
bad="$(new_repo bad)"
cp "$ROOT/examples/malicious/os_system.pkl" "$bad/weights.bin"
# A protocol-0 pickle is plain ASCII: pre-commit's file classifier calls it text, so a
# hook with `types: [binary]` would never see it; the `files:` regex does.
cp "$ROOT/tests/fixtures/malicious/posix_system_protocol0.pkl" "$bad/legacy.pkl"
echo "hello" > "$bad/README.md"
git -C "$bad" add -A

good="$(new_repo good)"
cp "$ROOT/examples/benign/tiny_state_dict.pt" "$good/model.pt"
echo "hello" > "$good/README.md"
git -C "$good" add -A

try_repo() { # DIR HOOK ARGS...
  local dir="$1" hook="$2"
  shift 2
  (cd "$dir" && "$PRE_COMMIT" try-repo "$ROOT" "$hook" --color never --verbose "$@")
}

expect_code 1 "modelgate hook fails on a malicious pickle" try_repo "$bad" modelgate --all-files
check "  and names the call it found" contains "$LOG" "posix.system"
check "  and the rule" contains "$LOG" "pickle-code-execution"
check "  including the protocol-0 pickle" contains "$LOG" "legacy.pkl"
check "  (which pre-commit classifies as text, not binary)" \
  "$(dirname "$PRE_COMMIT")/python" -c 'import sys; from identify.identify import tags_from_path as t; sys.exit("text" not in t(sys.argv[1]))' "$bad/legacy.pkl"

expect_code 0 "modelgate hook passes on a clean checkpoint" try_repo "$good" modelgate --all-files
check "  and scanned it" contains "$LOG" "1 scanned"

expect_code 1 "modelgate-repo hook (whole repository, pass_filenames: false) fails on the malicious repo" \
  try_repo "$bad" modelgate-repo --all-files
check "  and names the file" contains "$LOG" "weights.bin"

check_summary
