//! Response keys in selection order, every time.
//!
//! The GraphQL spec serialises an object's fields in the order the query selects them, and
//! clients that hash or diff responses (caches, ETags, snapshot tests) rely on it.
//! async-graphql 7 resolves an object's fields concurrently and inserts each as it completes
//! (`FuturesUnordered`), so a field that waits for a statement (`totalCount`) lands after one
//! that does not (`pageInfo`), differently from one request to the next. [`reorder`] puts every
//! object of a response back in the order the spec's CollectFields gives, from the executed
//! document.
//!
//! The order of fields reached through fragments depends on which fragments apply, which
//! depends on the object's concrete type. Where that matters (a selection set holding fragments
//! on two or more different types, as `node { ... on Task { … } ... on Agency { … } }`), [`mark`]
//! adds `__typename` under a reserved alias ([`TYPENAME`]) so the concrete type is known, and
//! [`reorder`] removes it again.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::parser::{Pos, Positioned};
use async_graphql::{Name, Value};

/// The alias under which [`mark`] selects `__typename`; a client must not use it.
pub const TYPENAME: &str = "_chidao_typename";

pub use super::types::SchemaTypes as Types;

/// The type conditions of the fragments directly in a selection set (spreads followed, nested
/// inline fragments included).
fn conditions<'a>(
    set: &'a SelectionSet,
    doc: &'a ExecutableDocument,
    out: &mut HashSet<&'a str>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(_) => {}
            Selection::InlineFragment(f) => {
                if let Some(c) = &f.node.type_condition {
                    out.insert(c.node.on.node.as_str());
                }
                conditions(&f.node.selection_set.node, doc, out, depth + 1);
            }
            Selection::FragmentSpread(s) => {
                if let Some(def) = doc.fragments.get(&s.node.fragment_name.node) {
                    out.insert(def.node.type_condition.node.on.node.as_str());
                    conditions(&def.node.selection_set.node, doc, out, depth + 1);
                }
            }
        }
    }
}

fn typename_field() -> Positioned<Selection> {
    let pos = Pos::default();
    Positioned::new(
        Selection::Field(Positioned::new(
            Field {
                alias: Some(Positioned::new(Name::new(TYPENAME), pos)),
                name: Positioned::new(Name::new("__typename"), pos),
                arguments: Vec::new(),
                directives: Vec::new(),
                selection_set: Positioned::new(SelectionSet::default(), pos),
            },
            pos,
        )),
        pos,
    )
}

/// Adds `__typename` (as [`TYPENAME`]) to every field's selection set whose fragments are on two
/// or more types, so [`reorder`] can tell which of them applied. Root selection sets are left
/// alone (their type is the operation's, and a subscription may select one root field only).
pub fn mark(doc: &mut ExecutableDocument) {
    let snapshot = doc.clone();
    fn walk(set: &mut SelectionSet, doc: &ExecutableDocument, root: bool) {
        if !root {
            let mut found = HashSet::new();
            conditions(set, doc, &mut found, 0);
            let marked = set.items.iter().any(|i| {
                matches!(&i.node, Selection::Field(f) if f.node.alias.as_ref().is_some_and(|a| a.node == TYPENAME))
            });
            if found.len() > 1 && !marked {
                set.items.push(typename_field());
            }
        }
        for item in &mut set.items {
            match &mut item.node {
                Selection::Field(f) => walk(&mut f.node.selection_set.node, doc, false),
                Selection::InlineFragment(f) => walk(&mut f.node.selection_set.node, doc, root),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    use async_graphql::parser::types::DocumentOperations;
    match &mut doc.operations {
        DocumentOperations::Single(op) => walk(&mut op.node.selection_set.node, &snapshot, true),
        DocumentOperations::Multiple(ops) => {
            for op in ops.values_mut() {
                walk(&mut op.node.selection_set.node, &snapshot, true);
            }
        }
    }
    // A fragment's own fields are walked as nested sets; a fragment on a root type may be spread
    // at the root, where nothing is added.
    let roots = ["Query", "Mutation", "Subscription"];
    for def in doc.fragments.values_mut() {
        let root = roots.contains(&def.node.type_condition.node.on.node.as_str());
        walk(&mut def.node.selection_set.node, &snapshot, root);
    }
}

/// The response keys of a selection set in CollectFields order, each with the selection sets
/// of the fields merged under it. `concrete`: the object's type when known (fragments that do
/// not apply to it are skipped); otherwise every fragment counts.
fn collect<'a>(
    sets: &[&'a SelectionSet],
    doc: &'a ExecutableDocument,
    concrete: Option<&str>,
    types: &Types,
) -> Vec<(&'a str, Vec<&'a SelectionSet>)> {
    fn visit<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        concrete: Option<&str>,
        types: &Types,
        out: &mut Vec<(&'a str, Vec<&'a SelectionSet>)>,
        depth: usize,
    ) {
        if depth > 32 {
            return;
        }
        let applies = |on: &str| concrete.is_none_or(|c| types.applies(on, c));
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let key = f
                        .node
                        .alias
                        .as_ref()
                        .map_or(f.node.name.node.as_str(), |a| a.node.as_str());
                    let sub = &f.node.selection_set.node;
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => out.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(f) => {
                    if f.node
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| applies(c.node.on.node.as_str()))
                    {
                        visit(&f.node.selection_set.node, doc, concrete, types, out, depth + 1);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(def) = doc.fragments.get(&s.node.fragment_name.node)
                        && applies(def.node.type_condition.node.on.node.as_str())
                    {
                        visit(&def.node.selection_set.node, doc, concrete, types, out, depth + 1);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for set in sets {
        visit(set, doc, concrete, types, &mut out, 0);
    }
    out
}

/// The response keys of one selection, in order, with their fields' selection sets.
type Plan<'a> = Vec<(&'a str, Vec<&'a SelectionSet>)>;

/// The shared plan of a list's items, with what every object of the list needs from it.
struct Shared<'a> {
    plan: Plan<'a>,
    /// Per key: whether any of its fields selects subfields (a leaf's value is never visited).
    nested: Vec<bool>,
    /// Whether [`TYPENAME`] is among the keys. When it is not, no object of this selection can
    /// carry it (the plan without a concrete type takes in every fragment), and nothing is
    /// looked up to remove it. That holds while documents stay within the depth both walks
    /// follow (32 fragment levels each): `schema` refuses nesting past 64.
    typed: bool,
}

impl<'a> Shared<'a> {
    fn new(plan: Plan<'a>) -> Self {
        let nested = plan
            .iter()
            .map(|(_, subs)| subs.iter().any(|s| !s.items.is_empty()))
            .collect();
        let typed = plan.iter().any(|(k, _)| *k == TYPENAME);
        Shared { plan, nested, typed }
    }
}

fn reorder_value<'a>(
    value: &mut Value,
    sets: &[&'a SelectionSet],
    doc: &'a ExecutableDocument,
    types: &Types,
) {
    match value {
        // Every item of a list has the same selection: one plan for all the items that do not
        // carry their concrete type (Q3's 50 indicators, each indicator's 12 values).
        Value::List(items) => {
            let mut plan = None;
            for v in items {
                reorder_item(v, sets, doc, types, &mut plan);
            }
        }
        Value::Object(_) => reorder_item(value, sets, doc, types, &mut None),
        _ => {}
    }
}

/// [`reorder_value`] of one value, reusing `shared` (the plan of an object without a
/// [`TYPENAME`]) when it has been made.
fn reorder_item<'a>(
    value: &mut Value,
    sets: &[&'a SelectionSet],
    doc: &'a ExecutableDocument,
    types: &Types,
    shared: &mut Option<Shared<'a>>,
) {
    let Value::Object(map) = value else {
        if let Value::List(_) = value {
            reorder_value(value, sets, doc, types);
        }
        return;
    };
    let shared = shared.get_or_insert_with(|| Shared::new(collect(sets, doc, None, types)));
    let concrete = match shared.typed.then(|| map.shift_remove(TYPENAME)).flatten() {
        Some(Value::String(t)) => Some(t),
        _ => None,
    };
    let own;
    let plan: &Shared<'a> = match concrete {
        None => shared,
        Some(t) => {
            own = Shared::new(collect(sets, doc, Some(t.as_str()), types));
            &own
        }
    };
    // Most objects are already in order (fields that did not wait finish in selection order):
    // then only their values are visited, and the map is not rebuilt. The order is checked
    // before any value is visited: visiting removes a nested object's TYPENAME, so a second
    // visit would order it by the plan of every fragment instead of its own type's.
    let mut at = 0;
    let ordered = map.keys().all(
        |k| match plan.plan[at..].iter().position(|(p, _)| *p == k.as_str()) {
            Some(i) => {
                at += i + 1;
                true
            }
            None => false,
        },
    );
    if ordered {
        let mut at = 0;
        for (k, v) in map.iter_mut() {
            // Found at or after `at`: checked above.
            let Some(i) = plan.plan[at..].iter().position(|(p, _)| *p == k.as_str()) else {
                break;
            };
            at += i;
            if plan.nested[at] {
                reorder_value(v, &plan.plan[at].1, doc, types);
            }
            at += 1;
        }
        return;
    }
    let mut old = std::mem::take(map);
    for ((key, subs), nested) in plan.plan.iter().zip(&plan.nested) {
        if let Some((k, mut v)) = old.shift_remove_entry(*key) {
            if *nested {
                reorder_value(&mut v, subs, doc, types);
            }
            map.insert(k, v);
        }
    }
    // Anything the plan did not name (nothing, in a valid response) keeps its place last.
    map.extend(old);
}

/// Puts every object of `data` (the result of `operation` in `doc`) in selection order, and
/// drops the [`TYPENAME`] fields [`mark`] added.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation: Option<&str>, types: &Types) {
    let op = doc.operations.iter().find(|(name, _)| match (operation, name) {
        (Some(want), Some(name)) => name.as_str() == want,
        (Some(_), None) => false,
        (None, _) => true,
    });
    if let Some((_, op)) = op {
        reorder_value(data, &[&op.node.selection_set.node], doc, types);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "interface Node { id: ID! }
        type Task implements Node { id: ID! code: String title: String }
        type Agency implements Node { id: ID! code: String name: String }
        type Query { node: Node tasks: [Task] }";

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (Name::new(*k), v.clone())).collect())
    }

    fn keys(v: &Value) -> Vec<String> {
        match v {
            Value::Object(m) => m.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_the_selection_order() {
        let types = Types::of_sdl(SDL);
        let mut doc = async_graphql::parser::parse_query(
            "query Q { tasks { title code ...F } } fragment F on Task { id code }",
        )
        .expect("parses");
        mark(&mut doc);
        let task = obj(&[
            ("id", Value::from("1")),
            ("code", Value::from("c")),
            ("title", Value::from("t")),
        ]);
        let mut data = obj(&[("tasks", Value::List(vec![task.clone(), task]))]);
        reorder(&mut data, &doc, Some("Q"), &types);
        let Value::Object(m) = &data else { panic!("object") };
        let Some(Value::List(items)) = m.get("tasks") else {
            panic!("list")
        };
        for t in items {
            assert_eq!(keys(t), ["title", "code", "id"]);
        }
    }

    #[test]
    fn fragments_on_several_types_follow_the_concrete_type() {
        let types = Types::of_sdl(SDL);
        let mut doc = async_graphql::parser::parse_query(
            "{ a: node { ... on Task { code id } ... on Agency { id name code } } }",
        )
        .expect("parses");
        mark(&mut doc);
        for (ty, want) in [
            ("Task", vec!["code", "id"]),
            ("Agency", vec!["id", "name", "code"]),
        ] {
            let node = obj(&[
                ("name", Value::from("n")),
                ("id", Value::from("1")),
                ("code", Value::from("c")),
                (TYPENAME, Value::from(ty)),
            ]);
            let node = if ty == "Task" {
                let Value::Object(mut m) = node else {
                    unreachable!()
                };
                m.shift_remove("name");
                Value::Object(m)
            } else {
                node
            };
            let mut data = obj(&[("a", node)]);
            reorder(&mut data, &doc, None, &types);
            let Value::Object(m) = &data else { panic!("object") };
            assert_eq!(keys(&m["a"]), want, "{ty}: the added __typename is gone too");
        }
    }

    #[test]
    fn a_typed_object_before_a_misplaced_key_keeps_its_own_order() {
        // The root's fields finish out of order (`c` before `b`), and `a` comes first, carrying
        // its concrete type: `a` must be ordered by Agency's fragment exactly once.
        let types = Types::of_sdl(SDL);
        let mut doc = async_graphql::parser::parse_query(
            "{ a: node { ... on Task { code id } ... on Agency { id name code } } b: tasks { id } c: tasks { code } }",
        )
        .expect("parses");
        mark(&mut doc);
        let agency = obj(&[
            ("name", Value::from("n")),
            ("id", Value::from("1")),
            ("code", Value::from("c")),
            (TYPENAME, Value::from("Agency")),
        ]);
        let mut data = obj(&[
            ("a", agency),
            ("c", Value::List(vec![obj(&[("code", Value::from("x"))])])),
            ("b", Value::List(vec![obj(&[("id", Value::from("2"))])])),
        ]);
        reorder(&mut data, &doc, None, &types);
        assert_eq!(keys(&data), ["a", "b", "c"]);
        let Value::Object(m) = &data else { panic!("object") };
        assert_eq!(keys(&m["a"]), ["id", "name", "code"]);
    }

    #[test]
    fn only_sets_with_fragments_on_several_types_are_marked() {
        let mut doc = async_graphql::parser::parse_query(
            "subscription { ... on Subscription { e { ... on Task { id } ... on Agency { id } } } }",
        )
        .expect("parses");
        mark(&mut doc);
        let text = format!("{doc:?}");
        assert_eq!(
            text.matches(TYPENAME).count(),
            1,
            "one set, below the root: {text}"
        );
        let mut plain =
            async_graphql::parser::parse_query("{ tasks { id ... on Task { code } } }").expect("parses");
        mark(&mut plain);
        assert!(!format!("{plain:?}").contains(TYPENAME));
    }

    #[test]
    fn a_list_shares_one_plan_and_mixed_orders_are_each_put_right() {
        let types = Types::of_sdl(SDL);
        let doc = async_graphql::parser::parse_query("{ tasks { title code id } }").expect("parses");
        let in_order = obj(&[
            ("title", Value::from("t")),
            ("code", Value::from("c")),
            ("id", Value::from("1")),
        ]);
        let shuffled = obj(&[
            ("id", Value::from("2")),
            ("title", Value::from("u")),
            ("code", Value::from("d")),
        ]);
        // A nested list of lists, and an object missing a field (skipped by @include).
        let partial = obj(&[("id", Value::from("3")), ("title", Value::from("v"))]);
        let mut data = obj(&[(
            "tasks",
            Value::List(vec![in_order, Value::List(vec![shuffled]), partial]),
        )]);
        reorder(&mut data, &doc, None, &types);
        let Value::Object(m) = &data else { panic!("object") };
        let Some(Value::List(items)) = m.get("tasks") else {
            panic!("list")
        };
        assert_eq!(keys(&items[0]), ["title", "code", "id"]);
        let Value::List(inner) = &items[1] else {
            panic!("inner list")
        };
        assert_eq!(keys(&inner[0]), ["title", "code", "id"]);
        assert_eq!(keys(&items[2]), ["title", "id"]);
    }
}
