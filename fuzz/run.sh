#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30) over its committed corpus
# and seeds, one at a time. CI runs it with a short time (.ci/run); long runs use the same
# script: `fuzz/run.sh 3600`. Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); the
# stable toolchain takes the sanitizer flags with RUSTC_BOOTSTRAP=1 (see README.md).
# A crash stops the run with the fuzzer's exit code; the input is in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}"
cargo fuzz build
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  echo "== $t (${secs}s)"
  mkdir -p logs
  status=0
  cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -jobs=1 -rss_limit_mb=1024 -timeout=20 -max_len=16384 -max_total_time="$secs" \
    -print_final_stats=1 > "logs/$t.log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|ERROR|panicked|deadly|SUMMARY" "logs/$t.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "logs/$t.log" >&2
    echo "fuzz target $t failed (exit $status); see fuzz/artifacts/$t" >&2
    exit "$status"
  fi
done
