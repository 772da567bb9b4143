#!/usr/bin/env python3
"""Checks the layering of api/src (issue #17):

1. No import circle through an infrastructure module. Every `crate::…` path of every file
   (in `use` items and in code, comments and strings left out) is an edge from the file's
   top-level module to the module it names; `super::…` stays within its own. A strongly
   connected set of top-level modules larger than one is a circle, and it fails when any of
   its members is infrastructure. Only the capabilities (the GraphQL object graph) may refer
   back and forth.
2. sea-orm's own finders are allowed (`#[allow(clippy::disallowed_methods)]`) only where the
   scoped finder lives and in the seed loader; clippy refuses them everywhere else.

Prints the layers it found (each module with what it uses) and exits 1 on a violation.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api", "src")
INFRA = {
    "auth", "db", "graphql", "http", "seed", "state", "config", "error", "metrics",
    "events", "changes", "clock", "telemetry", "domain", "schema",
}
CAPABILITIES = {"agencies", "directives", "tasks", "reports", "indicators", "audit", "duties", "webhooks", "intake"}
ALLOW_FINDERS = {os.path.join("auth", "scope.rs"), os.path.join("seed", "mod.rs")}


def strip(src):
    """The source without comments and string literals (they may mention paths)."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif src[i] == '"' or (src[i] == "r" and re.match(r'r#*"', src[i:])):
            m = re.match(r'r(#*)"', src[i:])
            if m:
                end = '"' + m.group(1)
                j = src.find(end, i + len(m.group(0)))
                i = n if j < 0 else j + len(end)
            else:
                j = i + 1
                while j < n and src[j] != '"':
                    j += 2 if src[j] == "\\" else 1
                i = j + 1
            out.append('""')
        elif src[i] == "'" and re.match(r"'(\\.|[^\\'])'", src[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", src[i:]).group(0))
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def top_of(rel):
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def uses(code):
    """Top-level modules a file names through `crate::` (grouped `use crate::{a, b}` too)."""
    found = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", code))
    for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
        found.update(re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group))
    return found


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(root=ROOT):
    graph, failures = {}, []
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            src = open(path, encoding="utf-8").read()
            code = strip(src)
            if rel != "lib.rs":
                me = top_of(rel)
                graph.setdefault(me, set()).update(m for m in uses(code) if m != me)
            if "allow(clippy::disallowed_methods)" in code and rel not in ALLOW_FINDERS:
                failures.append(f"{rel}: allows sea-orm's own finders; read through auth::scope instead")
    known = set(graph)
    for m in graph:
        graph[m] &= known
    for comp in sccs(graph):
        if len(comp) > 1 and INFRA & set(comp):
            failures.append("import circle through infrastructure: " + " <-> ".join(comp))
    for m in sorted(graph, key=lambda m: (m in CAPABILITIES, m in INFRA, m)):
        kind = "capability" if m in CAPABILITIES else "infra" if m in INFRA else "other"
        print(f"{m:<11} {kind:<10} uses {', '.join(sorted(graph[m])) or '-'}")
    unknown = known - INFRA - CAPABILITIES
    if unknown:
        failures.append("modules neither infrastructure nor capability (classify them here): " + ", ".join(sorted(unknown)))
    if failures:
        print("\n".join("FAIL " + f for f in failures))
        return 1
    print("layers: no circle through infrastructure; sea-orm finders only in the scoped finder and the seed")
    return 0


def self_test():
    """The check fails on a circle through infrastructure and on a finder allowed elsewhere,
    and passes a circle among capabilities (run first by `.ci/run`)."""
    import tempfile
    cases = [
        ({"auth/mod.rs": "use crate::http::x;", "http/mod.rs": "use crate::auth::y;"}, 1),
        ({"tasks/mod.rs": "use crate::{agencies::A, db};", "agencies/mod.rs": "fn f() { crate::tasks::g() }"}, 0),
        ({"tasks/mod.rs": "#[allow(clippy::disallowed_methods)] fn f() {}"}, 1),
        ({"tasks/mod.rs": '// crate::http in a comment\nconst S: &str = "crate::http";', "http/mod.rs": "use crate::tasks;"}, 0),
    ]
    for files, expected in cases:
        with tempfile.TemporaryDirectory() as d:
            for rel, text in files.items():
                os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
                open(os.path.join(d, rel), "w").write(text)
            import io, contextlib
            with contextlib.redirect_stdout(io.StringIO()):
                got = main(d)
            if got != expected:
                print(f"self-test failed on {files}: exit {got}, expected {expected}")
                return 1
    print(f"layers self-test: {len(cases)} cases ok")
    return 0


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        sys.exit(self_test() or main())
    sys.exit(main())
