// GraphiQL in a real headless Chromium with the network blocked: what a user on the province's
// intranet (no Internet) gets at GET /graphql. Started by run.sh, which gives it a running
// chidao and an admin token:
//
//     CHIDAO_URL=http://127.0.0.1:PORT CHIDAO_TOKEN=… CHROMIUM=/usr/bin/chromium node graphiql.mjs
//
// Every request the browser makes to anything but 127.0.0.1/localhost is aborted and recorded,
// and any such request fails the run (a probe at the end checks that the block works). Prints one line per check with what it found, writes a
// screenshot to out/graphiql.png, and exits 1 when a check fails.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const BASE = need("CHIDAO_URL");
const TOKEN = need("CHIDAO_TOKEN");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, "out");
const STEP_MS = 15_000;

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`graphiql.mjs: ${name} is not set (run run.sh)`);
    process.exit(2);
  }
  return v;
}

let failures = 0;
function check(name, ok, found) {
  console.log(`${ok ? "ok  " : "FAIL"} ${name}: ${found}`);
  if (!ok) failures += 1;
  return ok;
}

const LOCAL = new Set(["127.0.0.1", "localhost", "[::1]"]);
const isLocal = (url) => LOCAL.has(url.hostname);

/** POST /graphql from Node, as another client of the same chidao. */
async function gql(query, variables) {
  const res = await fetch(`${BASE}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const started = Date.now();
const profile = mkdtempSync(join(tmpdir(), "chidao-chromium-"));
mkdirSync(OUT, { recursive: true });
const blocked = [];
const consoleErrors = [];
const requests = [];
const framesSent = [];
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // A second wall behind the routes below: no name but the loopback ones resolves.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ],
    viewport: { width: 1400, height: 900 },
  });
  // The network is blocked: anything not to this machine is aborted and recorded.
  await context.route(
    (url) => !isLocal(url) && /^(https?|wss?):$/.test(url.protocol),
    (route) => {
      blocked.push(route.request().url());
      return route.abort("blockedbyclient");
    }
  );
  await context.routeWebSocket(
    (url) => !isLocal(url),
    (ws) => {
      blocked.push(ws.url());
      return ws.close();
    }
  );
  // Violations of the page's Content-Security-Policy, as the page itself sees them.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ${e.sample || ""}`.trim());
    });
  });

  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  // The schema's fetches, to say why Docs is empty should it be.
  const introspections = [];
  page.on("response", async (r) => {
    if (r.request().method() === "POST" && (r.request().postData() || "").includes("IntrospectionQuery")) {
      introspections.push(`HTTP ${r.status()} ${(await r.text().catch(() => "")).slice(0, 300)}`);
    }
  });
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => framesSent.push({ url: ws.url(), payload: String(f.payload) }));
  });

  // 1. The page renders from chidao alone.
  const res = await page.goto(`${BASE}/graphql`, { waitUntil: "load" });
  const csp = res.headers()["content-security-policy"] || "";
  check(
    "page served with a strict CSP",
    res.status() === 200 && /script-src 'self'(;|$)/.test(csp) && /default-src 'none'/.test(csp),
    `HTTP ${res.status()}, ${res.headers()["cache-control"]}, CSP "${csp}"`
  );
  await page.locator(".graphiql-container .graphiql-query-editor .CodeMirror").waitFor();
  const loading = await page.getByText("Đang tải GraphiQL").count();
  const buttons = await page.locator(".graphiql-container button").count();
  check("GraphiQL rendered", loading === 0 && buttons > 5, `editor present, ${buttons} buttons, no "Loading…" left`);

  const help = page.locator("#chidao-help");
  const helpText = (await help.innerText()).replace(/\s+/g, " ");
  check(
    "token help visible",
    (await help.isVisible()) &&
      helpText.includes("dán token vào tab Headers") &&
      helpText.includes("chidao token --role") &&
      helpText.includes("cargo run") &&
      helpText.includes("paste it into the Headers tab"),
    `"${helpText.slice(0, 110)}…"`
  );

  const headerEditor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror");
  const prefilled = (await headerEditor.innerText()).replace(/\s+/g, " ");
  check("Headers tab prefilled", prefilled.includes("Bearer <dán token vào đây>"), `"${prefilled.trim()}"`);

  // 2. Paste the token into the Headers tab, run a query.
  await headerEditor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(`{"Authorization": "Bearer ${TOKEN}"}`);
  const queryEditor = page.locator(".graphiql-query-editor .CodeMirror");
  await queryEditor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText("{ directives(first: 1) { nodes { number } } }");
  await page.locator("button.graphiql-execute-button").click();
  const result = page.locator(".graphiql-response .CodeMirror");
  const gotData = await result
    .getByText("10/CT-UBND")
    .first()
    .waitFor()
    .then(() => true, () => false);
  // Read at once: the schema's fetch, set off by the same token, may write into this pane next.
  const resultText = (await result.innerText()).replace(/\s+/g, " ");
  check("query with the pasted token", gotData, resultText.slice(0, 120));

  // 3. Docs: the schema, fetched again by the page once the token was pasted.
  await page.locator('button[aria-label="Show Documentation Explorer"]').click();
  const docs = page.locator(".graphiql-doc-explorer");
  const rootType = docs.locator("a.graphiql-doc-explorer-type-name", { hasText: /^Query$/ });
  const docsOk = await rootType.first().waitFor().then(() => true, () => false);
  const docsText = (await docs.innerText().catch(() => "")).replace(/\s+/g, " ");
  check(
    "Docs lists Query",
    docsOk,
    `under ${process.env.CHIDAO_LIMITS || "the limits chidao was started with"}: ` +
      (docsOk ? docsText.slice(0, 120) : `${docsText.slice(0, 200)}; the schema's fetches: ${JSON.stringify(introspections)}`)
  );
  await page.screenshot({ path: join(OUT, "graphiql.png") });

  // GraphiQL's dialogs lock the page's scroll with a <style> element of their own: the CSP
  // must let them open.
  const dialogs = [];
  for (const label of ["Open settings dialog", "Open short keys dialog"]) {
    await page.locator(`button[aria-label="${label}"]`).click();
    const dialog = page.getByRole("dialog");
    const open = await dialog.waitFor().then(() => true, () => false);
    dialogs.push(`${label}: ${open ? "opened" : "did not open"}`);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" }).catch(() => {});
  }
  check("settings and short-key dialogs open", dialogs.every((d) => d.endsWith("opened")), dialogs.join(", "));

  // 4. A subscription over /graphql/ws, and an event caused from outside the browser.
  await queryEditor.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText("subscription { taskEvents { kind task { code } } }");
  await page.locator("button.graphiql-execute-button").click();
  const subscribed = () => framesSent.some((f) => f.payload.includes('"type":"subscribe"'));
  for (let i = 0; i < 100 && !subscribed(); i++) await page.waitForTimeout(50);
  const init = framesSent.find((f) => f.payload.includes('"type":"connection_init"'));
  check(
    "socket to /graphql/ws with the token in connection_init",
    !!init && new URL(init.url).pathname === "/graphql/ws" && init.payload.includes(`Bearer ${TOKEN}`),
    init ? `${init.url}, payload {"Authorization": "Bearer <the token>"}` : "no connection_init sent"
  );
  const { tasks } = await gql("{ tasks(first: 1) { nodes { id code } } }");
  const task = tasks.nodes[0];
  let event = false;
  let tries = 0;
  // The subscribe message is on its way when the first extension is made; should the server
  // not have registered it yet, the next extension is heard.
  while (!event && tries < 5) {
    tries += 1;
    await gql(
      "mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) { task { code } } }",
      { input: { taskId: task.id, newDueOn: `2099-12-${String(10 + tries).padStart(2, "0")}`, reason: "Kiểm thử GraphiQL" } }
    );
    event = await result
      .getByText("DEADLINE_EXTENDED")
      .first()
      .waitFor({ timeout: 3000 })
      .then(() => true, () => false);
  }
  const eventText = (await result.innerText()).replace(/\s+/g, " ");
  check(
    "subscription event in the result pane",
    event && eventText.includes(task.code),
    `after ${tries} extendTaskDeadline on ${task.code}: ${eventText.slice(0, 120)}`
  );
  await page.screenshot({ path: join(OUT, "graphiql-subscription.png") });

  // 5. What the browser did on the way.
  const csp2 = await page.evaluate(() => window.__cspViolations);
  const refused = consoleErrors.filter((t) => /Content.Security.Policy|Refused to/i.test(t));
  check("no CSP violations", csp2.length === 0 && refused.length === 0, JSON.stringify([...csp2, ...refused]));
  check("no console errors", consoleErrors.length === 0, JSON.stringify(consoleErrors));
  const local = requests.filter((u) => /^(https?|wss?):/.test(u) && isLocal(new URL(u)));
  check(
    "no request left this machine",
    blocked.length === 0,
    blocked.length ? `blocked: ${JSON.stringify(blocked)}` : `${local.length} requests, all to ${new URL(BASE).host}`
  );

  // And that the block is real: a page without the CSP tries the outside, and is stopped.
  const probe = await context.newPage();
  await probe.evaluate(async () => {
    await fetch("http://block-probe.example/").catch(() => {});
    await new Promise((done) => {
      const ws = new WebSocket("ws://block-probe.example/");
      ws.onerror = ws.onclose = () => done();
      setTimeout(done, 3000);
    });
  });
  await probe.close();
  const probed = blocked.splice(0);
  check(
    "the network block stops the outside",
    probed.some((u) => u.startsWith("http://block-probe.example")) &&
      probed.some((u) => u.startsWith("ws://block-probe.example")),
    `aborted and recorded ${JSON.stringify(probed)}`
  );
} catch (e) {
  check("browser run", false, e.stack || String(e));
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${failures === 0 ? "passed" : `${failures} check(s) FAILED`} in ${((Date.now() - started) / 1000).toFixed(1)}s; screenshot: ${join(OUT, "graphiql.png")}`);
process.exit(failures === 0 ? 0 : 1);
