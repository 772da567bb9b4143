//! GraphQL over HTTP and the service around it: status codes and media types, GraphiQL (its
//! page and the assets chidao serves for it), queries by GET (mutations refused), health, readiness, request ids, metrics, CORS and a
//! graceful shutdown.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, audit_len, count, gql_body};

#[tokio::test]
async fn health_readiness_graphiql_and_get_queries() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let get = |path: &str, accept: &str| admin.get(path).header("accept", accept).send();
    let health = get("/healthz", "*/*").await.expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok");

    let ready = get("/readyz", "*/*").await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");

    // A browser gets GraphiQL (its assets: `graphiql_is_served_by_chidao_itself`).
    let page = get("/graphql", "text/html").await.expect("graphiql");
    assert_eq!(page.status(), 200);
    assert!(page.headers().contains_key("content-security-policy"));
    assert!(page.text().await.expect("html").contains("GraphiQL"));

    let res = get(
        "/graphql?query=%7B%20directive(number%3A%20%2210%2FCT-UBND%22)%20%7B%20number%20%7D%20%7D",
        "application/json",
    )
    .await
    .expect("get query");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["directive"]["number"], "10/CT-UBND");

    // Every response carries a request id, for matching a client's report to the log.
    let res = get("/healthz", "*/*").await.expect("healthz");
    assert!(res.headers().contains_key("x-request-id"));

    // An internal error never leaks detail: unknown fields are validation errors, not panics.
    let body = app.gql("{ nope }", json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some());
}

/// The URLs of `/graphiql/assets/…` that the page's `src` and `href` attributes name.
fn asset_urls(page: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attr in [" src=\"", " href=\""] {
        for (at, _) in page.match_indices(attr) {
            let rest = &page[at + attr.len()..];
            let url = &rest[..rest.find('"').expect("closing quote")];
            urls.push(url.to_owned());
        }
    }
    urls
}

#[tokio::test]
async fn graphiql_is_served_by_chidao_itself() {
    let app = TestApp::spawn().await;
    // The page needs no token: the token is pasted into it.
    let page = app
        .get("/graphql")
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let header = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let csp = header(&page, "content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "no unsafe-inline or unsafe-eval: {csp}");
    let html = page.text().await.expect("html");
    // Inline styles only with this response's nonce, which the page hands to its script.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a style nonce");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    assert_eq!(
        html.matches(nonce).count(),
        1,
        "the nonce is only on the script element"
    );
    let again = app
        .get("/graphql")
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert!(
        !header(&again, "content-security-policy").contains(nonce),
        "a nonce per response"
    );

    // Where the token goes, in Vietnamese and in English.
    assert!(
        html.contains("dán token vào tab <strong>Headers</strong>"),
        "{html}"
    );
    assert!(
        html.contains("paste it into the <strong>Headers</strong> tab"),
        "{html}"
    );
    assert!(html.contains("chidao token --role") && html.contains("cargo run"));
    // Nothing from anywhere else, and no inline script.
    assert!(!html.contains("https://") && !html.contains("http://"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<style"), "{html}");

    let urls = asset_urls(&html);
    assert_eq!(urls.len(), 8, "{urls:?}");
    let mut scripts = String::new();
    for url in &urls {
        assert!(url.starts_with("/graphiql/assets/"), "{url}");
        let res = app.get(url).send().await.expect("asset");
        assert_eq!(res.status(), 200, "{url}");
        let want = match url.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset type {other:?}"),
        };
        assert_eq!(header(&res, "content-type"), want, "{url}");
        assert_eq!(
            header(&res, "cache-control"),
            "public, max-age=31536000, immutable",
            "{url}"
        );
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{url}");
        let body = res.text().await.expect("body");
        assert!(body.len() > 100, "{url}: {} bytes", body.len());
        if url.ends_with(".js") {
            scripts.push_str(&body);
        }
    }
    for global in ["React", "ReactDOM", "graphqlWs", "GraphiQL", "/graphql/ws"] {
        assert!(scripts.contains(global), "{global} is in none of the scripts");
    }

    // Unknown names are 404, the unhashed name and a stale hash too: a URL is one content.
    let app_js = urls.iter().find(|u| u.contains("/app.")).expect("app.js");
    let stale = format!("{}0.js", app_js.trim_end_matches(".js"));
    for url in [
        "/graphiql/assets/nope.js",
        "/graphiql/assets/app.js",
        stale.as_str(),
        "/graphiql/assets/..%2F..%2FCargo.toml",
        "/graphiql/assets/index.umd.js.map",
    ] {
        let res = app.get(url).send().await.expect("asset");
        assert_eq!(res.status(), 404, "{url}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{url}");
    }

    // A client that does not ask for HTML still gets GraphQL over HTTP at the same URL.
    let res = app
        .get("/graphql")
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn graphql_over_http_status_codes_and_media_types() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let grj = "application/graphql-response+json";
    // A valid query: 200 in both media types, with the media type asked for.
    for accept in [grj, "application/json", "*/*"] {
        let (s, h, b, _) = admin
            .post_raw("application/json", accept, gql_body("{ me { role } }"))
            .await;
        assert_eq!(s, 200, "{accept}");
        assert_eq!(b["data"]["me"]["role"], "ADMIN");
        let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        let want = if accept == grj { grj } else { "application/json" };
        assert!(ct.starts_with(want), "{accept} -> {ct}");
    }
    // A document that fails validation: 400 with graphql-response+json, 200 with json.
    let (s, _, b, _) = admin
        .post_raw("application/json", grj, gql_body("{ nope }"))
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.get("data").is_none() || b["data"].is_null());
    let (s, _, _, _) = admin
        .post_raw("application/json", "application/json", gql_body("{ nope }"))
        .await;
    assert_eq!(s, 200);
    // A syntax error likewise.
    let (s, _, _, _) = admin.post_raw("application/json", grj, gql_body("{ me { ")).await;
    assert_eq!(s, 400);
    // An execution error (a missing row) is still 200: the request was fine.
    let (s, _, b, _) = admin
        .post_raw(
            "application/json",
            grj,
            gql_body(r#"{ agency(code: "khong-co") { name } }"#),
        )
        .await;
    assert_eq!(
        (s, b["errors"][0]["extensions"]["code"].as_str()),
        (200, Some("NOT_FOUND"))
    );
    // Not a GraphQL request at all: 400 in both media types.
    for body in [
        b"{not json".to_vec(),
        b"{}".to_vec(),
        br#"{"query": 5}"#.to_vec(),
        br#"{"query": "{ me { role } }", "variables": [1]}"#.to_vec(),
    ] {
        let (s, _, b, _) = admin
            .post_raw("application/json", "application/json", body.clone())
            .await;
        assert_eq!(s, 400, "{}", String::from_utf8_lossy(&body));
        assert_eq!(b["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    // A JSON body sent as text/plain (a cross-site form can do that) is not executed.
    let (s, _, _, _) = admin
        .post_raw("text/plain", "application/json", gql_body("{ me { role } }"))
        .await;
    assert_eq!(s, 415);
    // Only JSON media types are produced.
    let (s, _, _, _) = admin
        .post_raw("application/json", "text/html", gql_body("{ me { role } }"))
        .await;
    assert_eq!(s, 406);
}

#[tokio::test]
async fn mutations_are_refused_over_get() {
    let app = TestApp::spawn().await;
    let before = audit_len(&app).await;
    let mutation = r#"mutation { createDirective(input: { code: "qua-get", number: "97/CT-UBND", kind: CHI_THI, title: "Qua GET" }) { directive { id } } }"#;
    let res = app
        .admin()
        .get("/graphql")
        .query(&[("query", mutation)])
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let body = res.text().await.expect("body");
    assert!(
        status == 405 || (status < 500 && body.contains("errors") && !body.contains("\"directive\"")),
        "CONTRACT.md: mutations only by POST; a mutation by GET must not run: {status} {body}"
    );
    assert_eq!(
        audit_len(&app).await,
        before,
        "nothing written by GET: {status} {body}"
    );
    let d = app
        .data(
            r#"{ directives(filter: { search: "qua get" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        count(&d["directives"]["totalCount"]),
        0,
        "no directive created by GET"
    );

    // The same query by GET is answered (the refusal is about mutations, not GET).
    let res = app
        .admin()
        .get("/graphql")
        .query(&[("query", "{ me { role } }")])
        .send()
        .await
        .expect("send");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "ADMIN", "{body:#}");
}

#[tokio::test]
async fn metrics_count_operations_errors_and_the_pool() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    for _ in 0..3 {
        admin
            .gql("query Dashboard { taskStatistics { total } }", json!({}))
            .await;
    }
    admin
        .gql(
            r#"query Missing { agency(code: "khong-co") { name } }"#,
            json!({}),
        )
        .await;
    let res = app.get("/metrics").send().await.expect("metrics");
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.expect("text");
    for needle in [
        r#"chidao_graphql_requests_total{operation="Dashboard",role="admin"} 3"#,
        r#"chidao_graphql_errors_total{code="NOT_FOUND"} 1"#,
        "chidao_graphql_request_duration_seconds_bucket",
        r#"chidao_db_pool_connections{state="max"}"#,
        "chidao_db_statements_total",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[tokio::test]
async fn cors_allows_only_the_configured_portals() {
    let app = TestApp::spawn_with(|s| s.cors_origins = vec!["https://dichvucong.laocai.gov.vn".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let ok = preflight("https://dichvucong.laocai.gov.vn")
        .await
        .expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://dichvucong.laocai.gov.vn")
    );
    let other = preflight("https://evil.example").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight() {
    // A wide batch window makes a nested query take about a second: long enough to shut
    // down while it runs.
    let (app, server) = TestApp::unstarted(|s| s.loader_delay_ms = 300).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let q = "{ tasks(first: 5) { nodes { directive { number } leads { name } assignments { latestReport { period } } } } }";
    let in_flight = {
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = app.admin().token().to_owned();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": q }))
                .send()
                .await
                .expect("send")
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let res = in_flight.await.expect("join");
    assert_eq!(res.status().as_u16(), 200, "the request in flight completes");
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["data"]["tasks"]["nodes"].as_array().map(Vec::len),
        Some(5),
        "{body}"
    );
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server stops once drained")
        .expect("join")
        .expect("serve");
    // After the drain nothing listens.
    let after = app.get("/healthz").send().await;
    assert!(after.is_err(), "new connections are refused after shutdown");
}

/// Response maps follow the selection order, every time: fields that wait for a statement
/// (`totalCount`, nested lists) do not move behind those that do not, and repeating a request
/// gives the same bytes (clients hash and diff responses).
#[tokio::test]
async fn response_keys_follow_the_selection_order_every_time() {
    let app = TestApp::spawn().await;
    let q = r#"query Q($id: ID!) {
        tasks(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { id code
            assignments { role agency { code } } directive { number } status } }
        me { role subject }
        n: node(id: $id) { ... on Agency { name code id } ... on Task { code id title } }
        directives(first: 1) { nodes { tasks(first: 2) { totalCount nodes { code } } number } }
    }"#;
    let agency = app
        .data(r#"{ agency(code: "so-y-te") { id } }"#, serde_json::json!({}))
        .await["agency"]["id"]
        .clone();
    let body = serde_json::json!({ "query": q, "variables": { "id": agency } });
    let mut seen = std::collections::BTreeSet::new();
    let mut first = Vec::new();
    for _ in 0..30 {
        let res = app
            .admin()
            .post("/graphql")
            .json(&body)
            .send()
            .await
            .expect("send");
        let bytes = res.bytes().await.expect("body").to_vec();
        if first.is_empty() {
            first = bytes.clone();
        }
        seen.insert(bytes);
    }
    assert_eq!(
        seen.len(),
        1,
        "30 identical requests, {} different bodies",
        seen.len()
    );
    let text = String::from_utf8(first).expect("utf-8");
    let at = |k: &str| text.find(k).unwrap_or_else(|| panic!("{k} in {text}"));
    assert!(
        at("\"totalCount\"") < at("\"pageInfo\"") && at("\"pageInfo\"") < at("\"nodes\""),
        "{text}"
    );
    assert!(
        at("\"tasks\"") < at("\"me\"") && at("\"me\"") < at("\"n\"") && at("\"n\"") < at("\"directives\""),
        "{text}"
    );
    assert!(at("\"role\":\"ADMIN\"") < at("\"subject\""), "{text}");
    // The node is an agency: its own fragment's order, and no trace of the type the server asked.
    let node = &text[at("\"n\"")..at("\"directives\"")];
    assert!(
        node.find("\"name\"") < node.find("\"code\"") && node.find("\"code\"") < node.find("\"id\""),
        "{node}"
    );
    assert!(!text.contains("_chidao_typename"), "{text}");
}

/// A response key asked twice (`nodes` twice, colocated fragments that both select `leads`,
/// a field at the root twice) is answered with every ask's fields merged, as async-graphql
/// merges them: such a document is not written as JSON text (`plain::splice_safe`). And an
/// object whose type the order pass must learn (fragments on two types) keeps its fragment's
/// order with no trace of the marker, in a document that is written as text elsewhere.
#[tokio::test]
async fn a_key_asked_twice_answers_every_ask() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            "{ tasks(first: 5) { nodes { id } nodes { code } } }",
            serde_json::json!({}),
        )
        .await;
    let nodes = d["tasks"]["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 5);
    for n in &nodes {
        assert!(n["id"].is_string() && n["code"].is_string(), "{n}");
    }
    let id = nodes[0]["id"].clone();
    let d = app
        .data(
            "query($id: ID!) { task(id: $id) { ...A ...B } t: task(id: $id) { code } }
             fragment A on Task { leads { name } } fragment B on Task { leads { code } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    let leads = d["task"]["leads"].as_array().expect("leads");
    assert!(!leads.is_empty());
    for l in leads {
        assert!(l["name"].is_string() && l["code"].is_string(), "{l}");
    }
    assert!(d["t"]["code"].is_string(), "{d}");
    let d = app
        .data(
            "query($id: ID!) { task(id: $id) { code } task(id: $id) { title leads { name } } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    assert!(
        d["task"]["code"].is_string() && d["task"]["title"].is_string(),
        "{d}"
    );
    assert!(d["task"]["leads"][0]["name"].is_string(), "{d}");

    let agency = app
        .data(r#"{ agency(code: "so-y-te") { id } }"#, serde_json::json!({}))
        .await["agency"]["id"]
        .clone();
    let body = serde_json::json!({
        "query": "query($id: ID!) { tasks(first: 2) { nodes { code leads { name } } }
            n: node(id: $id) { ... on Agency { name code } ... on Task { title dueOn } } }",
        "variables": { "id": agency },
    });
    let res = app
        .admin()
        .post("/graphql")
        .json(&body)
        .send()
        .await
        .expect("send");
    let text = res.text().await.expect("body");
    assert!(!text.contains("_chidao_typename"), "{text}");
    let node = &text[text.find("\"n\"").expect("n")..];
    assert!(node.find("\"name\"") < node.find("\"code\""), "{node}");
    assert!(text.find("\"tasks\"") < text.find("\"n\""), "{text}");
}

/// #19: a client that sends its headers slowly (slowloris) is cut off after
/// `CHIDAO_HEADER_READ_TIMEOUT_SECS`, while a prompt client on the same server is served.
#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|s| s.header_read_timeout_secs = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: chidao\r\nX-Slow: ")
        .await
        .expect("write");
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The server closes the connection (with or without a 408 first); the read sees the end.
    let read = tokio::time::timeout(Duration::from_secs(8), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection is still open after 8 s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "not before the timeout: {took:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    // Meanwhile a normal request is answered.
    let res = app.get("/healthz").send().await.expect("healthz");
    assert_eq!(res.status(), 200);
}
