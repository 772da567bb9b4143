#!/usr/bin/env bash
# Re-fetches the vendored GraphiQL assets from the npm registry and rewrites the table of
# README.md beside this script (package, version, license, size, sha256 of every file).
#
# Usage:
#     bash api/assets/graphiql/update.sh          # fetch the versions pinned below, write them here
#     bash api/assets/graphiql/update.sh --check  # fetch them again and fail if anything here differs
#
# To upgrade: change a version in ASSETS below, run the script, rebuild chidao (the files are
# embedded with include_bytes!, and their URLs carry a hash of their content, so browsers that
# cached the old ones fetch the new ones), and run tests/browser/run.sh.
#
# `npm pack` checks each tarball against the integrity hash the registry publishes for it.
# Needs npm, tar, sha256sum and node.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# file here                     package      version  file inside the package
ASSETS=(
    "react.production.min.js     react        18.3.1   umd/react.production.min.js"
    "react-dom.production.min.js react-dom    18.3.1   umd/react-dom.production.min.js"
    "graphiql.min.js             graphiql     3.9.0    graphiql.min.js"
    "graphiql.min.css            graphiql     3.9.0    graphiql.min.css"
    "graphql-ws.min.js           graphql-ws   6.4.2    umd/graphql-ws.min.js"
)

CHECK=0
case "${1:-}" in
    "") ;;
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

TMP="$(mktemp -d "${TMPDIR:-/tmp}/chidao-graphiql-assets.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP/out"
mkdir -p "$OUT/licenses"

table="| file | package | version | license | bytes | sha256 |"$'\n'"|---|---|---|---|---|---|"
for line in "${ASSETS[@]}"; do
    read -r file pkg version inner <<<"$line"
    dir="$TMP/pkg/$pkg-$version"
    if [[ ! -d "$dir" ]]; then
        mkdir -p "$dir"
        tarball="$(cd "$TMP" && npm pack --silent "$pkg@$version")"
        tar -xzf "$TMP/$tarball" -C "$dir"
        # The license of the version fetched, as its own package.json says.
        license="$(node -p 'require(process.argv[1]).license' "$dir/package/package.json")"
        echo "$license" >"$dir/license"
        found=""
        for name in LICENSE LICENSE.md LICENSE.txt license; do
            if [[ -f "$dir/package/$name" ]]; then found="$dir/package/$name"; break; fi
        done
        [[ -n "$found" ]] || { echo "update.sh: $pkg@$version ships no LICENSE file" >&2; exit 1; }
        cp "$found" "$OUT/licenses/$pkg.LICENSE"
    fi
    [[ -f "$dir/package/$inner" ]] || { echo "update.sh: $pkg@$version has no $inner" >&2; exit 1; }
    cp "$dir/package/$inner" "$OUT/$file"
    bytes="$(stat -c %s "$OUT/$file")"
    sum="$(sha256sum "$OUT/$file" | cut -d' ' -f1)"
    table+=$'\n'"| \`$file\` | \`$pkg\` | $version | $(cat "$dir/license") | $bytes | \`$sum\` |"
    echo "update.sh: $file  $pkg@$version  $bytes bytes  sha256 $sum"
done

# The table sits between two markers in README.md; everything else there is written by hand.
readme="$HERE/README.md"
new_readme="$TMP/README.md"
awk -v table="$table" '
    /<!-- assets:begin -->/ { print; print table; skip = 1; next }
    /<!-- assets:end -->/ { skip = 0 }
    !skip { print }
' "$readme" >"$new_readme"
grep -q '<!-- assets:end -->' "$new_readme" || { echo "update.sh: README.md lacks the table markers" >&2; exit 1; }

if ((CHECK)); then
    status=0
    for line in "${ASSETS[@]}"; do
        read -r file _ <<<"$line"
        cmp -s "$OUT/$file" "$HERE/$file" || { echo "update.sh: $file differs from the registry's" >&2; status=1; }
    done
    for lic in "$OUT"/licenses/*; do
        cmp -s "$lic" "$HERE/licenses/$(basename "$lic")" || { echo "update.sh: licenses/$(basename "$lic") differs" >&2; status=1; }
    done
    cmp -s "$new_readme" "$readme" || { echo "update.sh: README.md's table is out of date" >&2; status=1; }
    ((status == 0)) && echo "update.sh: every asset matches the registry and README.md"
    exit "$status"
fi

for line in "${ASSETS[@]}"; do
    read -r file _ <<<"$line"
    cp "$OUT/$file" "$HERE/$file"
done
mkdir -p "$HERE/licenses"
cp "$OUT"/licenses/* "$HERE/licenses/"
cp "$new_readme" "$readme"
echo "update.sh: wrote the assets, licenses/ and the table of README.md"
