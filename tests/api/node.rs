//! Relay's `node(id)`: every kind fetched by global id, and ids that do not resolve.

use serde_json::json;

use crate::helpers::{TestApp, gid};

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
    let missing = gid("Task", 999_999);
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
