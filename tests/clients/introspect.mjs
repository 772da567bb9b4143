// graphql-js 16 against a running chidao: its standard introspection query, every option on,
// answered under the default limits; the client schema built from the answer prints the same
// as schema/schema.graphql (both printed by graphql-js, types sorted).
import { readFileSync } from "node:fs";
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from "graphql";

const [url, token, committedPath] = process.argv.slice(2);
const query = getIntrospectionQuery({
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
  schemaDescription: true, inputValueDeprecation: true, oneOf: true,
});
const res = await fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  body: JSON.stringify({ query, operationName: "IntrospectionQuery" }),
});
const body = await res.json();
if (res.status !== 200 || body.errors) {
  console.error(`introspection refused: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
  process.exit(1);
}
// async-graphql 7 answers `__schema { description }` with a fixed text about what a schema is
// (src/model/schema.rs), not a description of this schema; the SDL has none. Everything else
// must match.
body.data.__schema.description = null;
const live = printSchema(lexicographicSortSchema(buildClientSchema(body.data)));
const committed = printSchema(lexicographicSortSchema(buildSchema(readFileSync(committedPath, "utf8"))));
if (live !== committed) {
  const a = live.split("\n"), b = committed.split("\n");
  const i = a.findIndex((l, k) => l !== b[k]);
  const around = (x) => x.slice(Math.max(0, i - 3), i + 4).join("\n    ");
  console.error(`live schema differs from ${committedPath} at line ${i + 1}:\n  live:\n    ${around(a)}\n  committed:\n    ${around(b)}`);
  process.exit(1);
}
const types = Object.keys(body.data.__schema.types).length;
console.log(`ok   graphql-js ${(await import("graphql")).version}: introspection answered (${JSON.stringify(body).length} bytes, ${types} types); buildClientSchema + printSchema equals schema/schema.graphql (${live.split("\n").length} lines)`);
