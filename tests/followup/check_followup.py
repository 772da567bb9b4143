"""Opens the follow-up table as its readers do (issue #21).

Usage: check_followup.py URL ADMIN_TOKEN AGENCY_TOKEN ANALYST_TOKEN OUT_DIR

* openpyxl (PyPI, pinned): the sheet names, the Vietnamese header row, the frozen header, the
  column widths, dates stored as dates, the bar chart on the first sheet, and Sở Tài chính's
  row equal to what GraphQL says (taskStatistics and reportingCompliance grouped by agency);
* an agency token's workbook holds its own row only; an analyst gets the CSV, not the workbook;
* the CSV (UTF-8 with BOM) holds the same rows as the first sheet.
Writes OUT_DIR/follow-up.xlsx for LibreOffice (run.sh converts it). Exits non-zero on a failure.
"""
import csv
import datetime
import io
import json
import sys
import urllib.error
import urllib.request

import openpyxl

URL, ADMIN, AGENCY, ANALYST, OUT = sys.argv[1:6]
AS_OF = "2025-12-31"
HEADERS = [
    "STT", "Cơ quan, đơn vị", "Mã cơ quan", "Nhiệm vụ được giao", "Hoàn thành đúng hạn",
    "Hoàn thành quá hạn", "Đang thực hiện trong hạn", "Quá hạn chưa hoàn thành",
    "Quá hạn trên 30 ngày", "Quá hạn trên 60 ngày", "Quá hạn trên 120 ngày", "Không có thời hạn",
    "Báo cáo phải nộp", "Báo cáo đúng hạn", "Báo cáo muộn", "Báo cáo quá hạn chưa nộp",
    "Tỷ lệ báo cáo (%)",
]


def fail(msg):
    print(f"follow-up: FAIL {msg}", file=sys.stderr)
    sys.exit(1)


def get(path, token):
    req = urllib.request.Request(URL + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def gql(query, token):
    body = json.dumps({"query": query}).encode()
    req = urllib.request.Request(URL + "/graphql", data=body, headers={
        "Authorization": f"Bearer {token}", "content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        out = json.load(r)
    if out.get("errors"):
        fail(f"GraphQL errors: {out['errors']}")
    return out["data"]


status, ctype, body = get(f"/export/follow-up.xlsx?asOf={AS_OF}", ADMIN)
if status != 200 or "spreadsheetml" not in ctype:
    fail(f"xlsx: {status} {ctype} {body[:200]!r}")
with open(f"{OUT}/follow-up.xlsx", "wb") as f:
    f.write(body)
wb = openpyxl.load_workbook(io.BytesIO(body))
if wb.sheetnames != ["Tổng hợp", "Quá hạn"]:
    fail(f"sheet names {wb.sheetnames}")
ws = wb["Tổng hợp"]
header = [c.value for c in ws[1]]
if header != HEADERS:
    fail(f"header row {header}")
if ws.freeze_panes != "A2":
    fail(f"frozen panes {ws.freeze_panes}")
if abs(ws.column_dimensions["B"].width - 42) > 1:
    fail(f"column B width {ws.column_dimensions['B'].width}")
charts = ws._charts
if len(charts) != 1 or charts[0].tagname != "barChart":
    fail(f"charts on the first sheet: {[c.tagname for c in charts]}")

rows = {}
for r in ws.iter_rows(min_row=2, values_only=True):
    if r[2]:
        rows[r[2]] = r
stc = rows.get("so-tai-chinh")
if stc is None:
    fail(f"no Sở Tài chính row among {sorted(rows)[:5]}…")
if stc[1] != "Sở Tài chính":
    fail(f"agency name {stc[1]!r}")

d = gql(f"""{{ taskStatistics(asOf: "{AS_OF}", groupBy: [AGENCY]) {{ groups {{ agency {{ code }}
      counts {{ total completedOnTime completedLate inProgressOnTime inProgressOverdue overdueOver30Days
                overdueOver60Days overdueOver120Days completedNoDeadline inProgressNoDeadline }} }} }}
    reportingCompliance(asOf: "{AS_OF}", groupBy: [AGENCY]) {{ groups {{ agency {{ code }} expected onTime late overdue }} }} }}""",
        ADMIN)
tasks = next(g["counts"] for g in d["taskStatistics"]["groups"] if g["agency"]["code"] == "so-tai-chinh")
reports = next(g for g in d["reportingCompliance"]["groups"] if g["agency"]["code"] == "so-tai-chinh")
want = [tasks["total"], tasks["completedOnTime"], tasks["completedLate"], tasks["inProgressOnTime"],
        tasks["inProgressOverdue"], tasks["overdueOver30Days"], tasks["overdueOver60Days"],
        tasks["overdueOver120Days"], tasks["completedNoDeadline"] + tasks["inProgressNoDeadline"],
        reports["expected"], reports["onTime"], reports["late"], reports["overdue"]]
got = [int(v) for v in stc[3:16]]
if got != want:
    fail(f"Sở Tài chính's row {got} != GraphQL {want}")
if tasks["inProgressOverdue"] == 0 or reports["overdue"] == 0:
    fail("expected overdue tasks and reports for Sở Tài chính on the seeds")

od = wb["Quá hạn"]
if od.freeze_panes != "A2":
    fail("the overdue sheet's header is not frozen")
listed = list(od.iter_rows(min_row=2, values_only=True))
kinds = {r[1] for r in listed}
if kinds != {"Nhiệm vụ", "Báo cáo"}:
    fail(f"overdue kinds {kinds}")
if not all(isinstance(r[7], datetime.datetime) for r in listed if r[7] is not None):
    fail("due dates are not dates")
iii3 = [r for r in listed if r[4] == "III.3-1" and r[1] == "Báo cáo"]
if not iii3 or iii3[0][2] != "Sở Tài chính" or iii3[0][3] != "10/CT-UBND":
    fail(f"III.3's overdue monthly reports: {iii3[:2]}")
jan = [r for r in iii3 if r[6] == "202501"]
if not jan or jan[0][7].date() != datetime.date(2025, 1, 20) or jan[0][8] != 345:
    fail(f"III.3's January report row: {jan}")

# An agency's own table: its row only.
status, _, body = get(f"/export/follow-up.xlsx?asOf={AS_OF}", AGENCY)
if status != 200:
    fail(f"agency xlsx: {status}")
own = openpyxl.load_workbook(io.BytesIO(body))["Tổng hợp"]
codes = {r[2] for r in own.iter_rows(min_row=2, values_only=True) if r[2]}
if codes != {"so-tai-chinh"}:
    fail(f"an agency's table holds {codes}")

# The analyst: the CSV, not the rows.
status, _, _ = get(f"/export/follow-up.xlsx?asOf={AS_OF}", ANALYST)
if status != 403:
    fail(f"analyst xlsx: {status}")
status, ctype, body = get(f"/export/follow-up.csv?asOf={AS_OF}", ANALYST)
if status != 200 or not ctype.startswith("text/csv") or not body.startswith(b"\xef\xbb\xbf"):
    fail(f"analyst csv: {status} {ctype}")
table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
if table[0][:17] != HEADERS or table[0][17] != "Tính đến ngày":
    fail(f"csv header {table[0]}")
csv_stc = next(r for r in table[1:] if r[2] == "so-tai-chinh")
if [int(v) for v in csv_stc[3:16]] != got or csv_stc[17] != AS_OF:
    fail(f"csv row {csv_stc} != sheet {got}")
if len(table) - 1 != len(rows):
    fail(f"csv rows {len(table) - 1} != sheet rows {len(rows)}")

status, _, body = get("/export/follow-up.xlsx?asOf=31-12-2025", ADMIN)
if status != 400 or b"BAD_USER_INPUT" not in body:
    fail(f"a bad date: {status} {body[:200]!r}")
print(f"follow-up: openpyxl read {len(rows)} agencies and {len(listed)} overdue rows; "
      f"Sở Tài chính {got}; chart {charts[0].tagname}")
