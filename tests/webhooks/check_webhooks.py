"""Webhooks as a receiver sees them (issue #22), every delivery checked with the official
`standardwebhooks` verifier (PyPI, pinned in requirements.txt).

Usage: check_webhooks.py PHASE CHIDAO_URL ADMIN_TOKEN AGENCY_TOKEN STATE_DIR
  PHASE "live":   the README's receiver; a receiver that fails twice then succeeds; an agency
                  endpoint that hears only its own tasks; refused URLs; then an endpoint whose
                  receiver is down, and a committed change for it (run.sh then kills chidao -9).
  PHASE "after":  (chidao restarted on the same database) the receiver is started now, and the
                  change committed before the kill arrives.
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
    data(ADMIN, EXTEND, {"i": {"taskId": t, "newDueOn": "2027-06-30", "reason": "Công văn 80/UBND-TH"}})
    json.dump({"port": port5, "secret": secret5, "endpoint": ep5, "task": t}, open(os.path.join(STATE, "crash.json"), "w"))
    say("committed an extension for a receiver that is down; chidao is killed next")


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
        day = (date(2028, 1, 1) + timedelta(days=i // len(tasks))).isoformat()
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


{"live": live, "after": after, "two": two}[PHASE]()
