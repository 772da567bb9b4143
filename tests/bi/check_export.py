#!/usr/bin/env python3
"""Checks an indicator export the way a BI user would open it.

Usage: check_export.py FILE.csv FILE.json EXPECTED_ROWS
       check_export.py --url BASE_URL TOKEN EXPECTED_ROWS   (fetches the exports itself)

* Python's csv module reads the CSV (UTF-8 with a byte-order mark, header row).
* pandas reads the same CSV, as the README's line does (`dtype` keeps codes and periods as
  text), and the JSON with `pd.read_json`.
* With --url, the exports are fetched as the README says, with `requests` (which asks for gzip
  by default, as curl --compressed, Node's fetch and Power BI do): the answer must be
  gzip-encoded and whole.
* Both agree on rows, columns, Vietnamese text and numbers (`.` as the decimal mark).

pandas and requests come pinned from tests/bi/requirements.txt, installed once into
target/pydeps/ (the machine's own packages are never used).
"""
import csv
import hashlib
import importlib
import io
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def pinned_packages():
    """Puts the pinned requirements first on sys.path, installing them on first use."""
    req = os.path.join(HERE, "requirements.txt")
    digest = hashlib.sha256(open(req, "rb").read()).hexdigest()[:12]
    target = os.path.abspath(os.path.join(HERE, "..", "..", "target", "pydeps", digest))
    stamp = os.path.join(target, ".installed")
    if not os.path.exists(stamp):
        os.makedirs(target, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--target", target, "-r", req], check=True)
        open(stamp, "w").write("ok\n")
    sys.path.insert(0, target)
    importlib.invalidate_caches()


pinned_packages()
import pandas as pd  # noqa: E402
import requests  # noqa: E402

if sys.argv[1] == "--url":
    base, token, expected = sys.argv[2], sys.argv[3], int(sys.argv[4])
    headers = {"Authorization": "Bearer " + token}
    bodies = {}
    for fmt in ["csv", "json"]:
        res = requests.get(f"{base}/export/indicators.{fmt}?year=2025", headers=headers, timeout=60)
        res.raise_for_status()
        sent = requests.utils.default_headers()["Accept-Encoding"]
        assert "gzip" in sent, f"requests asks for gzip by default: {sent}"
        assert res.headers.get("Content-Encoding") == "gzip", f"{fmt}: gzip-encoded ({res.headers})"
        bodies[fmt] = res.content
    # The README's pandas line, as written there.
    df = pd.read_csv(io.BytesIO(bodies["csv"]), encoding="utf-8-sig",
                     dtype={"indicator_code": str, "period": str})
    assert len(df) == expected, f"pandas over gzip: {len(df)} rows, expected {expected}"
    assert "2025.10" in set(df["indicator_code"]), "codes stay text (2025.10 is not the float 2025.1)"
    dirpath = os.path.join(HERE, "..", "..", "target", "bi-gzip")
    os.makedirs(dirpath, exist_ok=True)
    csv_path, json_path = os.path.join(dirpath, "indicators.csv"), os.path.join(dirpath, "indicators.json")
    open(csv_path, "wb").write(bodies["csv"])
    open(json_path, "wb").write(bodies["json"])
    print(f"ok: gzip answers read by requests {requests.__version__}")
else:
    csv_path, json_path, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])

raw = open(csv_path, "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark (for Excel)"
with open(csv_path, newline="", encoding="utf-8-sig") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == expected, f"csv module: {len(rows)} rows, expected {expected}"
header = list(rows[0].keys()) if rows else []
for col in ["indicator_code", "indicator_name", "unit", "target", "comparator", "period", "value", "kind",
            "achievement", "responsible_agency", "recorded_at"]:
    assert col in header, f"column {col} in {header}"
for r in rows:
    if r["value"]:
        float(r["value"])  # machine-readable number: '.' decimal mark, no thousands separator
    else:
        assert r["kind"] == "" and r["period"] == r["year"], f"a target row stands for its year: {r}"
    if r["target"]:
        float(r["target"])

data = json.load(open(json_path, encoding="utf-8"))
assert isinstance(data, list) and len(data) == expected, "JSON: an array with a flat object per row"
assert all(not isinstance(v, (dict, list)) for o in data for v in o.values()), "flat objects"

df = pd.read_csv(csv_path, encoding="utf-8-sig", dtype={"indicator_code": str, "period": str})
assert all(isinstance(c, str) for c in df["indicator_code"]) and all(isinstance(p, str) for p in df["period"]), \
    "codes and periods read as text"
assert len(df) == expected, f"pandas: {len(df)} rows"
assert list(df.columns) == header, "pandas sees the same columns"
dj = pd.read_json(json_path, dtype={"indicator_code": str, "period": str})
assert len(dj) == expected
for o in data:
    assert isinstance(o["indicator_code"], str) and isinstance(o["period"], str), f"JSON keeps text as text: {o}"
if expected:
    assert df["value"].dtype.kind == "f" or df["value"].dtype.kind == "i", f"numeric values: {df['value'].dtype}"
    names = set(df["indicator_name"])
    assert names == {r["indicator_name"] for r in rows}, "Vietnamese names intact"
    got = [None if pd.isna(v) else round(float(v), 6) for v in df["value"]]
    assert got == [round(float(r["value"]), 6) if r["value"] else None for r in rows]
print(f"ok: {expected} rows read by csv, json and pandas {pd.__version__}")
