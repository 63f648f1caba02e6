#!/usr/bin/env bash
# Runs modelgate for the GitHub Action (action.yml, step "run"): `scan` (optionally one
# shard of it) or `merge` of shard reports, with annotations, job summary, SARIF and JSON
# reports, and the verdict and counts as step outputs.
#
# This step does not fail on the verdict: it records `exit-code`, so that the SARIF upload
# step still runs when findings fail the build, and the action's last step fails the job.
# With `shard`, thresholds are left to the `merge` job, which applies them once over all
# shards; a shard only fails on errors (exit 2).
#
# Inputs (environment only; action.yml never interpolates inputs into the script):
#   MODELGATE_BIN (from install.sh), INPUT_TARGETS, INPUT_CONFIG, INPUT_FAIL_ON,
#   INPUT_SARIF_FILE, INPUT_JSON_FILE, INPUT_CATEGORY, INPUT_ANNOTATIONS, INPUT_SUMMARY,
#   INPUT_SHARD, INPUT_MERGE, INPUT_RESOLVE_MODELS, INPUT_CYCLONEDX_FILE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
set -euo pipefail

die() {
  echo "::error title=modelgate::$*"
  exit 2
}

: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}"
bin="${MODELGATE_BIN:-modelgate}"

bool() { # NAME VALUE
  case "$2" in
    true | True | TRUE) echo true ;;
    false | False | FALSE) echo false ;;
    *) die "input $1 must be true or false, got '$2'" ;;
  esac
}
annotations="$(bool annotations "${INPUT_ANNOTATIONS:-true}")"
summary="$(bool summary "${INPUT_SUMMARY:-true}")"

# A list input: one item per line when it has several lines (paths with spaces), else
# whitespace-separated.
split_list() { # VALUE -> lines
  local value="$1" line
  if [[ "$value" == *$'\n'* ]]; then
    while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      line="${line%"${line##*[![:space:]]}"}"
      [ -n "$line" ] && printf '%s\n' "$line"
    done <<<"$value"
  else
    # Split on whitespace without expanding globs (modelgate has --include for that).
    set -f
    for line in $value; do printf '%s\n' "$line"; done
    set +f
  fi
  return 0
}

# Windows runners run this under Git Bash: hand Windows paths to GitHub (outputs).
if command -v cygpath >/dev/null 2>&1; then
  RUNNER_TEMP="$(cygpath -u "$RUNNER_TEMP")"
  native() { cygpath -w "$1"; }
else
  native() { printf '%s\n' "$1"; }
fi

out_dir="$(mktemp -d "$RUNNER_TEMP/modelgate-report.XXXXXX")"
sarif="${INPUT_SARIF_FILE:-$out_dir/modelgate.sarif}"
json="${INPUT_JSON_FILE:-$out_dir/modelgate.json}"

args=()
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
if [ -n "${INPUT_FAIL_ON:-}" ]; then args+=(--fail-on "$INPUT_FAIL_ON"); fi
if [ -n "${INPUT_CATEGORY:-}" ]; then args+=(--category "$INPUT_CATEGORY"); fi
if [ "$annotations" = true ]; then args+=(--format github); else args+=(--format text); fi
args+=(--sarif "$sarif" --json "$json")

shard="${INPUT_SHARD:-}"
if [ -n "${INPUT_MERGE:-}" ]; then
  [ -z "$shard" ] || die "set either shard (scan one shard) or merge (combine shard reports), not both"
  reports=()
  while IFS= read -r item; do
    if [ -d "$item" ]; then
      found=0
      for f in "$item"/*.json; do
        [ -f "$f" ] || continue
        reports+=("$f")
        found=1
      done
      [ "$found" = 1 ] || die "merge: no .json reports in $item"
    else
      reports+=("$item")
    fi
  done < <(split_list "$INPUT_MERGE")
  [ "${#reports[@]}" -gt 0 ] || die "merge: no reports given"
  cmd=(merge "${args[@]}" -- "${reports[@]}")
else
  if [ -n "$shard" ]; then
    [[ "$shard" =~ ^[0-9]+/[0-9]+$ ]] || die "shard must be K/N (e.g. 2/4), got '$shard'"
    args+=(--shard "$shard")
  fi
  case "${INPUT_RESOLVE_MODELS:-false}" in
    true) args+=(--resolve-models) ;;
    false | "") ;;
    *) die "resolve-models must be true or false, got '${INPUT_RESOLVE_MODELS}'" ;;
  esac
  if [ -n "${INPUT_CYCLONEDX_FILE:-}" ]; then args+=(--cyclonedx "$INPUT_CYCLONEDX_FILE"); fi
  targets=()
  while IFS= read -r item; do targets+=("$item"); done < <(split_list "${INPUT_TARGETS:-.}")
  [ "${#targets[@]}" -gt 0 ] || targets=(.)
  cmd=(scan --no-progress "${args[@]}" -- "${targets[@]}")
fi

echo "modelgate ${cmd[*]}"
set +e
if [ "$summary" = true ]; then
  GITHUB_ACTIONS=true "$bin" "${cmd[@]}"
else
  (
    unset GITHUB_STEP_SUMMARY
    GITHUB_ACTIONS=true "$bin" "${cmd[@]}"
  )
fi
code=$?
set -e

case "$code" in
  0 | 1) ;;
  *) die "modelgate exited with $code (usage, configuration or I/O error; see the message above)" ;;
esac
if [ "$code" = 1 ] && [ -n "$shard" ]; then
  echo "::notice title=modelgate::shard $shard reached a threshold; the merge job applies thresholds over all shards"
  code=0
fi
{
  echo "sarif-file=$(native "$sarif")"
  echo "json-file=$(native "$json")"
  if [ -n "${INPUT_CYCLONEDX_FILE:-}" ] && [ -z "${INPUT_MERGE:-}" ]; then
    echo "cyclonedx-file=$(native "$INPUT_CYCLONEDX_FILE")"
  else
    echo "cyclonedx-file="
  fi
  echo "exit-code=$code"
} >>"$GITHUB_OUTPUT"
