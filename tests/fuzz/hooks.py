"""Schemathesis hooks for fuzzing chidao's GraphQL API (loaded by tests/fuzz/run.sh).

What they add to a plain `schemathesis run` against schema/schema.graphql:

* Strategies for the custom scalars (`Date`, `DateTime`, `Decimal`, `JSON`, `DocumentText`), without which
  schemathesis skips every operation taking one, and `Int`/`ID`/`String` strategies that mix
  small numbers, real ids and real codes into the random values.
* Real values from the seeded database. At load time the hooks page through the running
  server (with an admin token) for global ids (grouped by type: an id is base64 of
  `Type:n`), agency and indicator codes, directive numbers, task sections, report periods and
  cursors. Each generated query is then rewritten (a `flatmap_body` hook, so Hypothesis draws
  every choice and shrinking and replay still work): an argument or input field whose name
  says what it holds (`taskId`, `leadAgencyCodes`, `task(id:)`, `indicator(code:)`, `period`,
  `deadlineText`...) gets a real value of that kind most of the time, a value of another kind
  or the random one otherwise. Without this nearly every lookup is NOT_FOUND and no mutation
  gets past its first check.
* Of two arguments the API takes one at a time (`first`/`last`, `after`/`before`,
  `id`/`code`, `id`/`number`), one is usually dropped, so most requests get past argument
  checking; a tenth keep both, so the refusal itself stays tested.
* The check `chidao_no_server_error`: a response fails when its HTTP status is 5xx, when its
  body is not JSON, or when any GraphQL error has `extensions.code == "INTERNAL"` (the
  service's code for an unexpected failure, caught panics included). Errors that say what the
  client did wrong (BAD_USER_INPUT, NOT_FOUND, FORBIDDEN, CONFLICT, TOO_COMPLEX...) and HTTP
  4xx are fine. Schemathesis' own `not_a_server_error` is not used: besides 5xx it counts
  every GraphQL error with a `path` and a code it does not know (NOT_FOUND, FORBIDDEN...) as
  a server error, which here would be noise.
* Bookkeeping: every request is counted (HTTP status, error codes, most frequent error
  messages, slowest response), and each distinct failure is kept with the shortest query that
  produced it, in the files named by CHIDAO_FUZZ_STATS and CHIDAO_FUZZ_FINDINGS, which run.sh
  summarises.

Environment (set by run.sh): CHIDAO_FUZZ_URL (the /graphql endpoint), CHIDAO_FUZZ_HARVEST_TOKEN
(an admin token, used only to harvest values), CHIDAO_FUZZ_TOKEN (the token of the pass, for
an agency's own assignments), CHIDAO_FUZZ_STATS, CHIDAO_FUZZ_FINDINGS.
"""

from __future__ import annotations

import atexit
import base64
import dataclasses
import datetime as dt
import io
import json
import os
import threading
import urllib.request
import zipfile
from collections import Counter, defaultdict
from xml.sax.saxutils import escape as xml_escape

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

URL = os.environ.get("CHIDAO_FUZZ_URL", "")
HARVEST_TOKEN = os.environ.get("CHIDAO_FUZZ_HARVEST_TOKEN", "")
TOKEN = os.environ.get("CHIDAO_FUZZ_TOKEN", "")
STATS_PATH = os.environ.get("CHIDAO_FUZZ_STATS", "")
FINDINGS_PATH = os.environ.get("CHIDAO_FUZZ_FINDINGS", "")


# --------------------------------------------------------------------------------------------
# Harvest: real ids and codes from the server under test.
# --------------------------------------------------------------------------------------------

# Each query is paged with `after` (the API serves at most 100 rows a page).
HARVEST_QUERIES = {
    # Agencies, dissolved ones included, with their assignments (and so tasks and reports).
    "agencies": """query($after: String) { agencies(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor startCursor }
        nodes { id code assignments(first: 10) { pageInfo { endCursor }
          nodes { id task { id } latestReport { id period } } } } } }""",
    "directives": """query($after: String) { directives(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor startCursor } nodes { id code number } } }""",
    "tasks": """query($after: String) { tasks(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor startCursor }
        nodes { id code section item extensions { id } directive { number } } } }""",
    "indicators": """query($after: String) { indicators(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor startCursor } nodes { id code unit } } }""",
    "progressReports": """query($after: String) { progressReports(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { id period } } }""",
    "auditLog": """query($after: String) { auditLog(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { action entity entityId actor } } }""",
}
HARVEST_MAX_PAGES = 5
# With the fuzzing token of an agency: its own assignments, tasks and reports ("own:Task"...),
# which the rewriting prefers, so that its mutations can succeed.
OWN_QUERY = """{ me { agency { assignments(first: 100) {
    nodes { id task { id } latestReport { id } } } } } }"""

# Which harvested string goes in which pool: (query, key) -> pool.
STRING_POOLS = {
    ("agencies", "code"): "agency_code",
    ("directives", "code"): "directive_code",
    ("directives", "number"): "directive_number",
    ("tasks", "number"): "directive_number",
    ("tasks", "code"): "task_code",
    ("tasks", "section"): "section",
    ("tasks", "item"): "section",
    ("indicators", "code"): "indicator_code",
    ("indicators", "unit"): "unit",
    ("agencies", "period"): "period",
    ("progressReports", "period"): "period",
    ("auditLog", "action"): "audit",
    ("auditLog", "entity"): "audit",
    ("auditLog", "entityId"): "audit",
    ("auditLog", "actor"): "audit",
}


def _post(query: str, variables: dict, token: str = HARVEST_TOKEN) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(
        URL,
        data=body,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as res:  # noqa: S310 (loopback only)
        return json.loads(res.read())


def _id_type(gid: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return "?"
    return raw.split(":", 1)[0] if ":" in raw else "?"


def _ids_in(value) -> list[str]:
    """Every `id` value in a response."""
    if isinstance(value, dict):
        return [i for k, v in value.items() for i in ([v] if k == "id" and isinstance(v, str) else _ids_in(v))]
    if isinstance(value, list):
        return [i for v in value for i in _ids_in(v)]
    return []


def harvest() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    ids: dict[str, set[str]] = defaultdict(set)
    strings: dict[str, set[str]] = defaultdict(set)

    def walk(query: str, value, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(query, v, k)
        elif isinstance(value, list):
            for v in value:
                walk(query, v, key)
        elif isinstance(value, str) and value:
            if key == "id":
                ids[_id_type(value)].add(value)
            elif key in ("endCursor", "startCursor"):
                strings["cursor"].add(value)
            elif (query, key) in STRING_POOLS:
                strings[STRING_POOLS[(query, key)]].add(value)

    if not URL or not HARVEST_TOKEN:
        return {}, {}
    for name, q in HARVEST_QUERIES.items():
        after = None
        for _ in range(HARVEST_MAX_PAGES):
            try:
                payload = _post(q, {"after": after})
            except Exception as exc:  # the fuzz run still works, only less deep
                print(f"fuzz hooks: harvesting {name} failed: {exc}")
                break
            if payload.get("errors"):
                print(f"fuzz hooks: harvesting {name}: {json.dumps(payload['errors'], ensure_ascii=False)[:300]}")
            data = payload.get("data") or {}
            walk(name, data)
            page = (data.get(name) or {}).get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                break
            after = page["endCursor"]
    if TOKEN and TOKEN != HARVEST_TOKEN:
        try:
            data = _post(OWN_QUERY, {}, TOKEN).get("data") or {}
        except Exception as exc:
            print(f"fuzz hooks: harvesting the caller's own assignments failed: {exc}")
            data = {}
        own_ids: dict[str, set[str]] = defaultdict(set)
        walk("me", data, None)  # into the general pools too
        for gid in _ids_in(data):
            own_ids[_id_type(gid)].add(gid)
        for kind, values in own_ids.items():
            ids[f"own:{kind}"] = values
    return {k: sorted(v) for k, v in ids.items()}, {k: sorted(v) for k, v in strings.items()}


IDS, STRINGS = harvest()
ALL_IDS = sorted({i for k, v in IDS.items() if not k.startswith("own:") for i in v})

# Values no query returns: period ids (valid and almost valid), deadline phrases (the parser's
# own examples, and near misses), and text that often trips parsers.
# Valid ones first: Hypothesis leans towards the first entries of a pool.
VALID_PERIODS = ["2025Q1", "2025", "2025S1", "2025S2", "2025Q2", "2025Q4", "202501", "202506", "202512",
                 "2024", "2026", "2024Q4", "2026Q1"]
INVALID_PERIODS = ["2025S3", "2025Q0", "2025Q5", "202500", "202513", "0000", "9999", "99999", "2025q1",
                   "-2025", "2025-01", "2025-Q1", " 2025 ", ""]
STRINGS["period"] = list(dict.fromkeys(VALID_PERIODS + STRINGS.get("period", []) + INVALID_PERIODS))
STRINGS["deadline"] = [
    "trong tháng 01/2025", "tháng 12/2025", "Quý II/2025", "trong Quý IV/2025",
    "trước ngày 15/01/2025", "trong năm 2025", "năm 2026", "thường xuyên", "hằng tháng",
    "hằng quý", "6 tháng đầu năm 2025", "trước ngày 31/02/2025", "tháng 13/2025",
    "Quý V/2025", "trước ngày 00/01/2025", "trong năm 0", "trong năm 99999",
    "trước ngày 15/01/2025, trong tháng 12/2025", "",
]
# Free text (titles, summaries, reasons): the generator's favourite is "", which every
# mutation refuses, so a plain sentence, a long one and one with markup come first.
STRINGS["text"] = [
    "Đã hoàn thành các nội dung được giao", "Đang triển khai", "x" * 5000,
    "<script>alert(1)</script>", "'; DROP TABLE task; --", "   ", "",
]
STRINGS["odd"] = ["1", "0", "-1", "1e309", "NaN", "%", "_", "\\", "'", '"', "\u0000", "null", " "]
# What the input layer refuses or cleans (issue #19): NUL and other control characters inside
# text, only invisible characters, decomposed Vietnamese, Windows line ends.
STRINGS["hostile"] = [
    "so-y-te\u0000", "a\u0000b", "\u001b[31mđỏ", "\u0007\u0008", "\u200b\ufeff\u2060", "\u00ad ",
    "Quy\u0301 I/2025", "dòng 1\r\ndòng 2", "\u202eđảo chiều", "\u0085",
]

print(
    "fuzz hooks: harvested "
    + ", ".join(f"{len(v)} {k} ids" for k, v in sorted(IDS.items()))
    + "; "
    + ", ".join(f"{len(v)} {k}" for k, v in sorted(STRINGS.items()))
    + f" from {URL or '(no server)'}"
)

# --------------------------------------------------------------------------------------------
# Scalars.
# --------------------------------------------------------------------------------------------

STRING_POOL = sorted({s for v in STRINGS.values() for s in v})
_real_ids = st.sampled_from(ALL_IDS) if ALL_IDS else st.nothing()
ids = st.one_of(
    _real_ids,
    _real_ids.map(lambda s: s[:-1]),
    st.text(max_size=24),
    st.integers(min_value=-(2**63), max_value=2**64).map(str),
)
schemathesis.graphql.scalar("ID", ids.map(nodes.String))
schemathesis.graphql.scalar(
    "String", st.one_of(st.sampled_from(STRING_POOL), st.text(max_size=40)).map(nodes.String)
)

# Int: page sizes (`first`/`last` take 0..100), percentages, versions and years are small, so
# small values come first; the whole 32-bit range and its edges stay in.
schemathesis.graphql.scalar(
    "Int",
    st.one_of(
        st.integers(min_value=-2, max_value=110),
        st.sampled_from([2024, 2025, 2026, 2**31 - 1, -(2**31), 1000, 100000]),
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
    ).map(nodes.Int),
)

# Date: mostly around the seeded year, sometimes anywhere (years 1..9999), sometimes not a date.
near = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31)).map(str)
anywhere = st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
bad_dates = st.sampled_from(
    ["2025-02-30", "2025-13-01", "2025-1-1", "20250101", "", "+275760-09-13", "-0001-01-01",
     # Outside 1900–2100 (issue #19): refused before any write.
     "-262143-01-01", "0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01", "2025-01-01\u0000"]
)
schemathesis.graphql.scalar("Date", st.one_of(near, near, anywhere, bad_dates).map(nodes.String))

datetimes = st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat())
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(datetimes, st.sampled_from(["2025-01-01T00:00:00Z", "2025-01-01", "garbage"])).map(
        nodes.String
    ),
)

# rust_decimal holds 96 bits (|x| <= 79228162514264337593543950335) and 28 decimal places:
# values at and just past those edges come often, as arithmetic on them (value - target,
# value / target) is where an overflow would be.
DECIMAL_MAX = 79228162514264337593543950335
decimal_edges = st.one_of(
    st.sampled_from([DECIMAL_MAX, -DECIMAL_MAX, DECIMAL_MAX + 1, -DECIMAL_MAX - 1]),
    st.integers(min_value=0, max_value=10**6).map(lambda k: -DECIMAL_MAX + k),
    st.integers(min_value=0, max_value=10**6).map(lambda k: DECIMAL_MAX - k),
).map(str)
decimals_text = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from([
        "0", "-0", "8.5", "21000", "1e10", "0.0000000000000000000000000001",
        "-0.0000000000000000000000000001", "0.00000000000000000000000000001", "1,5", "NaN",
        "Infinity", " 12 ", "", "1_000", "1\u00000",
    ]),
)
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        decimal_edges.map(nodes.String),
        decimals_text.map(nodes.String),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False, width=64).map(nodes.Float),
    ),
)
# Output-only in the schema today; registered so that a future JSON input is not skipped.
schemathesis.graphql.scalar("JSON", st.text(max_size=20).map(nodes.String))

# DocumentText: a whole document (importDirective's text or docxBase64, publishDirectiveDraft's
# yaml). Directive-shaped pieces in any order (headings, bullets, items, agency names, deadline
# phrases, the source's quirks), draft-shaped YAML (an alias bomb among them), a small .docx of
# such pieces in base64, random base64 and random text.
DOC_PIECES = [
    "Số: 12/CT-UBND", "Lào Cai, ngày 3 tháng 11 năm 2026", "CHỈ THỊ", "VỀ VIỆC THỬ NGHIỆM", "Kính gửi:",
    "I. QUAN ĐIỂM", "II. NHIỆM VỤ", "III. TỔ CHỨC THỰC HIỆN", "1. Về kinh tế", "1.1. Tăng trưởng", "2.",
    "- Sở Tài chính chủ trì, phối hợp với các sở, ngành: (1) Rà soát thu chi; (2) Phối hợp với UBND các "
    "xã, phường đôn đốc, báo cáo UBND tỉnh trước ngày 15/01/2027.",
    "- Sở Y tế:", "+ Tăng cường kiểm tra trong Quý I/2027;", "(1) Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
    "báo cáo **trong tháng 01/2027**", "Các sở: Tư pháp, Nội vụ chủ trì", "Căn cứ Chỉ thị này, các cấp, các ngành",
    "Giao Sở Kế hoạch và Đầu tư (cơ quan thường trực) trước 30/2/2027", "hàng tháng", "(1) (2) (3)", "**", "- ",
    "CHỦ TỊCHNơi nhận:", "Nơi nhận:", "CHỦ TỊCH", "Nguyễn Văn A", "514/UBND-", "TC ngày 22/7/2025",
    "directive:\n  code: ct-9-2026\n  kind: CHI_THI\n  title: T\n  issuer: U\ntasks: []\n",
    "tasks:\n  - code: II.1-1\n    section: II.1\n    title: T\n    text: T\n    leads: [so-y-te]\n",
    "a: &a [x, x, x]\nb: &b [*a, *a, *a]\ndirective: *b\n",
]
doc_texts = st.lists(st.sampled_from(DOC_PIECES), max_size=14).map("\n\n".join)


def _docx(text):
    """A minimal .docx (one paragraph a line, ** as bold runs), base64."""
    paras = []
    for line in text.split("\n"):
        runs, bold = [], False
        for piece in line.split("**"):
            t = xml_escape(piece)
            runs.append(f'<w:r>{"<w:rPr><w:b/></w:rPr>" if bold else ""}<w:t xml:space="preserve">{t}</w:t></w:r>')
            bold = not bold
        paras.append(f"<w:p>{''.join(runs)}</w:p>")
    xml = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           f'wordprocessingml/2006/main"><w:body>{"".join(paras)}</w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", xml)
    return base64.b64encode(buf.getvalue()).decode()


schemathesis.graphql.scalar(
    "DocumentText",
    st.one_of(
        doc_texts,
        doc_texts.map(_docx),
        st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        st.text(max_size=200),
    ).map(nodes.String),
)


# --------------------------------------------------------------------------------------------
# Rewriting generated queries: real values where the names say what goes there.
# --------------------------------------------------------------------------------------------

# Argument or input-field name -> the kind of value it takes.
SLOT_BY_NAME = {
    "agencyId": ("id", "Agency"),
    "responsibleAgencyId": ("id", "Agency"),
    "successorOf": ("id", "Agency"),
    "predecessorOf": ("id", "Agency"),
    "directiveId": ("id", "Directive"),
    "taskId": ("id", "Task"),
    "assignmentId": ("id", "Assignment"),
    "indicatorId": ("id", "Indicator"),
    "agencyCode": ("str", "agency_code"),
    "leadAgencyCodes": ("str", "agency_code"),
    "coordinatorAgencyCodes": ("str", "agency_code"),
    "dissolvedAgencyCodes": ("str", "agency_code"),
    "successorCode": ("str", "agency_code"),
    "group": ("str", "agency_code"),
    "directiveNumber": ("str", "directive_number"),
    "codes": ("str", "indicator_code"),
    "unit": ("str", "unit"),
    "section": ("str", "section"),
    "period": ("str", "period"),
    "from": ("str", "period"),
    "to": ("str", "period"),
    "deadlineText": ("str", "deadline"),
    "title": ("str", "text"),
    "fullText": ("str", "text"),
    "summary": ("str", "text"),
    "reason": ("str", "text"),
    "obstacles": ("str", "text"),
    "proposals": ("str", "text"),
    "comment": ("str", "text"),
    "note": ("str", "text"),
    "after": ("str", "cursor"),
    "before": ("str", "cursor"),
    "action": ("str", "audit"),
    "entity": ("str", "audit"),
    "entityId": ("str", "audit"),
    "actor": ("str", "audit"),
}
# `id`, `code` and `number` mean different things on different fields.
SLOT_BY_FIELD = {
    ("agency", "id"): ("id", "Agency"),
    ("agency", "code"): ("str", "agency_code"),
    ("directive", "id"): ("id", "Directive"),
    ("directive", "number"): ("str", "directive_number"),
    ("task", "id"): ("id", "Task"),
    ("indicator", "id"): ("id", "Indicator"),
    ("indicator", "code"): ("str", "indicator_code"),
    ("node", "id"): ("id", "*"),
    ("updateTask", "id"): ("id", "Task"),
    ("updateProgressReport", "id"): ("id", "ProgressReport"),
    ("reviewProgressReport", "id"): ("id", "ProgressReport"),
    # New codes: a fresh slug usually, an existing code (CONFLICT) sometimes.
    ("createDirective", "code"): ("new", "directive_code"),
    ("createDirective", "number"): ("str", "directive_number"),
    ("createTask", "code"): ("new", "task_code"),
}
REAL_VALUE_PROBABILITY = 0.75

# Arguments the API takes one of at a time.
EXCLUSIVE_ARGUMENTS = [("first", "last"), ("after", "before"), ("id", "code"), ("id", "number")]


def _real_value(slot: tuple[str, str], rnd) -> str | None:
    kind, what = slot
    if kind == "id":
        pool = ALL_IDS if what == "*" else IDS.get(what) or []
        own = IDS.get(f"own:{what}")
        if own and rnd.random() < 0.6:
            return rnd.choice(own)
        if pool and rnd.random() < 0.9:
            return rnd.choice(pool)
        if not pool and rnd.random() < 0.5:
            return None  # none known (e.g. reports before any is written): keep the generated one
        return rnd.choice(ALL_IDS) if ALL_IDS else None  # an id of the wrong type
    if kind == "new":
        if rnd.random() < 0.8:
            return f"fuzz-{rnd.randrange(16**8):08x}"
        pool = STRINGS.get(what) or []
        return rnd.choice(pool) if pool else None
    pool = STRINGS.get(what) or []
    return rnd.choice(pool) if pool else None


def _rewrite_value(value, name: str, field: str, rnd):
    """The value node with real values put in; `field` is the field whose argument it is."""
    if isinstance(value, graphql.ObjectValueNode):
        fields = tuple(
            dataclasses.replace(f, value=_rewrite_value(f.value, f.name.value, field, rnd))
            for f in value.fields
        )
        return dataclasses.replace(value, fields=fields)
    if isinstance(value, graphql.ListValueNode):
        return dataclasses.replace(
            value, values=tuple(_rewrite_value(v, name, field, rnd) for v in value.values)
        )
    if isinstance(value, graphql.StringValueNode):
        slot = SLOT_BY_FIELD.get((field, name)) or SLOT_BY_NAME.get(name)
        if slot and rnd.random() < REAL_VALUE_PROBABILITY:
            real = _real_value(slot, rnd)
            if real is not None:
                return graphql.StringValueNode(value=real)
    return value


def _rewrite(document: graphql.DocumentNode, rnd) -> graphql.DocumentNode:
    class Rewriter(graphql.Visitor):
        def enter_field(self, node, *_):
            args = tuple(node.arguments or ())
            if not args:
                return None
            given = {a.name.value for a in args if not isinstance(a.value, graphql.NullValueNode)}
            drop: set[str] = set()
            for a, b in EXCLUSIVE_ARGUMENTS:
                if a in given and b in given and not drop & {a, b}:
                    r = rnd.random()
                    if r < 0.45:
                        drop.add(b)
                    elif r < 0.9:
                        drop.add(a)
            field = node.name.value
            new_args = tuple(
                dataclasses.replace(a, value=_rewrite_value(a.value, a.name.value, field, rnd))
                for a in args
                if a.name.value not in drop
            )
            # graphql-core's AST nodes are frozen dataclasses: return a changed copy.
            return dataclasses.replace(node, arguments=new_args)

    return graphql.visit(document, Rewriter())


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, graphql.DocumentNode):
        return st.just(body)
    return st.randoms(use_true_random=False).map(lambda rnd: _rewrite(body, rnd))


# --------------------------------------------------------------------------------------------
# Bookkeeping and the check.
# --------------------------------------------------------------------------------------------

_lock = threading.Lock()
_requests = 0
_statuses: Counter[str] = Counter()
_codes: Counter[str] = Counter()
_messages: Counter[str] = Counter()
_operations_with_data: set[str] = set()
_operations: set[str] = set()
_op_messages: dict[str, Counter[str]] = defaultdict(Counter)
_slowest: list = [0.0, ""]
_findings: dict[str, dict] = {}
# Deviations from the GraphQL spec worth a look, reported but not failing the run.
_observations: dict[str, dict] = {}


def _json(response):
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _errors(payload) -> list[dict]:
    items = payload if isinstance(payload, list) else [payload]
    return [
        e
        for item in items
        if isinstance(item, dict)
        for e in (item.get("errors") or [])
        if isinstance(e, dict)
    ]


def _code(err: dict) -> str:
    ext = err.get("extensions")
    code = ext.get("code") if isinstance(ext, dict) else None
    if isinstance(code, str):
        return code
    return "(no code, with path)" if err.get("path") else "(no code: request error)"


def _absent_errored_field(payload) -> list | None:
    """The path of an error whose field is simply absent from `data`, if any.

    The spec wants every selected field in the response: the errored field itself null, or,
    when it is non-null, the null propagated to the nearest nullable ancestor (up to `data`).
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return None
    for err in _errors(payload):
        path = err.get("path")
        if not isinstance(path, list) or not path:
            continue
        node = payload["data"]
        for seg in path:
            if node is None:
                break  # nulled on the way: fine
            if isinstance(seg, str) and isinstance(node, dict):
                if seg not in node:
                    return path
                node = node[seg]
            elif isinstance(seg, int) and isinstance(node, list):
                if seg >= len(node):
                    return path
                node = node[seg]
            else:
                break
    return None


def _observe(kind: str, case, response, detail: str) -> None:
    key = f"{kind}|{case.operation.label}"
    text = response.content.decode("utf-8", "replace")[:1500]
    with _lock:
        found = _observations.get(key)
        if found is None:
            _observations[key] = {
                "kind": kind, "operation": case.operation.label, "detail": detail,
                "status": response.status_code, "query": str(case.body), "response": text, "count": 1,
            }
            return
        found["count"] += 1
        if len(str(case.body)) < len(found["query"]):
            found.update(query=str(case.body), response=text, detail=detail, status=response.status_code)


@schemathesis.hook
def after_call(context, case, response) -> None:
    global _requests
    payload = _json(response)
    errors = _errors(payload)
    label = case.operation.label
    with _lock:
        _requests += 1
        _operations.add(label)
        _statuses[str(response.status_code)] += 1
        for code in {_code(e) for e in errors}:
            _codes[code] += 1
        for e in errors:
            ext = e.get("extensions") if isinstance(e.get("extensions"), dict) else {}
            line = f"{_code(e)} {ext.get('field', '')} {str(e.get('message'))[:70]}"
            _messages[line] += 1
            _op_messages[label][line] += 1
        if not errors and isinstance(payload, dict) and payload.get("data"):
            _operations_with_data.add(label)
    # Observations (outside the lock: _observe takes it).
    missing = _absent_errored_field(payload)
    if missing is not None:
        _observe("errored field absent from data (no null, no propagation)", case, response, f"path={missing}")
    for e in errors:
        if _code(e) == "GRAPHQL_VALIDATION_FAILED" and e.get("path"):
            _observe(
                "argument error raised at execution, not validation (HTTP 200, other fields run)", case, response,
                f"path={e.get('path')} {str(e.get('message'))[:120]}",
            )
            break
    for e in errors:
        if not isinstance(e.get("extensions"), dict) or "code" not in e["extensions"]:
            _observe("error without extensions.code", case, response, str(e.get("message"))[:120])
            break
    with _lock:
        if response.elapsed > _slowest[0]:
            _slowest[0] = response.elapsed
            _slowest[1] = f"{label}: {str(case.body)[:300]}"


def _record(kind: str, case, response, detail: str) -> None:
    key = f"{kind}|{case.operation.label}|{detail[:200]}"
    text = response.content.decode("utf-8", "replace")[:2000]
    with _lock:
        found = _findings.get(key)
        if found is None:
            _findings[key] = {
                "kind": kind,
                "operation": case.operation.label,
                "detail": detail,
                "status": response.status_code,
                "query": str(case.body),
                "response": text,
                "count": 1,
            }
            return
        found["count"] += 1
        # Keep the shortest query seen: the closest to a minimal reproducer.
        if len(str(case.body)) < len(found["query"]):
            found.update(query=str(case.body), response=text, status=response.status_code)


@schemathesis.check
def chidao_no_server_error(ctx, response, case):
    """No HTTP 5xx, a JSON body, and no GraphQL error with extensions.code INTERNAL."""
    if response.status_code >= 500:
        detail = response.content.decode("utf-8", "replace")[:300]
        _record("HTTP 5xx", case, response, f"{response.status_code} {detail}")
        raise AssertionError(f"HTTP {response.status_code} (server error): {detail}")
    payload = _json(response)
    if payload is None:
        detail = response.content.decode("utf-8", "replace")[:300]
        _record("not JSON", case, response, f"{response.status_code} {detail}")
        raise AssertionError(f"HTTP {response.status_code} with a body that is not JSON: {detail!r}")
    for err in _errors(payload):
        if _code(err) == "INTERNAL":
            path = err.get("path")
            _record("INTERNAL", case, response, f"path={path} {err.get('message')}")
            raise AssertionError(
                f"GraphQL error with extensions.code INTERNAL at path {path}: {err.get('message')}"
            )
    return None


def _dump() -> None:
    with _lock:
        stats = {
            "requests": _requests,
            "statuses": dict(_statuses),
            "error_codes": dict(_codes),
            "operations": len(_operations),
            "operations_never_answered_without_error": {
                op: dict(_op_messages[op].most_common(5)) for op in sorted(_operations - _operations_with_data)
            },
            "top_error_messages": dict(_messages.most_common(30)),
            "slowest_seconds": round(_slowest[0], 3),
            "slowest_request": _slowest[1],
            "harvested": {**{f"{k} ids": len(v) for k, v in IDS.items()}},
        }
        findings = list(_findings.values())
        stats["observations"] = list(_observations.values())
    if STATS_PATH:
        with open(STATS_PATH, "w", encoding="utf-8") as fd:
            json.dump(stats, fd, ensure_ascii=False, indent=1)
    if FINDINGS_PATH:
        with open(FINDINGS_PATH, "w", encoding="utf-8") as fd:
            json.dump(findings, fd, ensure_ascii=False, indent=1)


atexit.register(_dump)
