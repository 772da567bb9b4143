#!/usr/bin/env bash
# Directive intake (issue #23), as CI shows it:
#   1. the scores on both seed documents against the reviewed seeds (tests/intake, printed), the
#      table tests of other provinces' passages, and the drafts loaded by the seed loader;
#   2. `.docx`: each seed document written as a .docx by python-docx (PyPI, pinned), imported
#      with `chidao import directive`, gives the same draft as its plain text.
# Usage: bash tests/intake/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
say() { echo "intake: $*"; }

(cd "$ROOT" && cargo test -q --test intake -- --nocapture --test-threads 1 2>&1 | grep -E 'intake:|test result|panicked|FAILED' )
lib_pydeps intake "$HERE/requirements.txt"
lib_bin
lib_tmp
for doc in 10-CT-UBND 2025-thi-dua-dac-biet; do
    txt="$ROOT/tests/fixtures/seed-docs/$doc.txt"
    PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/make_docx.py" "$txt" "$TMP/$doc.docx"
    "$BIN" import directive "$txt" --agencies "$ROOT/seeds/agencies.yaml" --out "$TMP/$doc.txt.yaml" 2>"$TMP/err"
    "$BIN" import directive "$TMP/$doc.docx" --agencies "$ROOT/seeds/agencies.yaml" --out "$TMP/$doc.docx.yaml" 2>>"$TMP/err"
    # The first line names the source file; everything else must be the same.
    if ! diff <(tail -n +2 "$TMP/$doc.txt.yaml") <(tail -n +2 "$TMP/$doc.docx.yaml") >"$TMP/diff"; then
        head -40 "$TMP/diff" >&2
        echo "intake: $doc.docx reads differently from its text" >&2
        exit 1
    fi
    say "$doc.docx (python-docx, $(stat -c %s "$TMP/$doc.docx") bytes): the same draft as the text — $(tail -n1 "$TMP/err")"
done
say "passed"
