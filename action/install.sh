#!/usr/bin/env bash
# Installs modelgate for the GitHub Action (action.yml, step "install").
#
# Picks the release asset for RUNNER_OS/RUNNER_ARCH, checks its SHA-256 against
# action/checksums.txt (committed in this repository: the trust anchor, never downloaded),
# and fails hard on a mismatch. When checksums.txt lists no asset for this version and
# platform — no release yet, or a platform without a prebuilt binary — it builds this
# action's own source instead: `cargo install --locked --path "$GITHUB_ACTION_PATH"`.
#
# Inputs (environment only; action.yml never interpolates inputs into the script):
#   MODELGATE_VERSION           release to install, e.g. 0.1.0 (default: this action's version)
#   MODELGATE_RELEASE_BASE_URL  where the assets live (default: this repository's GitHub
#                               release for the version); https://, file:// or a directory,
#                               for mirrors and for the offline tests
#   GITHUB_ACTION_PATH RUNNER_OS RUNNER_ARCH RUNNER_TEMP GITHUB_PATH GITHUB_OUTPUT
# Outputs (GITHUB_OUTPUT): path (the binary), source (release | source), version.
set -euo pipefail

die() {
  echo "::error title=modelgate install::$*"
  exit 1
}

: "${GITHUB_ACTION_PATH:?}" "${RUNNER_OS:?}" "${RUNNER_ARCH:?}" "${RUNNER_TEMP:?}"
: "${GITHUB_PATH:?}" "${GITHUB_OUTPUT:?}"

# Windows runners run this under Git Bash: work with POSIX paths inside, hand Windows
# paths to GitHub (GITHUB_PATH, outputs). cygpath exists only there.
if command -v cygpath >/dev/null 2>&1; then
  RUNNER_TEMP="$(cygpath -u "$RUNNER_TEMP")"
  GITHUB_ACTION_PATH="$(cygpath -u "$GITHUB_ACTION_PATH")"
  native() { cygpath -w "$1"; }
else
  native() { printf '%s\n' "$1"; }
fi

REPOSITORY="modelgate/modelgate"
CHECKSUMS="$GITHUB_ACTION_PATH/action/checksums.txt"

# This action's own version: the fallback builds exactly this source.
action_version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$GITHUB_ACTION_PATH/Cargo.toml" | head -n 1)"
[ -n "$action_version" ] || die "cannot read the version from $GITHUB_ACTION_PATH/Cargo.toml"

version="${MODELGATE_VERSION:-}"
version="${version#v}"
[ -n "$version" ] || version="$action_version"
# A version ends up in a URL and in file names: accept semver only.
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  die "version '$version' is not a release version (expected e.g. 0.1.0)"
fi

exe=""
case "$RUNNER_OS/$RUNNER_ARCH" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=.exe ;;
  Windows/ARM64) target=aarch64-pc-windows-msvc exe=.exe ;;
  *) target="" ;;
esac
case "$target" in
  *windows*) asset="modelgate-$target.zip" ;;
  "") asset="" ;;
  *) asset="modelgate-$target.tar.gz" ;;
esac

# checksums.txt: "<sha256>  v<version>/<asset>" per line, as release.yml writes it.
expected=""
if [ -n "$asset" ] && [ -f "$CHECKSUMS" ]; then
  expected="$(awk -v key="v$version/$asset" '$1 !~ /^#/ && $2 == key { print tolower($1); exit }' "$CHECKSUMS")"
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print $1 }'
  else
    openssl dgst -sha256 -r "$1" | awk '{ print $1 }'
  fi
}

# PowerShell receives the paths as $args, not through the shell.
# shellcheck disable=SC2016
extract_zip() { # ZIP DIR
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$1" -d "$2"
  elif command -v 7z >/dev/null 2>&1; then
    7z x -y -o"$2" "$1" >/dev/null
  elif command -v pwsh >/dev/null 2>&1; then
    pwsh -NoProfile -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1] -Force' "$1" "$2"
  elif command -v powershell >/dev/null 2>&1; then
    powershell -NoProfile -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1] -Force' "$1" "$2"
  else
    python3 -m zipfile -e "$1" "$2"
  fi
}

install_dir="$(mktemp -d "$RUNNER_TEMP/modelgate.XXXXXX")"

if [ -n "$expected" ]; then
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "checksums.txt has a malformed entry for v$version/$asset"
  base="${MODELGATE_RELEASE_BASE_URL:-https://github.com/$REPOSITORY/releases/download/v$version}"
  base="${base%/}"
  archive="$install_dir/$asset"
  echo "modelgate $version: downloading $asset from $base"
  case "$base" in
    https://* | file://*)
      curl --fail --silent --show-error --location --retry 3 --proto '=https,file' \
        --output "$archive" "$base/$asset" ||
        die "cannot download $base/$asset (checksums.txt lists it, so it should exist)"
      ;;
    *://*) die "MODELGATE_RELEASE_BASE_URL must be https://, file:// or a directory, got $base" ;;
    *)
      [ -f "$base/$asset" ] || die "$base/$asset not found (checksums.txt lists it, so it should exist)"
      cp "$base/$asset" "$archive"
      ;;
  esac
  actual="$(sha256_of "$archive" | tr 'A-F' 'a-f')"
  if [ "$actual" != "$expected" ]; then
    die "SHA-256 mismatch for $asset: expected $expected (action/checksums.txt), got $actual. Refusing to run it."
  fi
  echo "SHA-256 verified: $actual"
  unpack="$install_dir/unpacked"
  mkdir -p "$unpack"
  case "$asset" in
    *.zip) extract_zip "$archive" "$unpack" ;;
    *) tar -xzf "$archive" -C "$unpack" ;;
  esac
  bin="$unpack/modelgate$exe"
  if [ -L "$bin" ] || [ ! -f "$bin" ]; then
    die "$asset does not hold modelgate$exe at its top level"
  fi
  chmod +x "$bin"
  source=release
else
  if [ -z "$target" ]; then
    why="no prebuilt binary for $RUNNER_OS/$RUNNER_ARCH"
  else
    why="action/checksums.txt lists no v$version/$asset (no release asset for this version and platform)"
  fi
  if [ "$version" != "$action_version" ]; then
    die "$why, and building from source would give this action's version $action_version, not $version: use the action at tag v$version, or leave 'version' empty"
  fi
  command -v cargo >/dev/null 2>&1 ||
    die "$why, and cargo is not installed to build it from source: add a Rust toolchain step (e.g. dtolnay/rust-toolchain) before this action"
  echo "::notice title=modelgate install::$why: building modelgate $version from source (cargo install --locked)"
  cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$install_dir" --bin modelgate
  bin="$install_dir/bin/modelgate$exe"
  [ -f "$bin" ] || die "cargo install did not produce $bin"
  source=source
fi

reported="$("$bin" --version)" || die "the installed binary does not run: $bin --version failed"
if [ "$reported" != "modelgate $version" ]; then
  die "the installed binary reports '$reported', expected 'modelgate $version'"
fi
echo "$reported ($source) at $bin"
native "$(dirname "$bin")" >>"$GITHUB_PATH"
{
  echo "path=$(native "$bin")"
  echo "source=$source"
  echo "version=$version"
} >>"$GITHUB_OUTPUT"
