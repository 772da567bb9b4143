//! Relay's `node(id)`: every kind fetched by global id, and ids that do not resolve.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn node_fetches_every_kind_by_global_id() {
    let app = TestApp::spawn().await;
    let d = app
        .data(
            r#"{ tasks(first: 1) { nodes { id assignments { id agency { id } } directive { id } } }
                 indicators(first: 1) { nodes { id } } }"#,
            json!({}),
        )
        .await;
    let t = &d["tasks"]["nodes"][0];
    for (id, typename) in [
        (&t["id"], "Task"),
        (&t["assignments"][0]["id"], "Assignment"),
        (&t["assignments"][0]["agency"]["id"], "Agency"),
        (&t["directive"]["id"], "Directive"),
        (&d["indicators"]["nodes"][0]["id"], "Indicator"),
    ] {
        let n = app
            .data(
                "query($id: ID!) { node(id: $id) { __typename id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"]["__typename"], typename);
        assert_eq!(&n["node"]["id"], id);
    }
    // An id of the right shape for a row that does not exist: NOT_FOUND.
    let missing = base64_id("Task:999999");
    assert_eq!(
        app.error_code(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": missing })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.error_code(r#"{ node(id: "%%%") { id } }"#, json!({})).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ directive(number: "1/XX") { id } }"#, json!({}))
            .await,
        "NOT_FOUND"
    );
}

fn base64_id(raw: &str) -> String {
    // URL-safe base64 without padding, as the API encodes ids.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let b = raw.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
