#!/usr/bin/env python3
"""The heaviest requests the default limits accept, against a running chidao, alone and 20 at
once: each must leave the server's peak resident memory within MAX_RSS_MB of what it was
before, and answer in JSON without an error (finding 1 of the security test: before the cost
model counted plain lists, one such request took 3.5 s and 577 MB). Times are measured and
printed against the 2 s target, not enforced: shared VMs differ by instance (the same commit
took 0.63 s and 2.27 s for one shape on two of them). Set MAX_SECONDS to enforce a bound.
Twenty at once queue behind each other on two cores; a request that waits past the server's
request timeout gets its JSON 408 (TOO_COMPLEX), which is counted and reported, not a failure.

Usage: heaviest.py URL TOKEN PID   (the server's process id, to read /proc/PID/status)

"Heaviest accepted": for each shape below, the most aliases of it (up to the alias limit) the
server still accepts, found by asking; a refusal is TOO_COMPLEX before anything runs. The peak
is VmHWM, reset through /proc/PID/clear_refs before each phase (Linux 4.0+). Standard library
only. Prints one line per request shape and phase; exits 1 when a bound is broken.
"""
import json
import os
import sys
import threading
import time
import urllib.request

URL, TOKEN, PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
# 96, not 64: the same binary (c67a9e6) raised the peak of "20 × agencies with their assignments"
# on the synthetic data by 54.4 MB in one run and 77.7 MB in the next (the allocator and how many
# of the 20 run at once); the bound is for blow-ups like the 577 MB above, not for that spread.
MAX_RSS_MB = float(os.environ.get("MAX_RSS_MB", "96"))
TARGET_SECONDS = 2.0
MAX_SECONDS = float(os.environ["MAX_SECONDS"]) if os.environ.get("MAX_SECONDS") else None
ALIASES = 20

SHAPES = {
    "tasks with every list": """t{i}: tasks(first: {first}) { totalCount nodes { id code title fullText section
        sectionTitle item dueOn originalDueOn status daysOverdue completedOn requiresReport
        deadline { text kind dueOn recurrence } directive { number title issuedOn }
        milestones { label deadline { text dueOn } } extensions { reason newDueOn }
        leads { code name shortName } coordinators { code name }
        assignments { role status completedOn transferredOn agency { code name kind }
          originalAgency { code } latestReport { period percentComplete summary state } } } }""",
    "tasks with their reports": """t{i}: tasks(first: {first}) { nodes { code reports(first: 20) {
        totalCount nodes { period percentComplete done summary state submittedAt
          agency { code name } assignment { role agency { code } } } } } }""",
    "indicators with series and history": """i{i}: indicators(first: {first}) { nodes { code name target
        achievement onTrack latestValue { period value kind met }
        series(periodType: MONTH) { period start end value { value kind achievement onTrack } }
        values(history: true) { period value kind superseded recordedAt }
        children { code target } responsibleAgency { code name } } }""",
    "agencies with their assignments": """a{i}: agencies(first: {first}) { nodes { code name kind active
        successors { agency { code } effectiveOn } predecessors { agency { code } }
        assignments(first: 20) { totalCount nodes { role status task { code title dueOn status } } } } }""",
    "statistics by agency, directive and section": """s{i}: taskStatistics(groupBy: [AGENCY, DIRECTIVE, SECTION]) {
        total overdueShare byStatus { status count } groups { agency { code } directive { number }
          section total byStatus { status label count } counts { inProgressOverdue fallenDue } } }""",
}


def post(query):
    req = urllib.request.Request(URL, data=json.dumps({"query": query}).encode(), method="POST",
                                 headers={"content-type": "application/json", "authorization": "Bearer " + TOKEN})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    else:
        status = 200
    took = time.monotonic() - t0
    try:
        parsed = json.loads(body)
    except ValueError:
        # Every HTTP error of chidao has a JSON body: a bare one is an error of its own.
        parsed = {"errors": [{"extensions": {"code": f"HTTP {status} without a JSON body"}}]}
    if status == 408:
        parsed.setdefault("timeout", True)
    return took, len(body), parsed


def status(field):
    for line in open(f"/proc/{PID}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0  # kB -> MB
    raise RuntimeError(field)


def reset_peak():
    with open(f"/proc/{PID}/clear_refs", "w") as f:
        f.write("5")


def code(body):
    errs = body.get("errors") or []
    return errs[0].get("extensions", {}).get("code") if errs else None


def heaviest(shape):
    """The most of `shape` the server accepts: the largest page size (`{first}`) of which one
    copy is accepted, then the most aliases of it; (document, description)."""
    for first in [100, 50, 20, 10, 5]:
        lo, hi, best = 1, ALIASES, None
        while lo <= hi:
            mid = (lo + hi) // 2
            one = shape.replace("{first}", str(first))
            doc = "{ " + " ".join(one.replace("{i}", str(k)) for k in range(mid)) + " }"
            _, _, body = post(doc)
            if code(body) == "TOO_COMPLEX":
                hi = mid - 1
            else:
                errs = body.get("errors")
                assert not errs, f"{errs}"
                best, lo = (doc, f"first {first} ×{mid}"), mid + 1
        if best is not None:
            return best
        if "{first}" not in shape:
            return None
    return None


failed = False
docs = {}
for name, shape in SHAPES.items():
    found = heaviest(shape)
    if found is None:
        print(f"--   {name}: refused even once (cost over the limit); nothing to measure")
        continue
    docs[name] = found

for name, (doc, n) in docs.items():  # n: what was found
    base = status("VmRSS")
    reset_peak()
    took, size, body = post(doc)
    peak = status("VmHWM")
    grew = peak - base
    ok = grew <= MAX_RSS_MB and (MAX_SECONDS is None or took <= MAX_SECONDS) and not body.get("errors")
    failed |= not ok
    over = "" if took <= TARGET_SECONDS else f" (over the {TARGET_SECONDS:.0f} s target)"
    print(f"{'ok  ' if ok else 'FAIL'} {name} ({n}): {took:.2f} s{over}, {size / 1e6:.2f} MB answer, "
          f"peak RSS +{grew:.1f} MB ({base:.1f} → {peak:.1f} MB){'' if not body.get('errors') else ' ' + str(code(body))}")

# Each, 20 at once.
for name, (doc, n) in docs.items():
    results = []
    base = status("VmRSS")
    reset_peak()
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda: results.append(post(doc))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    peak = status("VmHWM")
    grew = peak - base
    slowest = max(r[0] for r in results)
    cut = [r for r in results if r[2].get("timeout") and code(r[2]) == "TOO_COMPLEX"]
    timeouts = len(cut)
    errors = [code(r[2]) for r in results if r[2].get("errors") and not any(r is c for c in cut)]
    # Twenty at once on two cores queue behind each other (and behind the cost admitted at
    # once): the bound is on memory; each request's own time is reported.
    ok = grew <= MAX_RSS_MB and not errors and len(results) == 20
    failed |= not ok
    print(f"{'ok  ' if ok else 'FAIL'} 20 × {name} ({n}) at once: {wall:.2f} s in all, slowest {slowest:.2f} s, "
          f"peak RSS +{grew:.1f} MB ({base:.1f} → {peak:.1f} MB){' errors ' + str(errors) if errors else ''}"
          f"{f', {timeouts} cut off at the request timeout (JSON 408)' if timeouts else ''}")

print(f"bounds: +{MAX_RSS_MB:.0f} MB peak RSS, a JSON answer without errors; times against the "
      f"{TARGET_SECONDS:.0f} s target{'' if MAX_SECONDS is None else f', enforced at {MAX_SECONDS:.1f} s'}")
sys.exit(1 if failed else 0)
