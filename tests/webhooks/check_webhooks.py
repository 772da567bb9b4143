"""Webhooks as a receiver sees them (issue #22), every delivery checked with the official
`standardwebhooks` verifier (PyPI, pinned in requirements.txt).

Usage: check_webhooks.py PHASE CHIDAO_URL ADMIN_TOKEN AGENCY_TOKEN STATE_DIR
  PHASE "live":   the README's receiver; a receiver that fails twice then succeeds; an agency
                  endpoint that hears only its own tasks; refused URLs; then an endpoint whose
                  receiver is down, and a committed change for it (run.sh then kills chidao -9).
  PHASE "after":  (chidao restarted on the same database) the receiver is started now, and the
                  change committed before the kill arrives.
  PHASE "two":    two instances on one PostgreSQL database: each message exactly once, latency.
  PHASE "fill", "drain": one instance's delivery throughput from a pre-filled outbox.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PHASE, URL, ADMIN, AGENCY, STATE = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
WAIT = 30.0


def say(msg):
    print(f"webhooks: {msg}", flush=True)


def gql(token, query, variables=None):
    req = urllib.request.Request(
        URL + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def data(token, query, variables=None):
    out = gql(token, query, variables)
    assert "errors" not in out, out
    return out["data"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def until(what, check, wait=WAIT):
    end = time.time() + wait
    while time.time() < end:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


CREATE = """mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { secret endpoint { id url events role agencyCode enabled } } }"""
EXTEND = """mutation($i: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $i) { task { id dueOn } } }"""
DELIVERIES = """query($e: ID!) { webhookDeliveries(endpointId: $e) { messageId eventType state attemptCount payload
  attempts { statusCode error } } }"""


def create(url, events, role="ADMIN", agency=None):
    d = data(ADMIN, CREATE, {"i": {"url": url, "description": "kiểm thử", "events": events, "role": role,
                                    "agencyCode": agency}})["createWebhookEndpoint"]
    assert d["secret"].startswith("whsec_"), d
    return d["endpoint"]["id"], d["secret"]


def tasks_of(token, code):
    d = data(token, """query($c: String) { tasks(first: 100, filter: { agencyCode: $c }) {
        nodes { id deadline { kind recurrence } assignments { id role agency { code } } } } }""", {"c": code})
    return d["tasks"]["nodes"]


def fixed(nodes):
    return [n for n in nodes if n["deadline"]["kind"] not in ("RECURRING", "ONGOING")]


class Flaky(BaseHTTPRequestHandler):
    """Answers 500 to the first two attempts of each message, then 204; keeps what it saw."""
    secret = None
    seen = []
    fail_first = 2

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = dict(self.headers)
        try:
            event = Webhook(type(self).secret).verify(body, headers)
            ok = True
        except WebhookVerificationError as e:
            event, ok = {"error": str(e)}, False
        mid = headers.get("webhook-id") or headers.get("Webhook-Id")
        seen = type(self).seen
        tries = sum(1 for s in seen if s["id"] == mid)
        seen.append({"id": mid, "ok": ok, "event": event, "ts": int(self.headers["webhook-timestamp"])})
        self.send_response(500 if tries < self.fail_first else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(handler):
    port = free_port()
    srv = HTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return port, srv


def readme_receiver(port, secret, out_path):
    env = dict(os.environ, WEBHOOK_SECRET=secret)
    out = open(out_path, "w")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "receiver.py"), str(port)], env=env,
                         stdout=out, stderr=subprocess.DEVNULL)
    until(f"receiver.py on {port}", lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0 or None)
    return p


def lines(path):
    try:
        return [json.loads(l) for l in open(path) if l.strip()]
    except FileNotFoundError:
        return []


def live():
    every = tasks_of(ADMIN, None)
    t = fixed(every)[0]["id"]

    # 1. The README's receiver: an extension of a task reaches it, verified.
    port = free_port()
    ep1, secret1 = create(f"http://127.0.0.1:{port}/hook", ["DEADLINE_EXTENDED"])
    out1 = os.path.join(STATE, "readme.jsonl")
    p = readme_receiver(port, secret1, out1)
    try:
        data(ADMIN, EXTEND, {"i": {"taskId": t, "newDueOn": "2027-03-31", "reason": "Công văn 77/UBND-TH"}})
        got = until("the README receiver's line", lambda: lines(out1))
        e = got[0]
        assert e["type"] == "task.deadline_extended" and e["data"]["taskId"] == t, e
        assert set(e) == {"id", "type", "timestamp", "data"}, e
        assert set(e["data"]) <= {"kind", "taskId", "at", "reportId", "duty"}, e
        assert e["id"].startswith("msg_"), e
        say(f"receiver.py verified {e['id']} {e['type']} for {t}")
    finally:
        p.terminate()
    data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": ep1})

    # 2. Fails twice, then succeeds: three attempts, one id, each verified, one success.
    port2, srv2 = serve(Flaky)
    ep2, Flaky.secret = create(f"http://127.0.0.1:{port2}/flaky", ["REPORT_SUBMITTED"], role="MONITOR")
    mine = [n for n in fixed(tasks_of(AGENCY, "so-tai-chinh"))
            for a in n["assignments"] if a["role"] == "LEAD" and a["agency"]["code"] == "so-tai-chinh"]
    assignment = [a["id"] for a in mine[0]["assignments"] if a["agency"]["code"] == "so-tai-chinh"][0]
    rep = data(AGENCY, """mutation($i: SubmitProgressReportInput!) { submitProgressReport(input: $i) {
        progressReport { id } } }""", {"i": {"assignmentId": assignment, "period": "2026Q4", "percentComplete": 40,
                                              "summary": "Đã triển khai", "submit": True}})
    report = rep["submitProgressReport"]["progressReport"]["id"]
    until("three attempts", lambda: len(Flaky.seen) >= 3 or None)
    time.sleep(1.5)  # nothing after the success
    ids = {s["id"] for s in Flaky.seen}
    assert len(Flaky.seen) == 3 and len(ids) == 1, Flaky.seen
    assert all(s["ok"] for s in Flaky.seen), Flaky.seen
    assert all(abs(s["ts"] - time.time()) < 300 for s in Flaky.seen), Flaky.seen
    assert Flaky.seen[0]["event"]["data"]["reportId"] == report, Flaky.seen[0]
    d = until("DELIVERED", lambda: [x for x in data(ADMIN, DELIVERIES, {"e": ep2})["webhookDeliveries"]
                                    if x["state"] == "DELIVERED"])
    assert [a["statusCode"] for a in d[0]["attempts"]] == [500, 500, 204], d
    assert d[0]["attemptCount"] == 3 and d[0]["messageId"] in ids, d
    say(f"flaky receiver: 3 attempts of {d[0]['messageId']} (500, 500, 204), each verified")
    srv2.shutdown()
    data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": ep2})

    # 3. An agency endpoint hears of its agency's tasks only.
    b = "so-y-te"
    theirs = {n["id"] for n in tasks_of(ADMIN, b)}
    other = [n["id"] for n in fixed(every) if n["id"] not in theirs][0]
    own = fixed(tasks_of(ADMIN, b))[0]["id"]

    class Quiet(Flaky):
        seen = []
        fail_first = 0
    port3, srv3 = serve(Quiet)
    ep3, Quiet.secret = create(f"http://127.0.0.1:{port3}/b", ["DEADLINE_EXTENDED"], role="AGENCY", agency=b)
    data(ADMIN, EXTEND, {"i": {"taskId": other, "newDueOn": "2027-04-30", "reason": "Công văn 78/UBND-TH"}})
    data(ADMIN, EXTEND, {"i": {"taskId": own, "newDueOn": "2027-05-31", "reason": "Công văn 79/UBND-TH"}})
    until("B's delivery", lambda: Quiet.seen or None)
    states = until("both settled", lambda: (lambda xs: xs if len(xs) == 2 and all(
        x["state"] != "PENDING" for x in xs) else None)(data(ADMIN, DELIVERIES, {"e": ep3})["webhookDeliveries"]))
    time.sleep(1)
    assert [s["event"]["data"]["taskId"] for s in Quiet.seen] == [own], Quiet.seen
    by_task = {json.loads(x["payload"])["data"]["taskId"]: x["state"] for x in states}
    assert by_task == {other: "SKIPPED", own: "DELIVERED"}, by_task
    say(f"agency endpoint of {b}: its task delivered, another's skipped")
    srv3.shutdown()
    data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": ep3})

    other_changes()
    slow_receiver(t)

    # 4. Refused URLs: a host not on the allow-list, a name for loopback not named, a scheme.
    for bad in ["http://example.com/hook", f"http://localhost:{port}/hook", "ftp://127.0.0.1/x",
                "http://user:pw@127.0.0.1/x"]:
        out = gql(ADMIN, CREATE, {"i": {"url": bad, "description": "", "events": ["TASK_CREATED"], "role": "ADMIN"}})
        assert out.get("errors") and out["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (bad, out)
    out = gql(AGENCY, CREATE, {"i": {"url": f"http://127.0.0.1:{port}/", "description": "", "events": ["TASK_CREATED"],
                                     "role": "ADMIN"}})
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN", out
    say("refused: a host not allowed, localhost, ftp, credentials; an agency token")

    # 5. Before the crash: a receiver that is down, and a committed change for it.
    port5 = free_port()
    ep5, secret5 = create(f"http://127.0.0.1:{port5}/after", ["DEADLINE_EXTENDED"])
    data(ADMIN, EXTEND, {"i": {"taskId": t, "newDueOn": "2030-06-30", "reason": "Công văn 80/UBND-TH"}})
    json.dump({"port": port5, "secret": secret5, "endpoint": ep5, "task": t}, open(os.path.join(STATE, "crash.json"), "w"))
    say("committed an extension for a receiver that is down; chidao is killed next")


def other_changes():
    """A directive created and indicator values recorded reach an ANALYST endpoint (a BI tool)
    and, as a token of the agency would see them, an agency endpoint."""
    class Bi(Flaky):
        seen = []
        fail_first = 0

    class Own(Flaky):
        seen = []
        fail_first = 0
    kinds = ["DIRECTIVE_CREATED", "INDICATOR_VALUE_RECORDED"]
    pb, sb = serve(Bi)
    po, so = serve(Own)
    eb, Bi.secret = create(f"http://127.0.0.1:{pb}/bi", kinds, role="ANALYST")
    eo, Own.secret = create(f"http://127.0.0.1:{po}/stc", kinds, role="AGENCY", agency="so-tai-chinh")
    inds = data(ADMIN, """{ indicators(first: 100) { nodes { id code qualitative year
        responsibleAgency { code } } } }""")["indicators"]["nodes"]
    inds = [i for i in inds if not i["qualitative"] and i["year"] == 2025 and i["responsibleAgency"]]
    mine = [i for i in inds if i["responsibleAgency"]["code"] == "so-tai-chinh"][0]
    theirs = [i for i in inds if i["responsibleAgency"]["code"] != "so-tai-chinh"][0]
    record = """mutation($i: RecordIndicatorValueInput!) { recordIndicatorValue(input: $i) {
        indicatorValue { id } } }"""
    values = {}
    for ind in (mine, theirs):
        v = data(ADMIN, record, {"i": {"indicatorId": ind["id"], "period": "2025Q3", "value": "17",
                                       "kind": "ESTIMATE"}})
        values[ind["id"]] = v["recordIndicatorValue"]["indicatorValue"]["id"]
    directive = data(ADMIN, """mutation { createDirective(input: { code: "22-ct-ubnd-2026",
        number: "22/CT-UBND", kind: CHI_THI, title: "Về chuyển đổi số", issuedOn: "2026-11-20" }) {
        directive { id } } }""")["createDirective"]["directive"]["id"]

    def settled(e, n):
        xs = data(ADMIN, DELIVERIES, {"e": e})["webhookDeliveries"]
        return xs if len(xs) == n and all(x["state"] != "PENDING" for x in xs) else None
    until("the analyst's deliveries", lambda: settled(eb, 3))
    states = until("the agency's deliveries", lambda: settled(eo, 3))
    time.sleep(0.5)
    assert all(x["ok"] for x in Bi.seen + Own.seen), Bi.seen + Own.seen
    heard = sorted((x["event"]["type"], x["event"]["data"].get("indicatorId") or x["event"]["data"]["directiveId"])
                   for x in Bi.seen)
    assert heard == sorted([("directive.created", directive), ("indicator.value_recorded", mine["id"]),
                            ("indicator.value_recorded", theirs["id"])]), heard
    own = [(x["event"]["type"], x["event"]["data"]["indicatorId"], x["event"]["data"]["indicatorValueId"])
           for x in Own.seen]
    assert own == [("indicator.value_recorded", mine["id"], values[mine["id"]])], Own.seen
    skipped = sorted(x["eventType"] for x in states if x["state"] == "SKIPPED")
    assert skipped == ["directive.created", "indicator.value_recorded"], states
    say("directive created, indicator values recorded: the analyst endpoint heard all three, the agency "
        "endpoint its own indicator only (another's value and a directive without its task skipped)")
    for e in (eb, eo):
        data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": e})
    sb.shutdown()
    so.shutdown()


def slow_receiver(task):
    """A slow receiver holds at most a quarter of the workers (8 by default: 2), and a fast one
    beside it is not kept waiting: both receivers are down for the first attempts, so all the
    retries fall due together, and a lease must not hand them all to the slow endpoint."""
    from http.server import ThreadingHTTPServer
    n = 12

    class Slow(BaseHTTPRequestHandler):
        lock = threading.Lock()
        now = 0
        most = 0
        done = []

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            Webhook(Slow.secret).verify(body, dict(self.headers))
            with Slow.lock:
                Slow.now += 1
                Slow.most = max(Slow.most, Slow.now)
            time.sleep(2.0)
            with Slow.lock:
                Slow.now -= 1
                Slow.done.append(self.headers["webhook-id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    class Fast(Flaky):
        seen = []
        fail_first = 0
    ps, pf = free_port(), free_port()
    es, Slow.secret = create(f"http://127.0.0.1:{ps}/slow", ["DEADLINE_EXTENDED"])
    ef, Fast.secret = create(f"http://127.0.0.1:{pf}/fast", ["DEADLINE_EXTENDED"])
    for i in range(n):
        data(ADMIN, EXTEND, {"i": {"taskId": task, "newDueOn": (date(2029, 1, 1) + timedelta(days=i)).isoformat(),
                                   "reason": f"Công văn {100 + i}/UBND-TH"}})
    # Every first attempt failed (nothing listens yet); the retries are due in about 1 s.
    until("first attempts", lambda: all(len([x for x in data(ADMIN, DELIVERIES, {"e": e})["webhookDeliveries"]
                                             if x["attemptCount"] >= 1]) == n for e in (es, ef)) or None)
    srv_s = ThreadingHTTPServer(("127.0.0.1", ps), Slow)
    threading.Thread(target=srv_s.serve_forever, daemon=True).start()
    srv_f = ThreadingHTTPServer(("127.0.0.1", pf), Fast)
    threading.Thread(target=srv_f.serve_forever, daemon=True).start()
    until("the fast receiver's messages", lambda: len({x["id"] for x in Fast.seen}) >= n or None)
    slow_then = len(Slow.done)
    until("the slow receiver's messages", lambda: len(set(Slow.done)) >= n or None, wait=60)
    assert all(x["ok"] for x in Fast.seen), Fast.seen
    assert 1 <= Slow.most <= 2, f"the slow endpoint held {Slow.most} workers at once"
    # The slow one needs 2 s per pair of messages: with 4 or more still to answer it had 4 s of
    # work left when the fast one had everything (a starved fast one waits for all of it).
    assert slow_then <= n - 4, f"the fast receiver waited for the slow one ({slow_then} of {n} slow done)"
    say(f"slow receiver (2 s an answer): at most {Slow.most} of 8 workers at once; the fast one had all {n} "
        f"messages when the slow one had answered {slow_then}")
    for e in (es, ef):
        data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": e})
    srv_s.shutdown()
    srv_f.shutdown()


def after():
    c = json.load(open(os.path.join(STATE, "crash.json")))
    out = os.path.join(STATE, "after.jsonl")
    p = readme_receiver(c["port"], c["secret"], out)
    try:
        got = until("the change committed before the kill", lambda: lines(out), wait=45)
        assert got[0]["data"]["taskId"] == c["task"] and got[0]["type"] == "task.deadline_extended", got
        d = data(ADMIN, DELIVERIES, {"e": c["endpoint"]})["webhookDeliveries"]
        assert d[0]["state"] == "DELIVERED" and d[0]["attemptCount"] >= 2, d
        say(f"after kill -9 and a restart: {got[0]['id']} delivered ({d[0]['attemptCount']} attempts)")
    finally:
        p.terminate()


def two():
    """Two instances on one PostgreSQL database (URL and a second URL in STATE/urls.json): 1,000
    changes through both, a receiver that counts ids: each message exactly once."""
    urls = json.load(open(os.path.join(STATE, "urls.json")))
    n = int(os.environ.get("WEBHOOK_EVENTS", "1000"))

    class Count(Flaky):
        seen = []
        fail_first = 0
        lock = threading.Lock()

        def do_POST(self):
            got = time.time()
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                event = Webhook(Count.secret).verify(body, dict(self.headers))
                ok = True
            except WebhookVerificationError:
                event, ok = {}, False
            with Count.lock:
                Count.seen.append({"id": self.headers["webhook-id"], "ok": ok, "got": got, "event": event})
            self.send_response(204)
            self.end_headers()

    from http.server import ThreadingHTTPServer
    port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", port), Count)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ep, Count.secret = create(f"http://127.0.0.1:{port}/count", ["DEADLINE_EXTENDED"])
    tasks = fixed(tasks_of(ADMIN, None))[:20]
    global URL
    first = URL
    t0 = time.time()
    for i in range(n):
        URL = urls[i % 2]
        day = (date(2034, 1, 1) + timedelta(days=i // len(tasks))).isoformat()
        data(ADMIN, EXTEND, {"i": {"taskId": tasks[i % len(tasks)]["id"], "newDueOn": day,
                                   "reason": f"Công văn {i}/UBND-TH"}})
    committed = time.time()
    URL = first
    until(f"{n} messages", lambda: len({s["id"] for s in Count.seen}) >= n or None, wait=120)
    done = time.time()
    time.sleep(3)  # a duplicate would come now
    ids = [s["id"] for s in Count.seen]
    assert len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids)))
    assert all(s["ok"] for s in Count.seen)
    # `at`: the writing instance's clock just before COMMIT (UTC, milliseconds).
    lat = sorted(s["got"] - datetime.fromisoformat(s["event"]["data"]["at"].replace("Z", "+00:00")).timestamp()
                 for s in Count.seen)
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    say(f"two instances, {n} changes ({n / (committed - t0):.0f}/s committed): each message once; "
        f"commit to receiver p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; all delivered "
        f"{done - committed:.1f} s after the last commit ({n / (done - t0):.0f} deliveries/s overall)")
    srv.shutdown()


class Counter(BaseHTTPRequestHandler):
    """Verifies each message and keeps its id and arrival time (per endpoint path)."""
    secrets = {}
    seen = {}
    lock = threading.Lock()

    def do_POST(self):
        got = time.time()
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        ok = True
        try:
            Webhook(Counter.secrets[self.path]).verify(body, dict(self.headers))
        except WebhookVerificationError:
            ok = False
        with Counter.lock:
            Counter.seen.setdefault(self.path, []).append((self.headers["webhook-id"], got, ok))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


FILL = 4  # endpoints: 4 × a quarter of the workers = all 8


def fill():
    """(chidao runs with CHIDAO_WEBHOOK_WORKERS=0) FILL endpoints, each for DEADLINE_EXTENDED, and
    WEBHOOK_FILL changes: the outbox holds FILL × WEBHOOK_FILL messages, none sent."""
    n = int(os.environ.get("WEBHOOK_FILL", "500"))
    port = free_port()
    made = []
    for i in range(FILL):
        e, secret = create(f"http://127.0.0.1:{port}/fill{i}", ["DEADLINE_EXTENDED"])
        made.append({"endpoint": e, "secret": secret, "path": f"/fill{i}"})
    tasks = fixed(tasks_of(ADMIN, None))[:20]
    for i in range(n):
        day = (date(2031, 1, 1) + timedelta(days=i // len(tasks))).isoformat()
        data(ADMIN, EXTEND, {"i": {"taskId": tasks[i % len(tasks)]["id"], "newDueOn": day,
                                   "reason": f"Công văn {i}/UBND-TH"}})
    d = data(ADMIN, DELIVERIES, {"e": made[0]["endpoint"]})["webhookDeliveries"]
    assert all(x["attemptCount"] == 0 for x in d), "nothing is sent with no workers"
    json.dump({"port": port, "n": n, "endpoints": made}, open(os.path.join(STATE, "fill.json"), "w"))
    say(f"outbox filled: {FILL} endpoints × {n} changes, none sent with CHIDAO_WEBHOOK_WORKERS=0")


def drain():
    """The receiver first (STATE/drain-ready), then run.sh starts one chidao with 8 workers
    (its URL in STATE/drain-url): the time from its first delivery to its last."""
    from http.server import ThreadingHTTPServer
    f = json.load(open(os.path.join(STATE, "fill.json")))
    Counter.secrets = {e["path"]: e["secret"] for e in f["endpoints"]}
    srv = ThreadingHTTPServer(("127.0.0.1", f["port"]), Counter)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    open(os.path.join(STATE, "drain-ready"), "w").close()
    total = f["n"] * len(f["endpoints"])
    count = lambda: sum(len({x[0] for x in v}) for v in Counter.seen.values())
    until(f"{total} messages", lambda: count() >= total or None, wait=600)
    time.sleep(2)
    every = [x for v in Counter.seen.values() for x in v]
    assert len(every) == total and all(x[2] for x in every), (len(every), total)
    first, last = min(x[1] for x in every), max(x[1] for x in every)
    per = [len(v) / (max(x[1] for x in v) - min(x[1] for x in v)) for v in Counter.seen.values()]
    global URL
    URL = open(os.path.join(STATE, "drain-url")).read().strip()
    for e in f["endpoints"]:
        data(ADMIN, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deleted } }", {"id": e["endpoint"]})
    say(f"one instance, a pre-filled outbox: {total} messages to {len(f['endpoints'])} endpoints in "
        f"{last - first:.1f} s, {total / (last - first):.0f} deliveries/s (each endpoint "
        f"{min(per):.0f}–{max(per):.0f}/s on its quarter of the workers), each once and verified")
    srv.shutdown()


{"live": live, "after": after, "two": two, "fill": fill, "drain": drain}[PHASE]()
