"""Reads from a streaming replica, as callers see them (driven by run.sh; psycopg, pinned in
requirements.txt, times the lag on the standby over one connection).

argv: chidao URL (DATABASE_READ_URL on the standby, every answer computed), a plain chidao's
URL (same primary, no replica), the writer's token, the reader's token, the command prefix that
runs PostgreSQL's tools ("" or "runuser -u postgres --"), and a chidao URL with the standby and
answers reused (the default). Environment: P1 (primary port), P2 (standby port), TMP
(the clusters' folder), PGBIN.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

import psycopg

URL, PLAIN, WRITER, READER, AS, KEPT = sys.argv[1:7]
AS = AS.split()
P1, P2, TMP, PGBIN = os.environ["P1"], os.environ["P2"], os.environ["TMP"], os.environ["PGBIN"]
WAIT_MS = 300  # CHIDAO_REPLICA_WAIT_MS given by run.sh


def say(*a):
    print("replica:", *a, flush=True)


def gql(base, token, query, variables=None):
    req = urllib.request.Request(
        base + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.load(r)
    assert not out.get("errors"), out
    return out["data"]


def sql(port, q):
    out = subprocess.run(AS + ["psql", "-XAtq", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "chidao",
                               "-v", "ON_ERROR_STOP=1", "-c", q], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def routes(with_sums=False):
    """How many query requests each routing choice took, from /metrics (and the seconds spent)."""
    with urllib.request.urlopen(URL + "/metrics", timeout=10) as r:
        text = r.read().decode()
    got = dict.fromkeys(["replica", "replica_after_wait", "primary_after_wait", "primary_replica_down"], 0)
    sums = dict.fromkeys(got, 0.0)
    for m in re.finditer(r'^chidao_read_route_seconds_count\{result="([a-z_]+)"\} (\d+)', text, re.M):
        got[m.group(1)] = int(m.group(2))
    for m in re.finditer(r'^chidao_read_route_seconds_sum\{result="([a-z_]+)"\} ([0-9.e+-]+)', text, re.M):
        sums[m.group(1)] = float(m.group(2))
    return (got, sums) if with_sums else got


def delta(before, after):
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def caught_up():
    """Waits until the standby has replayed everything the primary has written."""
    at = sql(P1, "select pg_current_wal_lsn()")
    end = time.time() + 30
    while time.time() < end:
        if sql(P2, f"select pg_last_wal_replay_lsn() >= '{at}'::pg_lsn") == "t":
            return
        time.sleep(0.05)
    raise AssertionError("the standby did not catch up in 30 s")


TASK = "query($id: ID!) { task(id: $id) { id code title dueOn } }"
EXTEND = """mutation($i: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $i) { task { id dueOn } } }"""
STATS = """query($n: String!) { taskStatistics(filter: { directiveNumber: $n }) { total
  counts { completedLate inProgressOverdue } } }"""


def main():
    caught_up()
    found = gql(URL, READER, """{ tasks(first: 50, filter: { status: [IN_PROGRESS_OVERDUE] }) {
      nodes { id code title dueOn directive { id number } } } }""")["tasks"]["nodes"]
    assert len(found) >= 3, found
    # Tasks whose code names one row, so the direct SQL below changes exactly that task.
    unique = [t for t in found if sql(P1, f"select count(*) from tasks where code = '{t['code']}'") == "1"]
    assert len(unique) >= 3, unique
    direct, written, counted = unique[:3]
    number = counted["directive"]["number"]

    # 1. Query requests read the replica: with its replay paused, a change made on the primary
    #    (by psql, not chidao) is not seen, and the routes say "replica".
    before = routes()
    stats0 = gql(KEPT, READER, STATS, {"n": number})["taskStatistics"]  # kept (reuse is on)
    kept0 = gql(KEPT, READER, TASK, {"id": direct["id"]})["task"]  # kept too
    sql(P2, "select pg_wal_replay_pause()")
    sql(P1, f"update tasks set title = title || ' [sửa trực tiếp]' where code = '{direct['code']}'")
    # The change listener (on the primary) has heard of it within milliseconds.
    time.sleep(0.3)
    seen = gql(URL, READER, TASK, {"id": direct["id"]})["task"]
    assert seen["title"] == direct["title"], ("the replica was not read", seen)
    assert sql(P1, f"select title from tasks where code = '{direct['code']}'").endswith("[sửa trực tiếp]")
    plain = gql(PLAIN, READER, TASK, {"id": direct["id"]})["task"]
    assert plain["title"].endswith("[sửa trực tiếp]"), plain
    d = delta(before, routes())
    assert d.get("replica", 0) >= 1 and not d.get("primary_after_wait"), d
    say(f"replay paused: the reader sees the old title through the replica, the primary has the new one; routes {d}")

    # 2a. A kept answer is dropped by the primary's notification and computed again on the
    #     primary, not on the lagging replica; then reused.
    kept1 = gql(KEPT, READER, TASK, {"id": direct["id"]})["task"]
    assert kept0["title"] == direct["title"] and kept1["title"].endswith("[sửa trực tiếp]"), (kept0, kept1)
    assert gql(KEPT, READER, TASK, {"id": direct["id"]})["task"] == kept1
    say("kept answers follow the primary while the replica is paused: the new title, then reused")

    # 2. A kept taskStatistics answer is never computed on a lagging replica: the direct change
    #    below moved the primary's generation, so the next answer is computed, on the primary.
    sql(P1, f"update tasks set completed_on = current_date where code = '{counted['code']}'")
    time.sleep(0.3)
    stats1 = gql(KEPT, READER, STATS, {"n": number})["taskStatistics"]
    c0, c1 = stats0["counts"], stats1["counts"]
    assert c1["inProgressOverdue"] == c0["inProgressOverdue"] - 1, (c0, c1)
    assert c1["completedLate"] == c0["completedLate"] + 1, (c0, c1)
    say(f"kept statistics follow the primary while the replica is paused: overdue {c0['inProgressOverdue']} -> {c1['inProgressOverdue']}")

    # 3. Read-your-writes while the replica cannot replay: the writer's next read waits
    #    CHIDAO_REPLICA_WAIT_MS and goes to the primary; another caller still reads the replica.
    before = routes()
    new_due = "2031-06-30"
    gql(URL, WRITER, EXTEND, {"i": {"taskId": written["id"], "newDueOn": new_due, "reason": "Công văn 1/UBND-TH"}})
    t0 = time.time()
    mine = gql(URL, WRITER, TASK, {"id": written["id"]})["task"]
    waited = (time.time() - t0) * 1000
    assert mine["dueOn"] == new_due, ("the writer did not read its own write", mine)
    assert waited >= WAIT_MS * 0.9, waited
    other = gql(URL, READER, TASK, {"id": written["id"]})["task"]
    assert other["dueOn"] == written["dueOn"], ("the reader should still read the paused replica", other)
    d = delta(before, routes())
    assert d.get("primary_after_wait") == 1, d
    say(f"replay paused: the writer reads its write from the primary after {waited:.0f} ms; the reader still sees the replica's; routes {d}")

    sql(P2, "select pg_wal_replay_resume()")
    caught_up()
    other = gql(URL, READER, TASK, {"id": written["id"]})["task"]
    assert other["dueOn"] == new_due, other
    say("replay resumed: the reader sees the write")

    # 4. Normal replication: every write is read back by its writer at once, and through the
    #    replica unless it had not replayed within the wait. The lag seen is measured on the
    #    standby itself: from COMMIT's return to the row visible there.
    before, before_s = routes(True)
    lags, rounds = [], 100
    due = new_due
    y, m, dd = 2031, 7, 1
    standby = psycopg.connect(f"host=127.0.0.1 port={P2} user=postgres dbname=chidao", autocommit=True)
    for i in range(rounds):
        due = f"{y}-{m:02d}-{dd:02d}"
        dd += 1
        if dd > 28:
            dd, m = 1, m + 1
        gql(URL, WRITER, EXTEND, {"i": {"taskId": written["id"], "newDueOn": due, "reason": f"Công văn {i + 2}/UBND-TH"}})
        t0 = time.perf_counter()
        if i % 2 == 0:
            # Measured on the standby: from the mutation's answer to the row there (this round's
            # read then comes after the replica has it).
            while str(standby.execute("select due_on from tasks where code = %s", (written["code"],)).fetchone()[0]) != due:
                pass
            lags.append((time.perf_counter() - t0) * 1000)
        got = gql(URL, WRITER, TASK, {"id": written["id"]})["task"]
        assert got["dueOn"] == due, (i, got, due)
    standby.close()
    after, after_s = routes(True)
    d = delta(before, after)
    on_replica = d.get("replica", 0) + d.get("replica_after_wait", 0)
    assert d.get("primary_replica_down", 0) == 0, d
    assert on_replica >= rounds * 0.9, ("most reads-after-write should be served by the replica", d)
    say(f"{rounds} writes each read back at once by the writer: routes {d}")
    say(f"replica lag seen on the standby (mutation answered -> row visible, {len(lags)} samples): "
        f"median {statistics.median(lags):.2f} ms, max {max(lags):.2f} ms")
    waited = d.get("replica_after_wait", 0)
    if waited:
        mean = (after_s["replica_after_wait"] - before_s["replica_after_wait"]) / waited * 1000
        say(f"the {waited} reads that waited for their write to replay (the other rounds) waited {mean:.2f} ms on average")

    # 5. What routing costs a request: the same read, 300 times, through chidao with the replica
    #    (no pending write: one lookup) and through the plain chidao on the primary alone.
    def timed(base, n=300):
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            gql(base, READER, TASK, {"id": direct["id"]})
            out.append((time.perf_counter() - t0) * 1e6)
        return statistics.median(out), statistics.mean(out)

    timed(URL, 30), timed(PLAIN, 30)
    before, before_s = routes(True)
    routed, plain = timed(URL), timed(PLAIN)
    after, after_s = routes(True)
    n = after["replica"] - before["replica"]
    assert n == 300, (before, after)
    choose = (after_s["replica"] - before_s["replica"]) / n * 1e6
    say(f"one task by id, 300 requests each: through the replica median {routed[0]:.0f} µs (mean {routed[1]:.0f}), "
        f"primary only median {plain[0]:.0f} µs (mean {plain[1]:.0f}); choosing the replica took {choose:.2f} µs a request")

    # 6. The replica goes down: query requests read the primary (after at most one check, 0.5 s);
    #    back up, they return to it.
    subprocess.run(AS + [f"{PGBIN}/pg_ctl", "-D", f"{TMP}/replica", "-m", "fast", "-w", "stop"], check=True,
                   capture_output=True)
    time.sleep(1.2)
    before = routes()
    for _ in range(5):
        got = gql(URL, READER, TASK, {"id": written["id"]})["task"]
        assert got["dueOn"] == due, got
    d = delta(before, routes())
    assert d.get("primary_replica_down") == 5, d
    say(f"standby stopped: reads go to the primary; routes {d}")
    subprocess.run(AS + [f"{PGBIN}/pg_ctl", "-D", f"{TMP}/replica", "-l", f"{TMP}/replica.log", "-w", "start"],
                   check=True, capture_output=True)
    caught_up()
    end = time.time() + 10
    while True:
        before = routes()
        gql(URL, READER, TASK, {"id": written["id"]})
        if delta(before, routes()).get("replica") == 1:
            break
        assert time.time() < end, "reads did not return to the restarted standby"
        time.sleep(0.2)
    say("standby restarted: reads return to it")


main()
