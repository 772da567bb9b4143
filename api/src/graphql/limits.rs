//! Request limits checked before a GraphQL operation executes (OWASP GraphQL Cheat Sheet,
//! graphql-armor's defaults): tokens, depth, aliases, directives, cost and page size. Each
//! check is linear in the document, so a hostile query is refused in well under a
//! millisecond, and each refusal names the limit.
//!
//! Introspection (`__schema`, `__type`) is measured apart, as graphql-armor does: its depth
//! against its own limit (`maxIntrospectionDepth`), since the standard introspection query of
//! every client library nests deeper than any data query needs, and at most
//! [`INTROSPECTION_ROOTS`] of it per document, since what it returns is bounded by the size of
//! the schema, not of the data.

use std::collections::HashSet;

use async_graphql::Name;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::db::sizes::ListSizes;
use async_graphql::{Value, Variables};

pub use crate::config::Limits;
use crate::error::ApiError;
use crate::graphql::relay::{DEFAULT_PAGE, MAX_PAGE};

/// The most items each plain list field holds: its children's cost is multiplied by it, as a
/// connection's is by its page size, so nesting lists (`assignments { task { assignments … } }`)
/// cannot escape the cost limit. Lists of rows are measured from the data (`db::sizes`);
/// computed lists have fixed bounds their resolvers keep (`series`, `groups`).
pub fn list_size(field: &str, sizes: &ListSizes) -> u64 {
    match field {
        "leads" | "coordinators" => sizes.get("assignments").unwrap_or(MAX_HOLDERS),
        "series" => MAX_SERIES_POINTS,
        "groups" => MAX_GROUPS,
        "byStatus" => 6,
        "dissolved" => 20,
        "reassigned" => MAX_REASSIGNED_SHOWN,
        other => sizes.get(other).unwrap_or(1),
    }
}

/// The most groups `taskStatistics` returns.
pub const MAX_GROUPS: u64 = 1000;

/// The most rows one `reassignAssignments` writes (assignments × targets), and so the most
/// its payload lists: a district's work to the communes of its area is a few hundred.
pub const MAX_REASSIGNED: u64 = 5000;
/// The most of those rows its payload lists.
pub const MAX_REASSIGNED_SHOWN: u64 = 100;

/// The most agencies one task is assigned to (every commune and ward of the province, and
/// some departments).
pub const MAX_HOLDERS: u64 = 150;
/// The most points `Indicator.series` returns (ten years of months).
pub const MAX_SERIES_POINTS: u64 = 120;

fn too_complex(msg: String) -> ApiError {
    ApiError::TooComplex(msg)
}

/// Counts lexical tokens the way a GraphQL lexer would (names, numbers, strings and
/// punctuators; commas, whitespace and comments are ignored), stopping once past `max`.
pub fn count_tokens(query: &str, max: usize) -> usize {
    let b = query.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() && n <= max {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if b[i..].starts_with("\u{feff}".as_bytes()) => i += 3,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                n += 1;
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if b[i..].starts_with(b"...") => {
                n += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                n += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                n += 1;
                i += 1;
            }
        }
    }
    n
}

/// Checks the token count before parsing, so a huge document is not even parsed.
pub fn check_tokens(query: &str, limits: &Limits) -> Result<(), ApiError> {
    let n = count_tokens(query, limits.max_tokens);
    if n > limits.max_tokens {
        return Err(too_complex(format!(
            "Truy vấn quá dài: vượt giới hạn {} token (maxTokens)",
            limits.max_tokens
        )));
    }
    Ok(())
}

/// Introspection fields (`__schema`, `__type`) a document may hold: a client asks for the
/// whole schema once, or for a few types; aliasing the whole schema many times over would only
/// multiply the same answer.
pub const INTROSPECTION_ROOTS: usize = 4;

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    vars: &'a Variables,
    sizes: &'a ListSizes,
    aliases: usize,
    directives: usize,
    introspection_roots: usize,
}

impl Walk<'_> {
    /// Returns the cost of a selection set at `depth`, counting aliases and directives.
    /// `introspection`: the set lies inside `__schema` or `__type`.
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        depth: usize,
        introspection: bool,
        seen: &mut HashSet<Name>,
        limits: &Limits,
    ) -> Result<u64, ApiError> {
        let mut cost: u64 = 0;
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    self.directives += f.directives.len();
                    // The `__typename` that `order::mark` adds is the server's, not the client's.
                    if f.alias.as_ref().is_some_and(|a| a.node != super::order::TYPENAME) {
                        self.aliases += 1;
                    }
                    let root = !introspection && matches!(f.name.node.as_str(), "__schema" | "__type");
                    let introspection = introspection || root;
                    if root && !limits.introspection {
                        return Err(ApiError::Forbidden(
                            "Máy chủ này tắt introspection (CHIDAO_INTROSPECTION=false); lược đồ có trong schema/schema.graphql".into(),
                        ));
                    }
                    if root {
                        self.introspection_roots += 1;
                        if self.introspection_roots > INTROSPECTION_ROOTS {
                            return Err(too_complex(format!(
                                "Quá nhiều trường introspection (__schema, __type): tối đa {INTROSPECTION_ROOTS} mỗi truy vấn"
                            )));
                        }
                    }
                    let d = depth + 1;
                    if introspection && d > limits.max_introspection_depth {
                        return Err(too_complex(format!(
                            "Truy vấn introspection lồng quá sâu: tối đa {} cấp (maxIntrospectionDepth)",
                            limits.max_introspection_depth
                        )));
                    }
                    if !introspection && d > limits.max_depth {
                        return Err(too_complex(format!(
                            "Truy vấn lồng quá sâu: tối đa {} cấp (maxDepth)",
                            limits.max_depth
                        )));
                    }
                    let mut page: Option<u64> = None;
                    for (name, value) in &f.arguments {
                        if name.node == "first" || name.node == "last" {
                            let n = self.int_arg(&value.node);
                            if let Some(n) = n {
                                if n > MAX_PAGE as i64 {
                                    return Err(ApiError::bad_input(
                                        name.node.as_str(),
                                        format!(
                                            "`{}` tối đa là {MAX_PAGE} bản ghi một trang (yêu cầu {n})",
                                            name.node
                                        ),
                                    ));
                                }
                                page = Some(n.max(0) as u64);
                            }
                        }
                    }
                    let children =
                        self.selection_set(&f.selection_set.node, d, introspection, seen, limits)?;
                    let is_connection = page.is_some()
                        || f.selection_set.node.items.iter().any(|s| {
                            matches!(&s.node, Selection::Field(c) if matches!(c.node.name.node.as_str(), "nodes" | "edges"))
                        });
                    let multiplier = if is_connection {
                        page.unwrap_or(DEFAULT_PAGE).max(1)
                    } else if introspection {
                        1
                    } else {
                        list_size(f.name.node.as_str(), self.sizes)
                    };
                    cost = cost
                        .saturating_add(1)
                        .saturating_add(children.saturating_mul(multiplier));
                }
                Selection::InlineFragment(frag) => {
                    self.directives += frag.node.directives.len();
                    cost = cost.saturating_add(self.selection_set(
                        &frag.node.selection_set.node,
                        depth,
                        introspection,
                        seen,
                        limits,
                    )?);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives += spread.node.directives.len();
                    let name = &spread.node.fragment_name.node;
                    // A fragment cycle is a validation error; stop walking it here.
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    if let Some(def) = self.doc.fragments.get(name) {
                        self.directives += def.node.directives.len();
                        cost = cost.saturating_add(self.selection_set(
                            &def.node.selection_set.node,
                            depth,
                            introspection,
                            seen,
                            limits,
                        )?);
                    }
                    seen.remove(name);
                }
            }
            if self.aliases > limits.max_aliases {
                return Err(too_complex(format!(
                    "Quá nhiều bí danh (alias): tối đa {} (maxAliases)",
                    limits.max_aliases
                )));
            }
            if self.directives > limits.max_directives {
                return Err(too_complex(format!(
                    "Quá nhiều chỉ thị (@directive): tối đa {} (maxDirectives)",
                    limits.max_directives
                )));
            }
            if cost > limits.max_cost {
                return Err(too_complex(format!(
                    "Truy vấn quá tốn kém: chi phí ước tính vượt {} (maxCost; mỗi trường 1, danh sách nhân theo `first`)",
                    limits.max_cost
                )));
            }
        }
        Ok(cost)
    }

    fn int_arg(&self, v: &async_graphql_value::Value) -> Option<i64> {
        use async_graphql_value::Value as V;
        match v {
            V::Number(n) => n.as_i64(),
            V::Variable(name) => match self.vars.get(name) {
                Some(Value::Number(n)) => n.as_i64(),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Checks depth, aliases, directives, cost and page sizes of the operation that would run.
/// Returns the estimated cost.
pub fn check_document(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    vars: &Variables,
    limits: &Limits,
    sizes: &ListSizes,
) -> Result<u64, ApiError> {
    let mut walk = Walk {
        doc,
        vars,
        sizes,
        aliases: 0,
        directives: 0,
        introspection_roots: 0,
    };
    let mut total: u64 = 0;
    for (name, op) in doc.operations.iter() {
        // Only the operation that runs is measured; with no name given, all of them (an
        // ambiguous document fails validation anyway).
        if let (Some(want), Some(name)) = (operation_name, name)
            && name.as_str() != want
        {
            continue;
        }
        walk.directives += op.node.directives.len();
        let mut seen = HashSet::new();
        total = total.saturating_add(walk.selection_set(
            &op.node.selection_set.node,
            0,
            false,
            &mut seen,
            limits,
        )?);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(q: &str) -> Result<u64, ApiError> {
        let limits = crate::config::Settings::defaults().limits();
        check_tokens(q, &limits)?;
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        check_document(&doc, None, &Variables::default(), &limits, &ListSizes::default())
    }

    fn code(r: Result<u64, ApiError>) -> &'static str {
        match r {
            Ok(_) => "OK",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn tokens_are_counted_like_a_lexer() {
        assert_eq!(count_tokens("{ a(b: \"x y, z\") { c } }", 100), 11);
        assert_eq!(count_tokens("# comment\n{ ...F }", 100), 4);
        assert_eq!(count_tokens("{ a(b: \"\"\"x \"y\" z\"\"\") }", 100), 8);
        assert_eq!(count_tokens("{ a(n: -1.5e3) }", 100), 8);
    }

    /// The standard introspection queries of graphql-js 16 and graphql-core 3.3 (Python `gql`),
    /// every option on, as those libraries print them (`tests/fixtures/introspection/`).
    const CLIENT_INTROSPECTION: [&str; 2] = [
        include_str!("../../../tests/fixtures/introspection/graphql-js-16.15.0-all-options.graphql"),
        include_str!("../../../tests/fixtures/introspection/graphql-core-3.3.2-all-options.graphql"),
    ];

    #[test]
    fn the_client_libraries_introspection_passes_and_stays_bounded() {
        for q in CLIENT_INTROSPECTION {
            assert_eq!(code(check(q)), "OK", "{q}");
        }
        // Introspection nests deeper than data may, but not without end.
        let mut type_ref = "kind".to_owned();
        for _ in 0..30 {
            type_ref = format!("kind ofType {{ {type_ref} }}");
        }
        let deep = format!("{{ __schema {{ types {{ fields {{ type {{ {type_ref} }} }} }} }} }}");
        let e = check(&deep).expect_err("refused");
        assert!(e.message().contains("maxIntrospectionDepth"), "{}", e.message());
        // The whole schema a few times over is enough for any tool.
        let many = (0..=INTROSPECTION_ROOTS)
            .map(|i| format!("s{i}: __schema {{ queryType {{ name }} }} "))
            .collect::<String>();
        assert_eq!(code(check(&format!("{{ {many} }}"))), "TOO_COMPLEX");
        let few = (0..INTROSPECTION_ROOTS)
            .map(|i| format!("t{i}: __type(name: \"Task\") {{ name }} "))
            .collect::<String>();
        assert_eq!(code(check(&format!("{{ {few} }}"))), "OK");
        // Data keeps its own, smaller depth: a data field at introspection's depth is refused.
        let data = format!("{{ {}x{} }}", "a { ".repeat(15), " }".repeat(15));
        assert!(check(&data).expect_err("refused").message().contains("maxDepth"));
    }

    #[test]
    fn the_benchmark_queries_pass_the_default_limits() {
        for q in [
            include_str!("../../../bench/chidao/q1.graphql"),
            include_str!("../../../bench/chidao/q2.graphql"),
            include_str!("../../../bench/chidao/q3.graphql"),
            include_str!("../../../bench/chidao/q4.graphql"),
        ] {
            let limits = crate::config::Settings::defaults().limits();
            let doc = async_graphql::parser::parse_query(q).expect("parses");
            let vars =
                Variables::from_json(serde_json::json!({ "first": 50, "agencyCode": "syn-0037", "id": "x" }));
            let cost = check_document(&doc, None, &vars, &limits, &ListSizes::default())
                .unwrap_or_else(|e| panic!("{}: {q}", e.message()));
            assert!(cost < limits.max_cost, "{cost}");
        }
    }

    #[test]
    fn ordinary_queries_pass() {
        let q = r#"{ directive(number: "10/CT-UBND") { title tasks(first: 100) { totalCount nodes {
            code status dueOn leads { name } assignments { role agency { code } latestReport { period } } } } } }"#;
        let cost = check(q).expect("ok");
        assert!(cost > 100 && cost < 100_000, "{cost}");
    }

    #[test]
    fn abuse_shapes_are_refused_with_the_limit_named() {
        let deep = format!("{{ {}x{} }}", "a { ".repeat(50), " }".repeat(50));
        assert_eq!(code(check(&deep)), "TOO_COMPLEX");
        let aliases = format!(
            "{{ {} }}",
            (0..1000)
                .map(|i| format!("a{i}: me {{ role }}"))
                .collect::<String>()
        );
        let e = check(&aliases).expect_err("refused");
        assert_eq!(e.code(), "TOO_COMPLEX");
        let directives = format!("{{ me {} {{ role }} }}", "@include(if: true) ".repeat(500));
        assert_eq!(code(check(&directives)), "TOO_COMPLEX");
        assert_eq!(
            code(check("{ tasks(first: 100000) { nodes { code } } }")),
            "BAD_USER_INPUT"
        );
        let wide = "{ agencies(first: 100) { nodes { assignments(first: 100) { nodes { task { reports(first: 100) { nodes { period } } } } } } } }";
        let e = check(wide).expect_err("refused");
        assert_eq!(e.code(), "TOO_COMPLEX");
        assert!(e.message().contains("maxCost"), "{}", e.message());
        let long = format!("{{ me {{ {} }} }}", "role ".repeat(3000));
        assert!(check(&long).expect_err("refused").message().contains("maxTokens"));
    }

    #[test]
    fn variables_count_for_page_size_and_fragments_for_depth() {
        let doc =
            async_graphql::parser::parse_query("query($n: Int) { tasks(first: $n) { nodes { code } } }")
                .expect("parse");
        let vars = Variables::from_json(serde_json::json!({ "n": 5000 }));
        let e = check_document(
            &doc,
            None,
            &vars,
            &crate::config::Settings::defaults().limits(),
            &ListSizes::default(),
        )
        .expect_err("refused");
        assert_eq!(e.code(), "BAD_USER_INPUT");
        let q = format!(
            "{{ ...F0 }} {} fragment F12 on Query {{ me {{ role }} }}",
            (0..12)
                .map(|i| format!(
                    "fragment F{i} on Query {{ me {{ agency {{ ...F{} }} }} }} ",
                    i + 1
                ))
                .collect::<String>()
        );
        assert_eq!(code(check(&q)), "TOO_COMPLEX");
    }
}
