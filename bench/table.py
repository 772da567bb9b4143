#!/usr/bin/env python3
"""table.py RAW -> markdown table: chidao vs PostGraphile vs raw SQL (pgbench) per query."""
import re, sys
rows, header, order = {}, [], []
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        header.append(line[1:].strip()); continue
    kv = dict(re.findall(r"(\S+?)=(\S+)", line))
    if "q" not in kv: continue
    if kv["q"] not in order: order.append(kv["q"])
    rows[(kv["q"], kv["method"])] = kv
names = {"q1": "Q1 one task + leads + directive", "q2": "Q2 50 tasks of an agency + names + latest reports",
         "q3": "Q3 50 indicators x 12 values", "q4": "Q4 task counts by status for a directive"}
def cell(kv, rate):
    if not kv or rate not in kv: return "n/a | n/a | n/a"
    return f"{float(kv[rate]):,.0f} | {float(kv['p50_ms']):.1f} | {float(kv['p99_ms']):.1f}"
for h in header: print(f"<!-- {h} -->")
print("| query | chidao req/s | p50 ms | p99 ms | PostGraphile req/s | p50 ms | p99 ms | SQL tps | p50 ms | p99 ms | chidao/PostGraphile | chidao/SQL |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for q in order:
    c, p, s = rows.get((q, "chidao")), rows.get((q, "pgl")), rows.get((q, "sql"))
    r = lambda a, ka, b, kb: f"{float(a[ka]) / float(b[kb]):.2f}" if a and b and float(b[kb]) else "n/a"
    print(f"| {names.get(q, q)} | {cell(c, 'rps')} | {cell(p, 'rps')} | {cell(s, 'tps')} | "
          f"{r(c, 'rps', p, 'rps')} | {r(c, 'rps', s, 'tps')} |")
