#!/usr/bin/env python3
"""table.py RAW -> markdown table: chidao vs PostGraphile vs raw SQL (pgbench) per query.

With several rounds of a cell, the table shows the median round (by rate) and lists every
round's rate below it; `mem` and `startup` lines become a second table."""
import re, statistics, sys
rounds, header, order, extra = {}, [], [], {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        header.append(line[1:].strip()); continue
    kv = dict(re.findall(r"(\S+?)=(\S+)", line))
    if line.startswith(("mem ", "startup ")):
        extra.update(kv); continue
    if "q" not in kv: continue
    if kv["q"] not in order: order.append(kv["q"])
    rounds.setdefault((kv["q"], kv["method"]), []).append(kv)
names = {"q1": "Q1 one task + leads + directive", "q2": "Q2 50 tasks of an agency + names + latest reports",
         "q3": "Q3 50 indicators x 12 values", "q4": "Q4 task counts by status for a directive",
         "q2f": "Q2 as flat rows, no JSON (SQL only: the floor)",
         "q5": "Q5 reporting compliance for one quarter (no PostGraphile counterpart)"}
# Rows "qN" compute every answer (CHIDAO_STATISTICS_REUSE_SECS=0); rows "qNr" are the same query
# through chidao as configured by default (answers reused until a write commits to a table they
# read), compared with the base query's PostGraphile and SQL.
base = {f"q{i}r": f"q{i}" for i in range(1, 6)}
for r, b in base.items():
    names[r] = f"{names[b].split(' (')[0]}, answer reused"
rate_key = lambda kv: "tps" if "tps" in kv else "rps"
def median(runs):
    if not runs: return None
    runs = sorted(runs, key=lambda kv: float(kv.get(rate_key(kv), 0)))
    return runs[(len(runs) - 1) // 2]
def cell(kv):
    if not kv: return "n/a | n/a | n/a"
    return f"{float(kv[rate_key(kv)]):,.0f} | {float(kv['p50_ms']):.1f} | {float(kv['p99_ms']):.1f}"
for h in header: print(f"<!-- {h} -->")
print("| query | chidao req/s | p50 ms | p99 ms | PostGraphile req/s | p50 ms | p99 ms | SQL tps | p50 ms | p99 ms | chidao/PostGraphile | chidao/SQL |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
spread = []
for q in order:
    c = median(rounds.get((q, "chidao"), []))
    p, s = (median(rounds.get((base.get(q, q), m), [])) for m in ("pgl", "sql"))
    r = lambda a, b: f"{float(a[rate_key(a)]) / float(b[rate_key(b)]):.2f}" if a and b and float(b[rate_key(b)]) else "n/a"
    print(f"| {names.get(q, q)} | {cell(c)} | {cell(p)} | {cell(s)} | {r(c, p)} | {r(c, s)} |")
    for m in ("chidao", "pgl", "sql"):
        runs = rounds.get((q, m), []) if q not in base or m == "chidao" else []
        if len(runs) > 1:
            spread.append(f"{q} {m}: " + ", ".join(f"{float(kv[rate_key(kv)]):,.0f}" for kv in runs))
if spread:
    print("\nEvery round (req/s or tps, in run order): " + "; ".join(spread) + ".")
if extra:
    mb = lambda k: f"{int(extra[k]) / 1024:.1f} MB" if k in extra else "n/a"
    print("\n| | chidao | PostGraphile |\n|---|---:|---:|")
    print(f"| RSS idle (after start-up) | {mb('chidao_idle_kb')} | {mb('pgl_idle_kb')} |")
    print(f"| RSS peak (after the load) | {mb('chidao_peak_kb')} | {mb('pgl_peak_kb')} |")
    if "sqlite_fresh_s" in extra:
        print(f"| start-up on SQLite: migrate + seed a fresh file, until /healthz | {extra['sqlite_fresh_s']} s | |")
        print(f"| start-up on SQLite, already seeded | {extra['sqlite_seeded_s']} s | |")
