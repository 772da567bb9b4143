//! `TestApp::spawn()`: the real service on a random port over a fresh database: a temporary
//! SQLite file by default, or, when `TEST_DATABASE_URL` is set, a new PostgreSQL database
//! cloned from a migrated and seeded template (one template per test process).
//!
//! Requests go through a `Client` per caller: `app.admin()`, `app.monitor()`, `app.viewer()`,
//! `app.analyst()`, `app.agency(code)`, or `app.with_token(t)` for a hand-made token, each
//! with `gql` (the whole body), `data` (no errors allowed), `error_code` and `first_error`.
//! `app.gql`/`data`/`error_code`/`first_error` are the administrator's. Below them: queries and
//! checks several capabilities share.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use std::time::{Duration, Instant};

use api::auth::Role;
use api::config::Settings;
use api::db::StatementCounter;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

static COUNTER: AtomicU32 = AtomicU32::new(0);
static PG_TEMPLATE: OnceCell<String> = OnceCell::const_new();

pub fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// `TEST_DATABASE_URL` when the tests run on PostgreSQL (set and not empty).
pub fn pg_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// `TEST_DATABASE_URL`, for a test that only means something on PostgreSQL; on SQLite it says
/// so on the terminal (past the harness's capture, which would hide it in a passing test) and
/// the test returns having tested nothing: `SKIPPED`, not a silent `ok`.
pub fn postgres_only(test: &str) -> Option<String> {
    let url = pg_url();
    if url.is_none() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: PostgreSQL only (set TEST_DATABASE_URL to run it)"
        );
    }
    url
}

/// Splits `postgres://host/db?x` into (`postgres://host`, `db`).
pub fn split_pg(url: &str) -> (String, String) {
    let (base, rest) = url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL needs a database name");
    let db = rest.split('?').next().unwrap_or(rest).to_owned();
    (base.to_owned(), db)
}

/// A connection to the cluster's `postgres` database (to create, drop or kill sessions).
pub async fn pg_cluster(url: &str) -> DatabaseConnection {
    let (base, _) = split_pg(url);
    Database::connect(format!("{base}/postgres"))
        .await
        .expect("connect to postgres")
}

/// The name of a migrated and seeded template database, made once per process.
async fn pg_template(url: &str) -> String {
    PG_TEMPLATE
        .get_or_init(|| async {
            let (base, run_db) = split_pg(url);
            let name = unique(&format!("{run_db}_tmpl"));
            let admin = pg_cluster(url).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create template");
            admin.close().await.ok();
            let (db, _) = api::db::connect(&format!("{base}/{name}"), 2)
                .await
                .expect("connect template");
            api::db::migrate(&db).await.expect("migrate template");
            let set = api::seed::SeedSet::read(&seeds_dir()).expect("read seeds");
            api::seed::load(&db, &set).await.expect("seed template");
            db.close().await.ok();
            name
        })
        .await
        .clone()
}

/// A fresh, empty database URL (no template): the service seeds it itself on start.
pub async fn empty_database() -> String {
    match pg_url() {
        Some(url) => {
            let (base, run_db) = split_pg(&url);
            let name = unique(&run_db);
            let admin = pg_cluster(&url).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            format!("{base}/{name}")
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("chidao_test")));
            format!("sqlite://{}?mode=rwc", path.display())
        }
    }
}

/// A copy of `seeds/` with `edit` applied to the text of `file` (e.g. to undo a merger
/// so a test can perform it through the API).
pub fn seeds_with(file: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("chidao_seeds"));
    copy_dir(&seeds_dir(), &dir);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("seed file");
    std::fs::write(&path, edit(text)).expect("write seed file");
    dir
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read seeds") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A fresh database URL for one test.
pub async fn fresh_database() -> String {
    match pg_url() {
        Some(url) => {
            let template = pg_template(&url).await;
            let (base, run_db) = split_pg(&url);
            let name = unique(&run_db);
            let admin = pg_cluster(&url).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            format!("{base}/{name}")
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("chidao_test")));
            format!("sqlite://{}?mode=rwc", path.display())
        }
    }
}

/// The HS256 key test servers are started with: random-looking, since `serve` refuses
/// placeholder-shaped secrets (`api::auth::secret`). It signs nothing outside the tests.
pub const SECRET: &str = "VAP8Ho2orhvHNHt5o5Z5T3thR3GUKYoPsN9b8rWdc8UF";

/// A token signed with the tests' key, valid for an hour.
pub fn token(role: Role, agency: Option<&str>) -> String {
    let sub = format!(
        "test-{}{}",
        role.as_str(),
        agency.map(|a| format!("-{a}")).unwrap_or_default()
    );
    api::auth::jwt::sign(SECRET, &sub, role, agency, Duration::from_secs(3600), None, None).expect("sign")
}

/// The seeds as they were before Sở KH&ĐT was merged into Sở Tài chính (the seed records
/// that 2025 merger), so a test can perform it through the API.
pub fn seeds_before_the_khdt_merger() -> PathBuf {
    seeds_with("agencies.yaml", |text| {
        let before = text.replace("    valid_to: 2025-02-28\n    successors: [so-tai-chinh]\n", "");
        assert_ne!(
            before, text,
            "seeds/agencies.yaml no longer records the merger in the lines this helper removes"
        );
        before
    })
}

pub struct TestApp {
    pub address: String,
    /// The admin token `admin()` (and so `gql`/`data`/`error_code`) sends: one per instance,
    /// so every admin request carries the same credential.
    admin_token: String,
    pub client: reqwest::Client,
    pub statements: StatementCounter,
    pub db: DatabaseConnection,
    /// The instance's task event feed (`subscriptions.rs` waits for its subscribers).
    pub events: api::events::Events,
    /// The instance's data generation (`beside`).
    pub generation: api::changes::Generation,
}

impl TestApp {
    /// Starts the service (migrate, seed, serve) on 127.0.0.1:0.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the service over an empty database seeded from `seeds` instead of `seeds/`.
    pub async fn spawn_with_seeds(seeds: PathBuf) -> TestApp {
        let url = empty_database().await;
        Self::start(url, |s| s.seeds = seeds).await
    }

    /// Like `spawn_with_seeds`, with settings adjusted by `tune`.
    pub async fn spawn_with_seeds_and(seeds: PathBuf, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let url = empty_database().await;
        Self::start(url, |s| {
            s.seeds = seeds;
            tune(s);
        })
        .await
    }

    /// Starts another instance of the service on an existing database (`fresh_database`).
    pub async fn spawn_on(database_url: String) -> TestApp {
        Self::start(database_url, |_| {}).await
    }

    /// Starts the service with settings adjusted by `tune`.
    pub async fn spawn_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
        Self::start(fresh_database().await, tune).await
    }

    async fn start(database_url: String, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let (app, ()) = Self::build(database_url, tune).await;
        let (test_app, server) = Self::wrap(app);
        tokio::spawn(server.run_until(std::future::pending()));
        test_app
    }

    /// Builds the service without serving it, for tests that control its shutdown.
    pub async fn unstarted(tune: impl FnOnce(&mut Settings)) -> (TestApp, api::Application) {
        let (app, _) = Self::build(fresh_database().await, tune).await;
        Self::wrap(app)
    }

    fn wrap(app: api::Application) -> (TestApp, api::Application) {
        let address = format!("http://127.0.0.1:{}", app.port());
        let statements = app.statements();
        let db = app.db();
        let events = app.events();
        let generation = app.generation();
        (
            TestApp {
                generation,
                address,
                admin_token: token(Role::Admin, None),
                client: reqwest::Client::new(),
                statements,
                db,
                events,
            },
            app,
        )
    }

    async fn build(database_url: String, tune: impl FnOnce(&mut Settings)) -> (api::Application, ()) {
        api::telemetry::init_for_tests();
        let mut settings = Settings::for_tests(database_url, SECRET);
        settings.seeds = seeds_dir();
        tune(&mut settings);
        (api::Application::build(&settings).await.expect("build app"), ())
    }

    /// Runs `write`, made beside the service (on the test's own connection, as another
    /// instance or an operator's `psql` would), then waits until this instance has heard of it
    /// (on PostgreSQL, through `NOTIFY`, milliseconds after the commit; at most 10 s) and no
    /// further notification has come for 50 ms, so that no answer kept from before the write is
    /// reused after it. `write` must change a table.
    pub async fn beside<T>(&self, write: impl std::future::Future<Output = T>) -> T {
        let before = self.generation.current();
        let out = write.await;
        if before.is_some() {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while self.generation.current() == before {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the write beside the service was not heard in 10 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // A write to several tables sends one notification per table, heard one after
            // another: wait until none has come for 50 ms.
            let mut heard = self.generation.current();
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let now = self.generation.current();
                if now == heard {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the service kept hearing of writes for 10 s"
                );
                heard = now;
            }
        }
        out
    }

    /// The address of `path` (`/graphql`, `/metrics`, …) on this instance.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A GET of `path` without a token, to finish and send.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    /// A POST to `path` without a token, to finish and send.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    /// The administrator (the instance's one admin token).
    pub fn admin(&self) -> Client<'_> {
        self.with_token(self.admin_token.clone())
    }

    /// The monitoring office (`test-monitor`).
    pub fn monitor(&self) -> Client<'_> {
        self.with_token(token(Role::Monitor, None))
    }

    /// The public portal (`test-viewer`).
    pub fn viewer(&self) -> Client<'_> {
        self.with_token(token(Role::Viewer, None))
    }

    /// The analyst: aggregates, no rows (`test-analyst`).
    pub fn analyst(&self) -> Client<'_> {
        self.with_token(token(Role::Analyst, None))
    }

    /// The agency `code` (`test-agency-<code>`).
    pub fn agency(&self, code: &str) -> Client<'_> {
        self.with_token(token(Role::Agency, Some(code)))
    }

    /// Whoever `token` says (a hand-made, expired or forged token, or one from `token()`).
    pub fn with_token(&self, token: impl Into<String>) -> Client<'_> {
        Client {
            app: self,
            token: token.into(),
        }
    }

    /// Like `Client::gql`, as the administrator.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.admin().gql(query, variables).await
    }

    /// Like `Client::data`, as the administrator.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        self.admin().data(query, variables).await
    }

    /// Like `Client::error_code`, as the administrator.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        self.admin().error_code(query, variables).await
    }

    /// Like `Client::first_error`, as the administrator.
    pub async fn first_error(&self, query: &str, variables: Value) -> Value {
        self.admin().first_error(query, variables).await
    }

    /// The text `/metrics` serves (no token needed).
    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

/// One caller of a `TestApp`: its token, and requests sent with it.
pub struct Client<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Client<'a> {
    /// The instance this client talks to.
    pub fn app(&self) -> &'a TestApp {
        self.app
    }

    /// The bearer token this client sends.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A GET of `path` with this client's token, to finish and send.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.get(path).bearer_auth(&self.token)
    }

    /// A POST to `path` with this client's token, to finish and send.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.app.post(path).bearer_auth(&self.token)
    }

    /// POSTs a GraphQL operation to `/graphql` and returns the raw response (for its status
    /// and headers).
    pub async fn send(&self, query: &str, variables: Value) -> reqwest::Response {
        self.post("/graphql")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("send")
    }

    /// POSTs `body` to `/graphql` as it is, with these `content-type` and `accept` headers,
    /// three times; returns (status, headers, body, the best elapsed time of the three).
    pub async fn post_raw(
        &self,
        content_type: &str,
        accept: &str,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, Value, Duration) {
        let mut best = Duration::MAX;
        let mut last = None;
        for _ in 0..3 {
            let req = self
                .post("/graphql")
                .header("content-type", content_type)
                .header("accept", accept)
                .body(body.clone());
            let started = Instant::now();
            let res = req.send().await.expect("send");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let text = res.text().await.expect("body");
            best = best.min(started.elapsed());
            last = Some((
                status,
                headers,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            ));
        }
        let (s, h, b) = last.expect("a response");
        (s, h, b, best)
    }

    /// POSTs a GraphQL operation and returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let res = self.send(query, variables).await;
        res.json().await.expect("json body")
    }

    /// Like `gql`, but fails the test on any GraphQL error and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error, asserting there is one.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.gql(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code: {body:#}"))
            .to_owned()
    }

    /// The whole first error, asserting there is one (for checking `extensions.field` too).
    pub async fn first_error(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body["errors"][0].is_object(), "expected an error: {body:#}");
        body["errors"][0].clone()
    }
}

/// The JSON body of a request for `query` (for `Client::post_raw`).
/// GETs `path` as `who`: (status, content type, body).
pub async fn fetch(who: &Client<'_>, path: &str) -> (u16, String, Vec<u8>) {
    let res = who.get(path).send().await.expect("send");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.bytes().await.expect("body").to_vec())
}

pub fn gql_body(query: &str) -> Vec<u8> {
    json!({ "query": query }).to_string().into_bytes()
}

/// A string, or a panic naming what was there instead.
pub fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string: {v}"))
        .to_owned()
}

/// A list, or a panic naming what was there instead.
pub fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected a list: {v}"))
}

/// A number, or a panic naming what was there instead.
pub fn count(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("expected a number: {v}"))
}

/// The `id`s of a list of nodes.
pub fn ids_of(nodes: &Value) -> std::collections::BTreeSet<String> {
    list(nodes).iter().map(|n| text(&n["id"])).collect()
}

/// The first error of a response body: (code, message), asserting there is one.
pub fn code_and_message(body: &Value) -> (String, String) {
    let e = &body["errors"][0];
    assert!(e.is_object(), "expected an error: {body:#}");
    (text(&e["extensions"]["code"]), text(&e["message"]))
}

/// URL-safe base64 without padding (the encoding of global ids and of JWT parts).
pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The global id of row `n` of `kind`, as the API encodes it (made up here, so a test can
/// name a row that does not exist).
pub fn gid(kind: &str, n: i64) -> String {
    b64url(format!("{kind}:{n}").as_bytes())
}

/// The audit log's length, as the administrator reads it.
pub async fn audit_len(app: &TestApp) -> i64 {
    let d = app.data("{ auditLog(first: 1) { totalCount } }", json!({})).await;
    count(&d["auditLog"]["totalCount"])
}

/// Audit entries written through the API (the seed loader writes its own, actor `seed`).
pub async fn api_audit_len(app: &TestApp) -> i64 {
    let d = app
        .data("{ auditLog(first: 100) { nodes { actor } } }", json!({}))
        .await;
    d["auditLog"]["nodes"]
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["actor"] != "seed")
        .count() as i64
}

/// `tasks` by page, with its cursors and `totalCount`.
pub const TASK_IDS: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter) {
  tasks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    edges { cursor node { id code } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

/// The `totalCount` of `tasks(filter)`, as the administrator.
pub async fn task_total(app: &TestApp, filter: Value) -> i64 {
    let d = app.data(TASK_IDS, json!({ "first": 1, "filter": filter })).await;
    d["tasks"]["totalCount"].as_i64().expect("count")
}

/// Extends a task's deadline, answering its new due date.
pub const EXTEND: &str =
    r#"mutation($input: ExtendTaskDeadlineInput!) { extendTaskDeadline(input: $input) { task { dueOn } } }"#;

const RECORD: &str = r#"mutation($input: RecordIndicatorValueInput!) {
    recordIndicatorValue(input: $input) { indicatorValue { id } } }"#;

/// The global id of the indicator `code`, read as the administrator.
pub async fn indicator_id(app: &TestApp, code: &str) -> Value {
    app.data(
        "query($c: String!) { indicator(code: $c) { id } }",
        json!({ "c": code }),
    )
    .await["indicator"]["id"]
        .clone()
}

/// Records a value of indicator `id` as `who` (asserting it is accepted).
pub async fn record(who: &Client<'_>, id: &Value, period: &str, value: &str, kind: &str) {
    who.data(
        RECORD,
        json!({ "input": { "indicatorId": id, "period": period, "value": value, "kind": kind } }),
    )
    .await;
}

/// The ids of every task `tasks(filter, orderBy)` lists to `who`, `size` a page (forward, by
/// cursor), and the `totalCount` of the first page.
pub async fn task_ids_in_order(
    who: &Client<'_>,
    order: &Value,
    filter: &Value,
    size: i64,
) -> (Vec<String>, i64) {
    let q = r#"query($o: TaskOrder, $f: TaskFilter, $n: Int, $a: String) {
        tasks(first: $n, after: $a, orderBy: $o, filter: $f) {
            totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"#;
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut count = None;
    loop {
        let d = who
            .data(q, json!({ "o": order, "f": filter, "n": size, "a": after }))
            .await;
        count.get_or_insert(d["tasks"]["totalCount"].as_i64().expect("count"));
        for n in d["tasks"]["nodes"].as_array().expect("nodes") {
            out.push(n["id"].as_str().expect("id").to_owned());
        }
        if !d["tasks"]["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            return (out, count.unwrap_or(0));
        }
        after = d["tasks"]["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// `tasks` by due date, ascending or descending.
pub fn by_due(desc: bool) -> Value {
    json!({ "field": "DUE_ON", "direction": if desc { "DESC" } else { "ASC" } })
}

/// Checks an agency's tasks by due date (`filter` names the agency) against what they must
/// be: every task of `all` (the whole list in that order, for the same client) that the same
/// filter lists in document order, in `all`'s order, once each, with a matching
/// `totalCount`. `thorough`: also paged by 3 alike, and the page before a cursor is the
/// three tasks before it. Returns how many.
pub async fn check_agency_due_order(
    who: &Client<'_>,
    filter: Value,
    desc: bool,
    all: &[String],
    thorough: bool,
) -> usize {
    let by_due = by_due(desc);
    let (theirs, _) = task_ids_in_order(who, &json!({ "field": "DOCUMENT" }), &filter, 100).await;
    let theirs: std::collections::HashSet<String> = theirs.into_iter().collect();
    let expected: Vec<String> = all.iter().filter(|id| theirs.contains(*id)).cloned().collect();
    let (got, count) = task_ids_in_order(who, &by_due, &filter, 100).await;
    assert_eq!(got, expected, "{filter} by {by_due}");
    assert_eq!(count, expected.len() as i64, "totalCount of {filter}");
    if !thorough {
        return expected.len();
    }
    let (small, _) = task_ids_in_order(who, &by_due, &filter, 3).await;
    assert_eq!(small, expected, "{filter} by {by_due}, 3 a page");
    if expected.len() > 4 {
        let q = r#"query($o: TaskOrder, $f: TaskFilter, $b: String) {
            at: tasks(first: 1, after: $b, orderBy: $o, filter: $f) { edges { cursor } }
            before: tasks(last: 3, before: $b, orderBy: $o, filter: $f) { nodes { id } } }"#;
        // The cursor of the fifth task, and the three before it.
        let d = who
            .data(q, json!({ "o": by_due, "f": filter, "b": Value::Null }))
            .await;
        let mut cursor = d["at"]["edges"][0]["cursor"].clone();
        for _ in 0..4 {
            let d = who
                .data(q, json!({ "o": by_due, "f": filter, "b": cursor }))
                .await;
            cursor = d["at"]["edges"][0]["cursor"].clone();
        }
        let d = who
            .data(q, json!({ "o": by_due, "f": filter, "b": cursor }))
            .await;
        let before: Vec<&str> = d["before"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].as_str().expect("id"))
            .collect();
        assert_eq!(
            before,
            expected[1..4].iter().map(String::as_str).collect::<Vec<_>>(),
            "{filter}: last 3 before the 5th"
        );
    }
    expected.len()
}

/// The `n` of a `SELECT COUNT(*) AS n …` run straight on the database.
pub async fn count_rows(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}
