//! Subscriptions over `/graphql/ws`: who may connect, what each subscriber hears (its own
//! scope, its filter), token expiry, and events from another instance on PostgreSQL.

use std::time::Duration;

use api::auth::Role;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{
    Client, EXTEND, SECRET, TestApp, fresh_database, postgres_only, seeds_before_the_khdt_merger, token,
};

const EVENTS: &str = r#"subscription($f: TaskEventFilter) {
    taskEvents(filter: $f) { kind at task { id dueOn } report { id state } } }"#;

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(15);

struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages read while looking for another subscription's.
    held: std::collections::VecDeque<Value>,
}

/// How a connection attempt ended: acknowledged, or closed with a code and reason.
enum Opened {
    Ack(Box<Socket>),
    Closed(u16, String),
}

impl Socket {
    /// Opens `/graphql/ws` (graphql-transport-ws), with `header` as the upgrade's
    /// `Authorization` if given, and sends `connection_init` with `payload`.
    async fn open(app: &TestApp, header: Option<&str>, payload: Value) -> Opened {
        let url = format!("{}/graphql/ws", app.address.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        if let Some(h) = header {
            req.headers_mut()
                .insert("authorization", h.parse().expect("header"));
        }
        let (ws, res) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
        assert_eq!(
            res.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        let mut s = Socket {
            ws,
            held: Default::default(),
        };
        s.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        match tokio::time::timeout(WAIT, s.ws.next())
            .await
            .expect("an answer to connection_init")
        {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                assert_eq!(v["type"], "connection_ack", "{v}");
                Opened::Ack(Box::new(s))
            }
            Some(Ok(Message::Close(Some(f)))) => Opened::Closed(f.code.into(), f.reason.to_string()),
            other => panic!("unexpected answer to connection_init: {other:?}"),
        }
    }

    /// A socket of `who` (its token in `connection_init`) that must be acknowledged.
    async fn connect(who: &Client<'_>) -> Socket {
        let payload = json!({ "Authorization": format!("Bearer {}", who.token()) });
        match Self::open(who.app(), None, payload).await {
            Opened::Ack(s) => *s,
            Opened::Closed(code, reason) => panic!("refused ({code}): {reason}"),
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.expect("send");
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(
            json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await;
    }

    /// The next GraphQL message (`next`, `error` or `complete`) from the socket, answering
    /// pings.
    async fn read(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time")
                .expect("the socket is open")
                .expect("a readable message");
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["type"] == "ping" {
                    self.send(json!({ "type": "pong" })).await;
                    continue;
                }
                return v;
            }
        }
    }

    /// Waits for the server to close the socket.
    async fn closed(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("closed in time")
            {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(m)) => assert!(!m.is_text(), "unexpected message before the close: {m:?}"),
            }
        }
    }

    /// The next message of any subscription.
    async fn message(&mut self) -> Value {
        match self.held.pop_front() {
            Some(m) => m,
            None => self.read().await,
        }
    }

    /// The next message of subscription `id`; other subscriptions' messages are kept, in
    /// order, for later (the subscriptions of one socket interleave).
    async fn message_of(&mut self, id: &str) -> Value {
        if let Some(i) = self.held.iter().position(|m| m["id"] == id) {
            return self.held.remove(i).expect("held");
        }
        loop {
            let m = self.read().await;
            if m["id"] == id {
                return m;
            }
            self.held.push_back(m);
        }
    }

    /// The next event of subscription `id` (its `taskEvents` object).
    async fn event(&mut self, id: &str) -> Value {
        let m = self.message_of(id).await;
        assert_eq!(m["type"].as_str(), Some("next"), "{m:#}");
        assert!(m["payload"].get("errors").is_none(), "{m:#}");
        m["payload"]["data"]["taskEvents"].clone()
    }

    /// The first error code of the next message of subscription `id`.
    async fn error_code(&mut self, id: &str) -> String {
        let m = self.message_of(id).await;
        let errors = match m["type"].as_str() {
            Some("error") => m["payload"].clone(),
            Some("next") => m["payload"]["errors"].clone(),
            _ => panic!("expected an error: {m:#}"),
        };
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error with a code: {m:#}"))
            .to_owned()
    }
}

/// A task on which `agency` is the only lead (the one with the fewest agencies on it), its
/// assignment, and the codes of every agency on the task.
async fn lead_task(app: &TestApp, agency: &str) -> (String, String, Vec<String>) {
    let d = app
        .agency(agency)
        .data(
            r#"query($a: String!) { tasks(first: 100, filter: { agencyCode: $a, role: LEAD }) {
                nodes { id leads { code } assignments { id role agency { code } } } } }"#,
            json!({ "a": agency }),
        )
        .await;
    let mut best: Option<(String, String, Vec<String>)> = None;
    for t in d["tasks"]["nodes"].as_array().expect("tasks") {
        if t["leads"].as_array().map(Vec::len) != Some(1) {
            continue;
        }
        let rows = t["assignments"].as_array().expect("assignments");
        let holders: Vec<String> = rows
            .iter()
            .map(|a| a["agency"]["code"].as_str().expect("code").to_owned())
            .collect();
        let mine = rows
            .iter()
            .find(|a| a["role"] == "LEAD" && a["agency"]["code"] == agency);
        if let Some(a) = mine
            && best.as_ref().is_none_or(|b| holders.len() < b.2.len())
        {
            let id = |v: &Value| v.as_str().expect("id").to_owned();
            best = Some((id(&t["id"]), id(&a["id"]), holders));
        }
    }
    best.unwrap_or_else(|| panic!("no task led by {agency} alone"))
}

/// An agency not in `avoid` and one of its tasks that no agency in `avoid` holds.
async fn task_elsewhere(app: &TestApp, avoid: &[String]) -> (String, String) {
    let d = app
        .data(
            r#"{ tasks(first: 100) { nodes { id assignments { agency { code } } } } }"#,
            json!({}),
        )
        .await;
    for t in d["tasks"]["nodes"].as_array().expect("tasks") {
        let codes: Vec<&str> = t["assignments"]
            .as_array()
            .expect("assignments")
            .iter()
            .map(|a| a["agency"]["code"].as_str().expect("code"))
            .collect();
        if !codes.is_empty() && codes.iter().all(|c| !avoid.iter().any(|x| x == c)) {
            return (codes[0].to_owned(), t["id"].as_str().expect("id").to_owned());
        }
    }
    panic!("every task shares an agency with {avoid:?}");
}

/// Waits until `n` subscriptions of `app` are listening (a subscription starts listening a
/// moment after its `subscribe` message arrives; an event sent before is not its own).
async fn listening(app: &TestApp, n: usize) {
    let waited = tokio::time::timeout(WAIT, async {
        while app.events.subscribers() != n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{} subscriptions listening, not {n}",
        app.events.subscribers()
    );
}

const SUBMIT: &str = r#"mutation($input: SubmitProgressReportInput!) {
    submitProgressReport(input: $input) { progressReport { id } } }"#;

fn report(assignment: &str, period: &str, submit: bool) -> Value {
    json!({ "input": {
        "assignmentId": assignment, "period": period, "percentComplete": 40,
        "summary": "Đã giao các phòng chuyên môn triển khai", "submit": submit } })
}

fn extend(task: &str, date: &str) -> Value {
    json!({ "input": { "taskId": task, "newDueOn": date, "reason": "Công văn 77/UBND-TH cho lùi hạn" } })
}

#[tokio::test]
async fn each_subscriber_hears_what_its_scope_and_filter_let_it_see() {
    let app = TestApp::spawn().await;
    let a = "so-tai-chinh";
    let (t, assignment, holders) = lead_task(&app, a).await;
    let (b, u) = task_elsewhere(&app, &holders).await;
    let b = b.as_str();
    let agency_a = app.agency(a);

    let mut sa = Socket::connect(&agency_a).await;
    sa.subscribe("a", EVENTS, json!({})).await;
    let mut sb = Socket::connect(&app.agency(b)).await;
    sb.subscribe("b", EVENTS, json!({})).await;
    let mut sm = Socket::connect(&app.monitor()).await;
    sm.subscribe("m", EVENTS, json!({ "f": { "kinds": ["REPORT_SUBMITTED"] } }))
        .await;
    // Also on the monitor's socket: every event (explicit nulls filter nothing).
    sm.subscribe(
        "u",
        EVENTS,
        json!({ "f": { "agencyId": null, "kinds": null, "directiveId": null } }),
    )
    .await;
    listening(&app, 4).await;

    // 1. A's draft is nobody's event; A's submitted report is A's and the monitor's.
    agency_a.data(SUBMIT, report(&assignment, "2026Q3", false)).await;
    let d = agency_a.data(SUBMIT, report(&assignment, "2026Q4", true)).await;
    let r = d["submitProgressReport"]["progressReport"]["id"].clone();
    let e = sa.event("a").await;
    assert_eq!(
        (&e["kind"], &e["task"]["id"], &e["report"]["id"]),
        (&json!("REPORT_SUBMITTED"), &json!(t), &r)
    );
    assert_eq!(e["report"]["state"], "SUBMITTED");
    let e = sm.event("m").await;
    assert_eq!((&e["kind"], &e["report"]["id"]), (&json!("REPORT_SUBMITTED"), &r));
    let e = sm.event("u").await;
    assert_eq!(e["kind"], "REPORT_SUBMITTED");

    // 2. U's extension reaches B (who holds it) and not A; T's reaches A and not B.
    app.data(EXTEND, extend(&u, "2027-03-31")).await;
    app.data(EXTEND, extend(&t, "2027-04-30")).await;
    let e = sb.event("b").await;
    assert_eq!(
        (&e["kind"], &e["task"]["id"], &e["task"]["dueOn"]),
        (&json!("DEADLINE_EXTENDED"), &json!(u), &json!("2027-03-31"))
    );
    assert_eq!(e["report"], Value::Null);
    let e = sa.event("a").await;
    assert_eq!(
        (&e["kind"], &e["task"]["id"], &e["task"]["dueOn"]),
        (&json!("DEADLINE_EXTENDED"), &json!(t), &json!("2027-04-30")),
        "A hears of its own task only: U's extension came first and was not sent"
    );
    assert_eq!(sm.event("u").await["task"]["id"], json!(u));
    assert_eq!(sm.event("u").await["task"]["id"], json!(t));

    // 3. A report on T is not B's business, and the kinds filter holds: the monitor's next
    //    event on "m" is the next report, not the extensions.
    let d = agency_a.data(SUBMIT, report(&assignment, "2026Q2", true)).await;
    let r2 = d["submitProgressReport"]["progressReport"]["id"].clone();
    app.data(EXTEND, extend(&u, "2027-05-31")).await;
    assert_eq!(sm.event("m").await["report"]["id"], r2);
    let e = sb.event("b").await;
    assert_eq!(
        (&e["kind"], &e["task"]["dueOn"]),
        (&json!("DEADLINE_EXTENDED"), &json!("2027-05-31")),
        "B did not hear of the report on T"
    );

    // 4. Filters by directive and agency; a stopped subscription hears nothing more.
    let dir = app
        .data(
            "query($id: ID!) { task(id: $id) { directive { id } } }",
            json!({ "id": u }),
        )
        .await["task"]["directive"]["id"]
        .clone();
    let agency_b = app
        .data(
            "query($c: String!) { agency(code: $c) { id } }",
            json!({ "c": b }),
        )
        .await["agency"]["id"]
        .clone();
    sb.send(json!({ "id": "b", "type": "complete" })).await;
    let m = sb.message().await;
    assert_eq!(
        (m["type"].as_str(), m["id"].as_str()),
        (Some("complete"), Some("b")),
        "{m:#}"
    );
    listening(&app, 3).await;
    sb.subscribe(
        "d",
        EVENTS,
        json!({ "f": { "directiveId": dir, "agencyId": agency_b } }),
    )
    .await;
    listening(&app, 4).await;
    app.data(EXTEND, extend(&t, "2027-06-30")).await; // not B's
    app.data(EXTEND, extend(&u, "2027-07-31")).await;
    let m = sb.message().await;
    assert_eq!(
        m["id"], "d",
        "the completed subscription sent nothing more: {m:#}"
    );
    assert_eq!(m["payload"]["data"]["taskEvents"]["task"]["dueOn"], "2027-07-31");
}

#[tokio::test]
async fn a_socket_needs_a_valid_token_and_runs_only_subscriptions() {
    let app = TestApp::spawn().await;
    match Socket::open(&app, None, json!({})).await {
        Opened::Closed(code, reason) => {
            // graphql-transport-ws: a refused connection_init closes with 4403 Forbidden.
            assert_eq!(code, 4403, "{reason}");
            assert!(reason.contains("Cần đăng nhập"), "{reason}");
        }
        Opened::Ack(_) => panic!("a socket without a token was accepted"),
    }
    let forged = api::auth::jwt::sign(
        "not-the-secret-0123456789abcdefghij",
        "x",
        Role::Admin,
        None,
        Duration::from_secs(60),
        None,
        None,
    )
    .expect("sign");
    match Socket::open(&app, None, json!({ "token": forged })).await {
        Opened::Closed(code, _) => assert_eq!(code, 4403),
        Opened::Ack(_) => panic!("a forged token was accepted"),
    }
    // A token in the payload is the one checked, even beside a valid header.
    let monitor = token(Role::Monitor, None);
    match Socket::open(
        &app,
        Some(&format!("Bearer {monitor}")),
        json!({ "token": forged }),
    )
    .await
    {
        Opened::Closed(..) => {}
        Opened::Ack(_) => panic!("a forged payload token was passed over for the header"),
    }
    // The token may also come in the upgrade request's header.
    let Opened::Ack(mut s) = Socket::open(&app, Some(&format!("Bearer {monitor}")), json!({})).await else {
        panic!("the upgrade's Authorization header was not used");
    };
    s.subscribe("q", "{ tasks(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(s.error_code("q").await, "BAD_USER_INPUT");
    s.subscribe("bad", EVENTS, json!({ "f": { "directiveId": "not an id" } }))
        .await;
    assert_eq!(s.error_code("bad").await, "BAD_USER_INPUT");

    s.subscribe(
        "m",
        "mutation { extendTaskDeadline(input: { taskId: \"x\", newDueOn: \"2030-01-01\", reason: \"r\" }) { task { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(s.error_code("m").await, "BAD_USER_INPUT");
    s.subscribe("none", EVENTS, json!({ "f": { "kinds": [] } })).await;
    assert_eq!(s.error_code("none").await, "BAD_USER_INPUT");
    // Finding 2: each event is bounded as a request is: nested plain lists multiply the cost,
    // so four levels of `assignments { task { … } }` are refused before anything is sent.
    s.subscribe(
        "deep",
        "subscription { taskEvents { task { assignments { task { assignments { task { assignments { task { assignments { task { id } } } } } } } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(s.error_code("deep").await, "TOO_COMPLEX");

    // At most 20 subscriptions a socket; a finished one gives its place back.
    for i in 0..20 {
        s.subscribe(&format!("s{i}"), EVENTS, json!({})).await;
    }
    listening(&app, 20).await;
    s.subscribe("s20", EVENTS, json!({})).await;
    assert_eq!(s.error_code("s20").await, "BAD_USER_INPUT");
    s.send(json!({ "id": "s0", "type": "complete" })).await;
    listening(&app, 19).await;
    s.subscribe("s21", EVENTS, json!({})).await;
    listening(&app, 20).await;

    let mut analyst = Socket::connect(&app.analyst()).await;
    analyst.subscribe("x", EVENTS, json!({})).await;
    assert_eq!(analyst.error_code("x").await, "FORBIDDEN");

    // Over HTTP a subscription is refused and pointed at the socket.
    let body = app.gql(EVENTS, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body:#}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("/graphql/ws")
    );
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let app = TestApp::spawn().await;
    let short = api::auth::jwt::sign(
        SECRET,
        "brief",
        Role::Monitor,
        None,
        Duration::from_secs(3),
        None,
        None,
    )
    .expect("sign");
    let started = std::time::Instant::now();
    let mut s = Socket::connect(&app.with_token(short)).await;
    s.subscribe("e", EVENTS, json!({})).await;
    assert_eq!(s.error_code("e").await, "UNAUTHENTICATED");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "ended at expiry, not at once"
    );
    let m = s.message().await;
    assert_eq!(
        (m["type"].as_str(), m["id"].as_str()),
        (Some("complete"), Some("e")),
        "{m:#}"
    );
    // Then the socket itself closes.
    s.closed().await;

    // A socket that never sends `connection_init` is closed too (after 10 s).
    let url = format!("{}/graphql/ws", app.address.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    let mut idle = Socket {
        ws,
        held: Default::default(),
    };
    idle.closed().await;
}

/// Rights are checked again while a subscription runs (here at every event): after Sở KH&ĐT
/// is merged into Sở Tài chính, the dissolved agency's subscription ends, and so does the
/// successor's, whose rows changed (it reconnects to hear of its inherited tasks).
#[tokio::test]
async fn a_merger_ends_the_subscriptions_it_changes() {
    let app = TestApp::spawn_with_seeds_and(seeds_before_the_khdt_merger(), |s| s.ws_recheck_secs = 0).await;
    let khdt = app.agency("so-ke-hoach-dau-tu");
    let d = khdt.data("{ tasks(first: 2) { nodes { id } } }", json!({})).await;
    let ids: Vec<String> = d["tasks"]["nodes"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2, "Sở KH&ĐT holds tasks before the merger");
    let mut old = Socket::connect(&khdt).await;
    old.subscribe("k", EVENTS, json!({})).await;
    let mut heir = Socket::connect(&app.agency("so-tai-chinh")).await;
    heir.subscribe("t", EVENTS, json!({})).await;
    let mut monitor = Socket::connect(&app.monitor()).await;
    monitor.subscribe("m", EVENTS, json!({})).await;
    listening(&app, 3).await;

    app.data(EXTEND, extend(&ids[0], "2027-02-28")).await;
    assert_eq!(
        old.event("k").await["task"]["id"],
        json!(ids[0]),
        "rights still hold"
    );
    assert_eq!(monitor.event("m").await["task"]["id"], json!(ids[0]));

    app.data(
        r#"mutation($input: MergeAgenciesInput!) { mergeAgencies(input: $input) { movedAssignments } }"#,
        json!({ "input": { "dissolvedAgencyCodes": ["so-ke-hoach-dau-tu"], "successorCode": "so-tai-chinh",
                           "effectiveOn": "2025-03-01", "note": "Nghị quyết 05/NQ-HĐND" } }),
    )
    .await;
    app.data(EXTEND, extend(&ids[1], "2027-03-31")).await;
    assert_eq!(old.error_code("k").await, "UNAUTHENTICATED");
    // Sở Tài chính may share the first task; it hears that one before the merger.
    let mut m = heir.message_of("t").await;
    if m["payload"]["errors"].is_null() {
        assert_eq!(
            m["payload"]["data"]["taskEvents"]["task"]["id"],
            json!(ids[0]),
            "{m:#}"
        );
        m = heir.message_of("t").await;
    }
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{m:#}"
    );
    // The monitor's rights did not change: it hears each task the merger moved, then the
    // extension.
    let mut moved = 0;
    let mut e = monitor.event("m").await;
    while e["kind"] == "ASSIGNMENTS_REASSIGNED" {
        moved += 1;
        e = monitor.event("m").await;
    }
    assert!(moved >= 2, "the merger moved Sở KH&ĐT's tasks: {moved}");
    assert_eq!(e["task"]["id"], json!(ids[1]));
}

/// On PostgreSQL a write through one instance reaches the subscribers of another (through
/// NOTIFY at commit), once.
#[tokio::test]
async fn events_cross_instances_on_postgres() {
    if postgres_only("events_cross_instances_on_postgres").is_none() {
        return;
    }
    let url = fresh_database().await;
    let one = TestApp::spawn_on(url.clone()).await;
    let two = TestApp::spawn_on(url).await;
    let mut s = Socket::connect(&one.monitor()).await;
    s.subscribe("x", EVENTS, json!({})).await;
    let mut own = Socket::connect(&two.monitor()).await;
    own.subscribe("y", EVENTS, json!({})).await;
    listening(&one, 1).await;
    listening(&two, 1).await;
    let (t, _, _) = lead_task(&two, "so-tai-chinh").await;
    two.data(EXTEND, extend(&t, "2027-08-31")).await;
    two.data(EXTEND, extend(&t, "2027-09-30")).await;
    let (_, other) = task_elsewhere(&two, std::slice::from_ref(&"so-tai-chinh".to_owned())).await;
    two.data(EXTEND, extend(&other, "2027-10-31")).await;
    for (sock, id) in [(&mut s, "x"), (&mut own, "y")] {
        // Two events for T, each once (the writer's instance skips its own notification,
        // the other hears it once), then the third write's.
        let e1 = sock.event(id).await;
        let e2 = sock.event(id).await;
        for e in [&e1, &e2] {
            assert_eq!(
                (&e["kind"], &e["task"]["id"]),
                (&json!("DEADLINE_EXTENDED"), &json!(t)),
                "{e:#}"
            );
        }
        assert_ne!(e1["at"], e2["at"], "two events, not one twice");
        assert_eq!(sock.event(id).await["task"]["id"], json!(other));
    }
}

/// #19: sockets that have not sent `connection_init` have their own small budget, per address,
/// so they cannot take the slots of subscribers; an authenticated socket leaves that budget.
#[tokio::test]
async fn sockets_waiting_for_init_cannot_take_the_subscribers_slots() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql/ws", app.address.replacen("http://", "ws://", 1));
    let upgrade = || {
        let mut req = url.clone().into_client_request().expect("request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        tokio_tungstenite::connect_async(req)
    };
    // An authenticated subscriber first: it does not count as waiting.
    let mut subscriber = Socket::connect(&app.monitor()).await;
    let mut idle = Vec::new();
    for _ in 0..api::http::MAX_PENDING_PER_IP {
        idle.push(upgrade().await.expect("a waiting socket is let in").0);
    }
    match upgrade().await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 503),
        other => panic!("one waiting socket too many from this address: {other:?}"),
    }
    // The subscriber is untouched; once the idle ones go, a new socket is let in again.
    subscriber
        .subscribe("s", "subscription { taskEvents { kind } }", json!({}))
        .await;
    drop(idle);
    let mut tries = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok((ws, _)) = upgrade().await {
            drop(ws);
            break;
        }
        tries += 1;
        assert!(tries < 150, "the places of closed sockets come back");
    }
    let _second = Socket::connect(&app.admin()).await;
}

const REMINDERS: &str = r#"subscription($f: TaskEventFilter) {
    taskEvents(filter: $f) { kind task { id code }
        duty { period dueOn assignment { id agency { code } } } } }"#;

/// A reminder: its kind, the duty's assignment and period, and the holder's code.
type Reminder = (String, String, String, String);

/// The reminders `sendReportingReminders(asOf: day)` owes the duties `who` may see: those
/// DUE_SOON on `day`, and those OVERDUE that fell due on or after `since` (the lookback).
async fn reminders_owed(who: &Client<'_>, day: &str, since: &str) -> Vec<Reminder> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = who
            .data(
                r#"query($d: Date, $a: String) {
                    reportingDuties(filter: { state: [OVERDUE, DUE_SOON] }, asOf: $d, first: 100, after: $a) {
                        pageInfo { hasNextPage endCursor }
                        nodes { state period dueOn assignment { id agency { code } } } } }"#,
                json!({ "d": day, "a": after }),
            )
            .await;
        let c = &d["reportingDuties"];
        for n in c["nodes"].as_array().expect("nodes") {
            let overdue = n["state"] == "OVERDUE";
            if overdue && n["dueOn"].as_str().expect("due") < since {
                continue;
            }
            let s = |v: &Value| v.as_str().expect("text").to_owned();
            let kind = if overdue {
                "REPORT_OVERDUE"
            } else {
                "REPORT_DUE_SOON"
            };
            out.push((
                kind.to_owned(),
                s(&n["assignment"]["id"]),
                s(&n["period"]),
                s(&n["assignment"]["agency"]["code"]),
            ));
        }
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    out.sort();
    out
}

/// A task with a fixed deadline that `holder` holds and `other` does not.
async fn apart(app: &TestApp, holder: &str, other: &str) -> Option<String> {
    let d = app
        .agency(holder)
        .data(
            r#"query($c: String!) { tasks(first: 100, filter: { agencyCode: $c }) {
                nodes { id deadline { recurrence } assignments { agency { code } } } } }"#,
            json!({ "c": holder }),
        )
        .await;
    d["tasks"]["nodes"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|n| {
            let on = n["assignments"].as_array().expect("assignments");
            n["deadline"]["recurrence"].is_null() && on.iter().all(|x| x["agency"]["code"] != other)
        })
        .map(|n| n["id"].as_str().expect("id").to_owned())
}

/// Reminders reach the duty's holder and not another agency: each agency's socket hears
/// exactly the reminders of its own duties, each once, and then a sentinel extension of its
/// own task (so nothing else was on the way).
#[tokio::test]
async fn reporting_reminders_reach_the_holder_only() {
    let app = TestApp::spawn().await;
    let (day, since) = ("2025-01-21", "2024-12-22");
    let a = "so-tai-chinh";
    // Every lead of 10/CT-UBND's tasks owes a monthly report, due the 20th: on 21/01 the
    // January report is overdue for dozens of agencies.
    let ct10 = app
        .data(r#"{ directive(number: "10/CT-UBND") { id } }"#, json!({}))
        .await;
    app.data(
        r#"mutation($i: SetReportingRegimeInput!) { setReportingRegime(input: $i) { regime { firstPeriod } } }"#,
        json!({ "i": { "directiveId": ct10["directive"]["id"], "periodType": "MONTH",
                       "dueRule": "DAY_OF_LAST_MONTH", "dueValue": 20, "reporters": "LEADS",
                       "firstPeriod": "202501" } }),
    )
    .await;
    let every = reminders_owed(&app.admin(), day, since).await;
    // B: another agency with reminders of its own that day. Each socket's sentinel: a task
    // with a fixed deadline (the only kind an extension applies to) its agency holds and the
    // other does not.
    let mut candidates: Vec<String> = every.iter().map(|r| r.3.clone()).collect();
    candidates.sort();
    candidates.dedup();
    let mut chosen = None;
    for c in candidates.iter().filter(|c| *c != a) {
        if let (Some(t), Some(u)) = (apart(&app, a, c).await, apart(&app, c, a).await) {
            chosen = Some((c.clone(), t, u));
            break;
        }
    }
    let (b, t, ub) = chosen.unwrap_or_else(|| panic!("no other agency owes a report: {candidates:?}"));
    let (agency_a, agency_b) = (app.agency(a), app.agency(&b));
    let owed_a = reminders_owed(&agency_a, day, since).await;
    let owed_b = reminders_owed(&agency_b, day, since).await;
    let of = |code: &str| -> Vec<Reminder> { every.iter().filter(|r| r.3 == code).cloned().collect() };
    assert!(!owed_a.is_empty(), "{a} owes III.3's report");
    assert_eq!(owed_a, of(a), "{a} sees its own duties and only those");
    assert_eq!(owed_b, of(&b), "{b} sees its own duties and only those");

    let mut sa = Socket::connect(&agency_a).await;
    sa.subscribe("a", REMINDERS, json!({})).await;
    let mut sb = Socket::connect(&agency_b).await;
    sb.subscribe("b", REMINDERS, json!({})).await;
    listening(&app, 2).await;
    // A sweep sends at most 500; the rest go in the next.
    let mut sent = 0;
    loop {
        let d = app
            .data(
                r#"mutation($d: Date) { sendReportingReminders(asOf: $d) { dueSoon overdue more } }"#,
                json!({ "d": day }),
            )
            .await;
        let s = &d["sendReportingReminders"];
        sent += s["dueSoon"].as_i64().expect("n") + s["overdue"].as_i64().expect("n");
        if s["more"] != true {
            break;
        }
    }
    assert_eq!(sent, every.len() as i64);
    app.data(EXTEND, extend(&t, "2027-08-31")).await;
    app.data(EXTEND, extend(&ub, "2027-09-30")).await;

    for (socket, id, me, owed, sentinel) in [
        (&mut sa, "a", a, &owed_a, &t),
        (&mut sb, "b", b.as_str(), &owed_b, &ub),
    ] {
        let mut heard = Vec::new();
        loop {
            let e = socket.event(id).await;
            if e["kind"] == "DEADLINE_EXTENDED" {
                assert_eq!(&e["task"]["id"], &json!(sentinel), "{me}: {e}");
                break;
            }
            let s = |v: &Value| v.as_str().expect("text").to_owned();
            heard.push((
                s(&e["kind"]),
                s(&e["duty"]["assignment"]["id"]),
                s(&e["duty"]["period"]),
                s(&e["duty"]["assignment"]["agency"]["code"]),
            ));
        }
        heard.sort();
        assert_eq!(&heard, owed, "{me}: its own reminders, each once, and no other");
    }
}
