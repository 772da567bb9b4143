#!/usr/bin/env bash
# The follow-up office's table opened by real readers (issue #21): Python openpyxl (PyPI,
# pinned) checks the workbook and the CSV against GraphQL; LibreOffice (Debian's
# libreoffice-calc-nogui) converts the workbook to PDF headless, and pdftoppm (poppler-utils)
# renders its first page to target/followup/page-1.png.
# Usage: bash tests/followup/run.sh   (CHIDAO_BIN picks the binary; default `cargo build`)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
source "$HERE/../lib.sh"
LIB_NAME=follow-up
say() { echo "follow-up: $*"; }

if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing LibreOffice Calc and poppler-utils from Debian"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends libreoffice-calc-nogui poppler-utils >/dev/null \
            || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libreoffice-calc-nogui poppler-utils >/dev/null; }
    else
        echo "follow-up: needs soffice (libreoffice-calc-nogui) and pdftoppm (poppler-utils)" >&2
        exit 2
    fi
fi

lib_pydeps followup "$HERE/requirements.txt"
lib_bin
lib_tmp
SECRET="$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')"
lib_serve "$TMP/server.log" DATABASE_URL="sqlite://$TMP/followup.db?mode=rwc" JWT_SECRET="$SECRET"
tok() { DATABASE_URL="sqlite://$TMP/followup.db?mode=rwc" JWT_SECRET="$SECRET" "$BIN" token --ttl 15m "$@"; }
ADMIN="$(tok --role admin)"
AGENCY="$(tok --role agency --agency so-tai-chinh)"
ANALYST="$(tok --role analyst)"
PYTHONPATH="$PYDEPS" PYTHONNOUSERSITE=1 python3 "$HERE/check_followup.py" \
    "http://127.0.0.1:$PORT" "$ADMIN" "$AGENCY" "$ANALYST" "$TMP"

# LibreOffice opens it and prints it; the first page becomes a picture.
OUT="$ROOT/target/followup"
mkdir -p "$OUT"
HOME="$TMP" timeout 180 soffice --headless --norestore --convert-to pdf --outdir "$TMP" "$TMP/follow-up.xlsx" >"$TMP/soffice.log" 2>&1 \
    || { cat "$TMP/soffice.log" >&2; exit 1; }
[[ -s "$TMP/follow-up.pdf" ]] || { echo "follow-up: LibreOffice made no PDF" >&2; cat "$TMP/soffice.log" >&2; exit 1; }
PAGES="$(pdfinfo "$TMP/follow-up.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')"
rm -f "$OUT"/page-*.png
pdftoppm -png -r 110 -f 1 -l 1 "$TMP/follow-up.pdf" "$OUT/page"
PNG="$(ls "$OUT"/page-*1.png | head -n1)"
[[ -s "$PNG" ]] || { echo "follow-up: no picture of page 1" >&2; exit 1; }
cp "$TMP/follow-up.pdf" "$TMP/follow-up.xlsx" "$OUT/"
# Page 1 as printed: the title from the sheet's header, the table's header, its first agency
# (the districts come first), the totals and the chart's title.
pdftotext -f 1 -l 1 -layout "$TMP/follow-up.pdf" "$TMP/page-1.txt"
for want in "Tình hình thực hiện nhiệm vụ và chế độ báo cáo" "Cơ quan, đơn vị" "UBND huyện Bát Xát" "Tổng cộng" \
    "Nhiệm vụ quá hạn theo cơ quan"; do
    grep -qF "$want" "$TMP/page-1.txt" || { echo "follow-up: page 1 lacks «$want»" >&2; cat "$TMP/page-1.txt" >&2; exit 1; }
done
say "LibreOffice printed the workbook to ${PAGES:-?} PDF pages; page 1 is $PNG"
say "passed"
