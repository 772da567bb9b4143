// Runs the GraphQL-over-HTTP server audits of the `graphql-http` package against a running
// chidao and prints one line per audit.
//
// Usage: CHIDAO_AUDIT_URL=http://127.0.0.1:PORT/graphql CHIDAO_AUDIT_TOKEN=<jwt> node audit.mjs
//
// Environment:
//   CHIDAO_AUDIT_URL       the GraphQL endpoint (required)
//   CHIDAO_AUDIT_TOKEN     bearer token sent as `Authorization: Bearer …` on every request (required:
//                          chidao has no anonymous access, so without it every audit would see a 401)
//   CHIDAO_AUDIT_JSON      optional path: also write the results there as JSON
//   CHIDAO_AUDIT_VERBOSE=1 also print the response of failing SHOULD/MAY audits (MUST ones always are)
//
// Exit status: 0 when every MUST audit passes, 1 when one fails, 2 on a usage or fatal error.
// SHOULD and MAY results are printed and counted but never fail the run.

import { writeFileSync } from 'node:fs';
import { serverAudits } from 'graphql-http';

const REQUEST_TIMEOUT_MS = 10_000;
const BODY_SNIPPET_CHARS = 300;

const url = process.env.CHIDAO_AUDIT_URL;
const token = process.env.CHIDAO_AUDIT_TOKEN;
if (!url || !token) {
  console.error('audit.mjs: set CHIDAO_AUDIT_URL and CHIDAO_AUDIT_TOKEN (see run.sh)');
  process.exit(2);
}
const verbose = process.env.CHIDAO_AUDIT_VERBOSE === '1';

// A copy of each response, to show what the server said when an audit fails (the audit itself
// may already have read the body).
const copies = new WeakMap();

/** `fetch` with the bearer token added; everything else the audit sends is left as it is. */
async function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(input, {
    ...init,
    headers,
    signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  copies.set(res, res.clone());
  return res;
}

function levelOf(name) {
  return name.split(' ', 1)[0]; // MUST | SHOULD | MAY
}

async function describe(res) {
  if (!res) return '';
  // Ours, or the unread clone that the package hands back after reading the body itself.
  const copy = copies.get(res) ?? (res.bodyUsed ? null : res);
  if (!copy) return '';
  let body = '';
  try {
    body = (await copy.text()).replace(/\s+/g, ' ').trim();
  } catch {
    body = '<body unreadable>';
  }
  if (body.length > BODY_SNIPPET_CHARS) body = `${body.slice(0, BODY_SNIPPET_CHARS)}…`;
  const ct = copy.headers.get('content-type') ?? '<none>';
  return `HTTP ${copy.status}, content-type: ${ct}, body: ${body || '<empty>'}`;
}

const audits = serverAudits({ url, fetchFn: fetchWithToken });
const results = [];

// One at a time, in the package's order: same output every run, and no burst on the server.
for (const { id, name, fn } of audits) {
  const level = levelOf(name);
  let status;
  let reason;
  let response;
  try {
    const r = await fn();
    status = r.status; // ok | notice | warn | error
    reason = r.reason;
    response = r.response;
  } catch (err) {
    // The package throws only on "fatal" problems (network error, timeout, …): for this
    // server that is a failed audit like any other, at the audit's own level.
    status = level === 'MUST' ? 'error' : level === 'SHOULD' ? 'warn' : 'notice';
    reason = `request failed: ${err?.cause?.message ?? err?.message ?? String(err)}`;
  }
  const ok = status === 'ok';
  const detail = !ok && (level === 'MUST' || verbose) ? await describe(response) : '';
  results.push({ id, level, name, ok, status, reason: reason ?? null, detail: detail || null });

  const tag = ok ? 'ok  ' : level === 'MUST' ? 'FAIL' : level === 'SHOULD' ? 'warn' : 'note';
  let line = `${tag} ${id} ${name}`;
  if (!ok) line += ` -- ${reason}`;
  console.log(line);
  if (detail) console.log(`          ${detail}`);
}

const count = (level) => {
  const of = results.filter((r) => r.level === level);
  const passed = of.filter((r) => r.ok).length;
  return { total: of.length, passed, failed: of.length - passed };
};
const must = count('MUST');
const should = count('SHOULD');
const may = count('MAY');

console.log('');
console.log(`MUST:   ${must.passed}/${must.total} ok${must.failed ? `, ${must.failed} FAILED` : ''}`);
console.log(`SHOULD: ${should.passed}/${should.total} ok${should.failed ? `, ${should.failed} not met` : ''}`);
console.log(`MAY:    ${may.passed}/${may.total} ok${may.failed ? `, ${may.failed} not met` : ''}`);

if (process.env.CHIDAO_AUDIT_JSON) {
  writeFileSync(
    process.env.CHIDAO_AUDIT_JSON,
    `${JSON.stringify({ url, summary: { must, should, may }, results }, null, 2)}\n`,
  );
}

// The MUST audits alone decide the run; this is the line a CI log reader counts.
console.log(`http-audit: ${must.passed} passed, ${must.failed} failed`);
process.exit(must.failed ? 1 : 0);
