#!/usr/bin/env bash
# Test group 1: the GitHub Action's scripts (action/install.sh, action/run.sh) under a
# simulated runner — RUNNER_OS/ARCH/TEMP, GITHUB_OUTPUT/STEP_SUMMARY/PATH/WORKSPACE point
# at temporary files, and release assets are served from a local directory or a file://
# URL through MODELGATE_RELEASE_BASE_URL — plus static checks of action.yml's wiring.
#
# The "release asset" is this checkout's own modelgate binary packed the way release.yml
# packs it, so the run tests exercise the real scanner. The source-build fallback is real
# too: `cargo install --locked` of a copy of this repository (CARGO_TARGET_DIR shared with
# the pre-commit test, release profile made cheap).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/log"
PY="${PYTHON:-$TOOLS/venv/bin/python}"

(cd "$ROOT" && cargo build --quiet --locked --bin modelgate)
REAL_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/modelgate"
VERSION="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)"

# The action as a runner checks it out: the repository's files (tracked and new, not
# ignored ones such as target/), so checksums.txt can be rewritten per case.
ACTION="$WORK/action"
mkdir -p "$ACTION"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$ACTION"

# Release assets, named and laid out as release.yml makes them.
ASSETS="$WORK/assets"
mkdir -p "$ASSETS/stage"
cp "$REAL_BIN" "$ASSETS/stage/modelgate"
tar -czf "$ASSETS/modelgate-x86_64-unknown-linux-musl.tar.gz" -C "$ASSETS/stage" modelgate
tar -czf "$ASSETS/modelgate-aarch64-apple-darwin.tar.gz" -C "$ASSETS/stage" modelgate
cp "$REAL_BIN" "$ASSETS/stage/modelgate.exe"
(cd "$ASSETS/stage" && "$PY" -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.write("modelgate.exe")' "$ASSETS/modelgate-x86_64-pc-windows-msvc.zip")
sha() { sha256sum "$1" | awk '{ print $1 }'; }

# checksums.txt as release.yml writes it: ASSET... (all of them for $VERSION).
write_checksums() {
  {
    echo "# test"
    for a in "$@"; do echo "$(sha "$ASSETS/$a")  v$VERSION/$a"; done
  } >"$ACTION/action/checksums.txt"
}
ALL_ASSETS=(modelgate-x86_64-unknown-linux-musl.tar.gz modelgate-aarch64-apple-darwin.tar.gz
  modelgate-x86_64-pc-windows-msvc.zip)

# A fresh simulated runner for one step: environment files and a temp dir.
runner() { # OS ARCH
  local r="$WORK/runner.$RANDOM$RANDOM"
  mkdir -p "$r/temp" "$r/workspace"
  : >"$r/output"
  : >"$r/summary"
  : >"$r/path"
  export RUNNER_OS="$1" RUNNER_ARCH="$2" RUNNER_TEMP="$r/temp" GITHUB_WORKSPACE="$r/workspace"
  export GITHUB_OUTPUT="$r/output" GITHUB_STEP_SUMMARY="$r/summary" GITHUB_PATH="$r/path"
  export GITHUB_ACTION_PATH="$ACTION" GITHUB_ACTIONS=true
  R="$r"
}

# Value of NAME in a GITHUB_OUTPUT file (last one wins, as on GitHub).
out() { # NAME [FILE]
  sed -n "s/^$1=//p" "${2:-$GITHUB_OUTPUT}" | tail -n 1
}

install() { (cd "$GITHUB_WORKSPACE" && bash "$ACTION/action/install.sh"); }
# sub VAR=VALUE... COMMAND...: runs COMMAND (a function too) in a subshell with VARs exported.
sub() {
  (
    while [[ "$1" == [A-Z]*=* ]]; do
      export "${1?}"
      shift
    done
    "$@"
  )
}

unset MODELGATE_VERSION MODELGATE_RELEASE_BASE_URL
for v in ${!INPUT_@}; do unset "$v"; done

echo "# install.sh"

write_checksums "${ALL_ASSETS[@]}"
runner Linux X64
expect_code 0 "Linux/X64: release asset from a file:// URL, checksum verified" \
  sub MODELGATE_RELEASE_BASE_URL="file://$ASSETS" install
check "  log says verified" contains "$LOG" "SHA-256 verified"
check "  output source=release" [ "$(out source)" = release ]
check "  output version=$VERSION" [ "$(out version)" = "$VERSION" ]
bin="$(out path)"
check "  output path is an executable" [ -x "$bin" ]
check "  under RUNNER_TEMP" under "$RUNNER_TEMP" "$bin"
check "  GITHUB_PATH gets its folder" [ "$(cat "$GITHUB_PATH")" = "$(dirname "$bin")" ]
check "  the binary runs" [ "$("$bin" --version)" = "modelgate $VERSION" ]
RELEASE_BIN="$bin"

runner Linux X64
expect_code 0 "Linux/X64: release asset from a plain directory, version input with a v prefix" \
  sub MODELGATE_RELEASE_BASE_URL="$ASSETS" MODELGATE_VERSION="v$VERSION" install
check "  output source=release" [ "$(out source)" = release ]

runner Windows X64
expect_code 0 "Windows/X64: the .zip asset, modelgate.exe" \
  sub MODELGATE_RELEASE_BASE_URL="file://$ASSETS" install
check "  output path ends in modelgate.exe" ends_with "$(out path)" /modelgate.exe

runner macOS ARM64
expect_code 0 "macOS/ARM64: the aarch64-apple-darwin asset" \
  sub MODELGATE_RELEASE_BASE_URL="file://$ASSETS" install
check "  downloaded modelgate-aarch64-apple-darwin.tar.gz" contains "$LOG" "modelgate-aarch64-apple-darwin.tar.gz"

# Windows runners run the scripts under Git Bash, where cygpath turns the runner's
# Windows paths into POSIX ones and back. A stand-in cygpath that marks the Windows form
# shows which paths are handed back to GitHub in Windows form.
mkdir -p "$WORK/fakebin"
cat >"$WORK/fakebin/cygpath" <<'SH'
#!/bin/sh
case "$1" in
  -u) printf '%s\n' "$2" ;;
  -w) printf 'C:\\msys%s\n' "$2" | tr / '\\' ;;
esac
SH
chmod +x "$WORK/fakebin/cygpath"
runner Windows X64
expect_code 0 "Windows/X64 under Git Bash: GITHUB_PATH and outputs get Windows paths" \
  sub PATH="$WORK/fakebin:$PATH" MODELGATE_RELEASE_BASE_URL="file://$ASSETS" install
check "  GITHUB_PATH entry in Windows form" contains "$GITHUB_PATH" 'C:\msys\'
check "  output path in Windows form" ends_with "$(out path)" '\unpacked\modelgate.exe'

# The asset on the release server was replaced after checksums.txt was committed.
write_checksums "${ALL_ASSETS[@]}"
mkdir -p "$WORK/tampered/stage"
printf '#!/bin/sh\necho "modelgate %s"\n' "$VERSION" >"$WORK/tampered/stage/modelgate"
chmod +x "$WORK/tampered/stage/modelgate"
tar -czf "$WORK/tampered/modelgate-x86_64-unknown-linux-musl.tar.gz" -C "$WORK/tampered/stage" modelgate
runner Linux X64
expect_code 1 "checksum mismatch (a replaced asset) fails hard" \
  sub MODELGATE_RELEASE_BASE_URL="file://$WORK/tampered" install
check "  with an ::error:: naming the mismatch" contains "$LOG" "::error title=modelgate install::SHA-256 mismatch for modelgate-x86_64-unknown-linux-musl.tar.gz"
check "  and no outputs" [ ! -s "$GITHUB_OUTPUT" ]
check "  and no PATH entry" [ ! -s "$GITHUB_PATH" ]
check "  and no source build attempted" bash -c '! grep -q "building modelgate" "$1"' _ "$LOG"

write_checksums "${ALL_ASSETS[@]}"
runner Linux X64
expect_code 1 "an asset listed in checksums.txt but missing from the release fails hard" \
  sub MODELGATE_RELEASE_BASE_URL="file://$WORK/nowhere" install
check "  and says so" contains "$LOG" "cannot download"

runner Linux X64
expect_code 1 "a base URL with another scheme is refused" \
  sub MODELGATE_RELEASE_BASE_URL="http://example.invalid" install

runner Linux X64
expect_code 1 "a version that is not semver is refused" \
  sub MODELGATE_VERSION='1.0; touch pwned' install
check "  before anything runs" [ ! -e "$GITHUB_WORKSPACE/pwned" ]

runner Linux X64
expect_code 1 "another version with no asset cannot fall back to this source" \
  sub MODELGATE_VERSION=99.0.0 install
check "  and says which version the source is" contains "$LOG" "this action's version $VERSION, not 99.0.0"

# Without cargo, the fallback explains what to add.
nocargo_path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do [ -x "$d/cargo" ] || nocargo_path="$nocargo_path${nocargo_path:+:}$d"; done
: >"$ACTION/action/checksums.txt"
runner Linux X64
expect_code 1 "no asset and no cargo: a clear error" \
  sub PATH="$nocargo_path" install
check "  naming the fix" contains "$LOG" "add a Rust toolchain step"

# The real fallback: `cargo install --locked --path $GITHUB_ACTION_PATH`.
export CARGO_TARGET_DIR_SAVED="${CARGO_TARGET_DIR:-}"
fallback() {
  CARGO_TARGET_DIR="${MODELGATE_HOOK_TARGET_DIR:-$ROOT/target/ci-hook}" \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_TERM_COLOR=never \
    install
}
git -C "$ROOT" show HEAD:action/checksums.txt >"$ACTION/action/checksums.txt" 2>/dev/null ||
  cp "$ROOT/action/checksums.txt" "$ACTION/action/checksums.txt"
runner Linux X64
expect_code 0 "the committed checksums.txt (no release yet): builds from source" fallback
check "  with a notice saying why" contains "$LOG" "::notice title=modelgate install::action/checksums.txt lists no v$VERSION/modelgate-x86_64-unknown-linux-musl.tar.gz"
check "  output source=source" [ "$(out source)" = source ]
check "  the built binary runs" [ "$("$(out path)" --version)" = "modelgate $VERSION" ]
check "  GITHUB_PATH gets its folder" [ "$(cat "$GITHUB_PATH")" = "$(dirname "$(out path)")" ]

write_checksums "${ALL_ASSETS[@]}"
runner Linux ARM
expect_code 0 "a platform without a prebuilt binary (Linux/ARM): builds from source" fallback
check "  with a notice saying why" contains "$LOG" "no prebuilt binary for Linux/ARM"
check "  output source=source" [ "$(out source)" = source ]

echo "# update-checksums.sh (release.yml)"
cp "$ACTION/action/checksums.txt" "$WORK/checksums.txt"
echo "0000000000000000000000000000000000000000000000000000000000000000  v0.0.1/modelgate-x86_64-unknown-linux-musl.tar.gz" >>"$WORK/checksums.txt"
echo "1111111111111111111111111111111111111111111111111111111111111111  v$VERSION/modelgate-old.tar.gz" >>"$WORK/checksums.txt"
expect_code 0 "regenerates this version's lines from the release assets" \
  bash "$ROOT/action/update-checksums.sh" "v$VERSION" "$ASSETS" "$WORK/checksums.txt"
check "  keeps other versions" contains "$WORK/checksums.txt" "v0.0.1/modelgate-x86_64-unknown-linux-musl.tar.gz"
check "  drops this version's old lines" bash -c '! grep -q modelgate-old "$1"' _ "$WORK/checksums.txt"
cp "$WORK/checksums.txt" "$ACTION/action/checksums.txt"
runner Windows X64
expect_code 0 "  and install.sh accepts what it wrote" sub MODELGATE_RELEASE_BASE_URL="$ASSETS" install
check "  (release asset)" [ "$(out source)" = release ]

echo "# run.sh"

run() { (cd "$GITHUB_WORKSPACE" && MODELGATE_BIN="$RELEASE_BIN" bash "$ACTION/action/run.sh"); }
# A workspace holding a copy of the examples: malicious ones and a clean folder.
scan_runner() {
  runner Linux X64
  cp -R "$ROOT/examples" "$GITHUB_WORKSPACE/examples"
}

scan_runner
expect_code 0 "malicious examples: the run step records the failure without failing" \
  sub INPUT_TARGETS=examples/malicious INPUT_CATEGORY=selftest run
check "  exit-code=1" [ "$(out exit-code)" = 1 ]
check "  verdict=fail" [ "$(out verdict)" = fail ]
json="$(out json-file)"
sarif="$(out sarif-file)"
check "  JSON written" [ -s "$json" ]
check "  SARIF written under RUNNER_TEMP" under "$RUNNER_TEMP" "$sarif"
for sev in critical high medium low info suppressed; do
  want="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"][sys.argv[2]])' "$json" "$sev")"
  check "  output $sev=$want matches the JSON summary" [ "$(out "$sev")" = "$want" ]
done
check "  critical > 0" [ "$(out critical)" -gt 0 ]
check "  SARIF category from the input" "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["runs"][0]["automationDetails"]["id"] == "selftest/"' "$sarif"
check "  annotations printed" contains "$LOG" "::error file=examples/malicious/os_system.pkl,line=1,title=pickle-code-execution (critical)::"
check "  job summary written" contains "$GITHUB_STEP_SUMMARY" "## ❌ modelgate: FAIL"
check "  job summary lists the finding" contains "$GITHUB_STEP_SUMMARY" "pickle-code-execution"

scan_runner
expect_code 0 "clean folder passes" \
  sub INPUT_TARGETS=examples/benign run
check "  exit-code=0" [ "$(out exit-code)" = 0 ]
check "  verdict=pass" [ "$(out verdict)" = pass ]
check "  no critical, high or medium" [ "$(out critical)$(out high)$(out medium)" = 000 ]
check "  job summary says PASS" contains "$GITHUB_STEP_SUMMARY" "## ✅ modelgate: PASS"

scan_runner
mkdir -p "$GITHUB_WORKSPACE/with space"
cp "$ROOT/examples/malicious/os_system.pkl" "$GITHUB_WORKSPACE/with space/model.pkl"
expect_code 0 "annotations and summary off, targets one per line (a path with a space), sarif-file/json-file inputs" \
  sub INPUT_TARGETS=$'examples/benign\nwith space\n' INPUT_ANNOTATIONS=false INPUT_SUMMARY=false \
  INPUT_SARIF_FILE="$R/out.sarif" INPUT_JSON_FILE="$R/out.json" run
check "  scanned the path with a space" contains "$R/out.json" '"path": "with space/model.pkl"'
check "  no annotations" bash -c '! grep -q "^::error file=" "$1"' _ "$LOG"
check "  no job summary" [ ! -s "$GITHUB_STEP_SUMMARY" ]
check "  outputs still written" [ "$(out verdict)" = fail ]
check "  sarif-file as given" [ "$(out sarif-file)" = "$R/out.sarif" ]
check "  and written" [ -s "$R/out.sarif" ]
check "  no BOM unless asked for" [ -z "$(out cyclonedx-file)" ]

scan_runner
expect_code 0 "cyclonedx-file input writes a CycloneDX BOM" \
  sub INPUT_TARGETS=examples/benign INPUT_CYCLONEDX_FILE="$R/bom.json" run
check "  cyclonedx-file output" [ "$(out cyclonedx-file)" = "$R/bom.json" ]
check "  a CycloneDX 1.6 document" "$PY" -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["bomFormat"] == "CycloneDX" and b["specVersion"] == "1.6" and b["components"]' "$R/bom.json"

scan_runner
expect_code 0 "a config input with fail-on override: medium=off,high=off,critical=off passes" \
  sub INPUT_TARGETS=examples INPUT_FAIL_ON=critical=off,high=off,medium=off run
check "  exit-code=0" [ "$(out exit-code)" = 0 ]
check "  though critical findings exist" [ "$(out critical)" -gt 0 ]

scan_runner
expect_code 2 "a missing config file is an error that fails the step" \
  sub INPUT_TARGETS=examples INPUT_CONFIG=nope.yml run
check "  with the reason" contains "$LOG" "nope.yml not found"
cp "$ROOT/examples/malicious/os_system.pkl" "$GITHUB_WORKSPACE/a.pkl"
expect_code 2 "targets are not glob-expanded by the shell (*.pkl stays literal)" sub INPUT_TARGETS='*.pkl' run
check "  modelgate names the literal target" contains "$LOG" "*.pkl"
expect_code 2 "a malformed shard is refused" sub INPUT_SHARD=x run
expect_code 2 "shard and merge together are refused" sub INPUT_SHARD=1/2 INPUT_MERGE=a.json run
expect_code 2 "annotations must be true or false" sub INPUT_ANNOTATIONS=yes run

# Sharding: two shard steps that do not fail, then a merge step that gates.
scan_runner
mkdir -p "$R/reports"
for k in 1 2; do
  : >"$GITHUB_OUTPUT"
  expect_code 0 "shard $k/2 of the examples records but does not gate" \
  sub INPUT_TARGETS=examples INPUT_SHARD="$k/2" INPUT_JSON_FILE="$R/reports/shard-$k.json" run
  check "  exit-code=0" [ "$(out exit-code)" = 0 ]
done
: >"$GITHUB_OUTPUT"
expect_code 0 "merge of the shard reports (a directory)" \
  sub INPUT_MERGE="$R/reports" INPUT_CATEGORY=merged run
merged_out="$GITHUB_OUTPUT"
check "  gates: exit-code=1" [ "$(out exit-code)" = 1 ]
check "  verdict=fail" [ "$(out verdict)" = fail ]
scan_runner
expect_code 0 "the same scan unsharded" sub INPUT_TARGETS=examples run
for sev in critical high medium low info; do
  check "  merged $sev equals the full run's ($(out "$sev"))" [ "$(out "$sev" "$merged_out")" = "$(out "$sev")" ]
done

echo "# action.yml"
check "action.yml: inputs reach scripts only through env, outputs are wired" \
  "$PY" "$ROOT/tests/integration/check_action.py" "$ROOT/action.yml"

check_summary
