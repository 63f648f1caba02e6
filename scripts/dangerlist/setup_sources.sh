#!/usr/bin/env bash
# Install the source trees that build_dangerlist.py analyses: every pin of pins.txt, with
# `pip install --no-deps --no-compile --target SRC/<env>`. These are source trees, not
# environments: nothing in them is imported or run (the generator only parses the files).
#
#   bash scripts/dangerlist/setup_sources.sh SRC
#
# torch alone is about 1 GB per version; pass an existing site-packages that has the pinned
# torch with `--root main=DIR` to build_dangerlist.py instead, and drop it here with
# SKIP="torch" (space-separated dist names).
set -euo pipefail
SRC=${1:?usage: setup_sources.sh SRC}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
SKIP=${SKIP:-}
for env in $(awk '!/^#/ && NF {print $1}' "$HERE/pins.txt" | sort -u); do
  mkdir -p "$SRC/$env"
  awk -v e="$env" '!/^#/ && $1 == e {print $2}' "$HERE/pins.txt" | while read -r spec; do
    dist=${spec%%==*}
    case " $SKIP " in *" $dist "*) echo "skip $spec"; continue ;; esac
    echo "== $env $spec"
    # one dist at a time: a dist that shares a folder with another (lightning and
    # lightning-fabric) must not be skipped for "target directory exists".
    "$PY" -m pip install --quiet --no-deps --no-compile --upgrade --target "$SRC/$env" "$spec"
  done
done
