#!/usr/bin/env python3
"""Checks an indicator export the way a BI user would open it.

Usage: check_export.py FILE.csv FILE.json EXPECTED_ROWS

* Python's csv module reads the CSV (UTF-8 with a byte-order mark, header row).
* pandas reads the same CSV, as `pd.read_csv` in a notebook would, and the JSON with
  `pd.read_json`; pandas is installed into target/pydeps on first use if it is missing.
* Both agree on rows, columns, Vietnamese text and numbers (`.` as the decimal mark).
"""
import csv
import importlib
import json
import os
import subprocess
import sys

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
    float(r["value"])  # machine-readable number: '.' decimal mark, no thousands separator
    if r["target"]:
        float(r["target"])

data = json.load(open(json_path, encoding="utf-8"))
assert isinstance(data, list) and len(data) == expected, "JSON: an array with a flat object per row"
assert all(not isinstance(v, (dict, list)) for o in data for v in o.values()), "flat objects"

try:
    import pandas as pd
except ImportError:
    # pandas is not on the machine: install it once into target/pydeps (git-ignored). The folder
    # exists before it goes on sys.path, and the import caches are cleared after pip has filled
    # it: a path entry that was missing or empty when first searched is otherwise not searched
    # again (a fresh checkout failed here).
    target = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "target", "pydeps"))
    os.makedirs(target, exist_ok=True)
    sys.path.insert(0, target)
    try:
        import pandas as pd
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", target, "pandas"], check=True)
        importlib.invalidate_caches()
        import pandas as pd

df = pd.read_csv(csv_path, encoding="utf-8-sig", dtype={"indicator_code": str, "period": str})
assert len(df) == expected, f"pandas: {len(df)} rows"
assert list(df.columns) == header, "pandas sees the same columns"
dj = pd.read_json(json_path, dtype={"indicator_code": str, "period": str})
assert len(dj) == expected
if expected:
    assert df["value"].dtype.kind == "f" or df["value"].dtype.kind == "i", f"numeric values: {df['value'].dtype}"
    names = set(df["indicator_name"])
    assert names == {r["indicator_name"] for r in rows}, "Vietnamese names intact"
    assert (df["value"].astype(float).round(6).tolist() == [round(float(r["value"]), 6) for r in rows])
print(f"ok: {expected} rows read by csv, json and pandas {pd.__version__}")
