//! The HTTP surface around GraphQL: health, readiness, GraphiQL, queries by GET.

use crate::helpers::TestApp;

#[tokio::test]
async fn health_readiness_graphiql_and_get_queries() {
    let app = TestApp::spawn().await;
    let get = |path: &str, accept: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header("accept", accept)
            .bearer_auth(&app.admin)
            .send()
    };
    let health = get("/healthz", "*/*").await.expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok");

    let ready = get("/readyz", "*/*").await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");

    let page = get("/graphql", "text/html").await.expect("graphiql");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("html")
            .to_lowercase()
            .contains("graphiql")
    );

    let res = get(
        "/graphql?query=%7B%20directive(number%3A%20%2210%2FCT-UBND%22)%20%7B%20number%20%7D%20%7D",
        "application/json",
    )
    .await
    .expect("get query");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["data"]["directive"]["number"], "10/CT-UBND");

    // Every response carries a request id, for matching a client's report to the log.
    let res = get("/healthz", "*/*").await.expect("healthz");
    assert!(res.headers().contains_key("x-request-id"));

    // An internal error never leaks detail: unknown fields are validation errors, not panics.
    let body = app.gql("{ nope }", serde_json::json!({})).await;
    assert!(body["errors"][0]["message"].as_str().is_some());
}
