#!/usr/bin/env bash
# update-checksums.sh TAG DIST CHECKSUMS: rewrites the lines of CHECKSUMS
# (action/checksums.txt) for release TAG from the assets in DIST, as release.yml does
# after publishing: "<sha256>  v<version>/<asset>" for every modelgate-* archive, hashed
# here (not copied from the .sha256 files), keeping other versions' lines and comments.
set -euo pipefail

tag="$1" dist="$2" checksums="$3"
version="${tag#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
  echo "not a release tag: $tag" >&2
  exit 2
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print $1 }'
  else
    shasum -a 256 "$1" | awk '{ print $1 }'
  fi
}

new="$(mktemp)"
trap 'rm -f "$new"' EXIT
if [ -f "$checksums" ]; then
  awk -v prefix="v$version/" 'substr($2, 1, length(prefix)) != prefix' "$checksums" >"$new"
fi
count=0
for f in "$dist"/modelgate-*.tar.gz "$dist"/modelgate-*.zip; do
  [ -f "$f" ] || continue
  echo "$(sha256_of "$f")  v$version/$(basename "$f")" >>"$new"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || {
  echo "no modelgate-*.tar.gz or modelgate-*.zip in $dist" >&2
  exit 2
}
mv "$new" "$checksums"
trap - EXIT
echo "$checksums: $count assets of v$version"
