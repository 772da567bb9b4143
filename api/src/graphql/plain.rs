//! Objects whose selected fields are plain values, answered in one pass without a future per
//! field.
//!
//! async-graphql resolves every field of every object as its own boxed future, polled through
//! a `FuturesUnordered`, and every list item as another: for Q3 of `bench/` (50 indicators × 12
//! values) that machinery cost 4,900 instructions per value object of two fields, more than
//! reading the row from PostgreSQL (callgrind, `bench/README.md`). A type that implements
//! [`Plain`] names the fields it can answer at once (no arguments given, no guard, nothing
//! awaited: the same value its resolver returns), and a list of it returned as [`PlainList`]
//! (or one object as [`PlainOne`]) is answered by walking the selection once per list:
//! - the selection's fields, fragments flattened, in selection order (what `graphql::order`
//!   would put them in), are worked out once for the whole list;
//! - each item's plain fields are computed in place;
//! - any other field (a loader, an argument, a guard) goes to the type's own resolver, as
//!   async-graphql would call it, with the same path for its errors.
//!
//! Where the walk cannot be sure of giving async-graphql's answer it does not take it: a
//! field with a directive left after `@skip`/`@include` (a custom directive wraps its
//! resolver), a fragment it cannot find, or one response key asked twice (async-graphql answers
//! each ask and merges them). Then the list resolves as a `Vec` does.
//! Extensions' per-field hooks are not called for the fields answered in place: chidao's
//! schemas install no extension with a `resolve` hook (the socket's checks use
//! `prepare_request` and `subscribe` only).
//!
//! A request holding [`ThroughResolvers`] in its data answers every field through its resolver:
//! `tests/api/plain.rs` compares the two answers for every plain field, and counts with
//! [`Walks`] that this walk answered.

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_list};
use async_graphql::{ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult, Value};

/// A GraphQL object some of whose fields can be answered at once.
pub trait Plain: ContainerType + Send + Sync {
    /// The value of field `name` (its GraphQL name) asked with no arguments, when it needs
    /// nothing awaited, no guard and no context: exactly what its resolver would return.
    /// `None`: the resolver answers it.
    fn plain(&self, name: &str) -> Option<Value>;
}

/// Request data: answer every field through its resolver (for comparing the two ways).
#[derive(Clone, Copy, Debug, Default)]
pub struct ThroughResolvers;

/// Request data: objects and lists the walk answers are answered as JSON text ([`settle`],
/// [`spliced`]), which [`to_json`] writes as it stands. Only a response that goes out through
/// [`to_json`] may carry it (the HTTP handler's), and only for a document that
/// [`splice_safe`] passes; every other consumer of a response (the socket, in-process callers)
/// gets the value tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Splice;

/// Whether [`Splice`] may answer `doc`: no selection set of it, fragments flattened (every type
/// condition taken, which can only find more), holds one response key twice. async-graphql
/// answers each ask of a repeated key and merges the answers as maps and lists
/// (`insert_value`), which JSON text is not: `{ nodes { id } nodes { code } }`, or two
/// colocated fragments that both select `leads`, would keep one ask's fields and drop the
/// other's. Bounded: flattening a set stops at its first repeated key, so a spread fragment
/// is expanded once per set, and spreads nest at most 32 deep.
pub fn splice_safe(doc: &ExecutableDocument) -> bool {
    /// Adds the keys of `set` (fragments flattened) to `seen`; `false` at the first repeat.
    fn keys<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        seen: &mut HashSet<&'a str>,
        depth: usize,
    ) -> bool {
        if depth > 32 {
            return false;
        }
        set.items.iter().all(|item| match &item.node {
            Selection::Field(f) => seen.insert(f.node.response_key().node.as_str()),
            Selection::InlineFragment(f) => keys(&f.node.selection_set.node, doc, seen, depth + 1),
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .is_some_and(|d| keys(&d.node.selection_set.node, doc, seen, depth + 1)),
        })
    }
    /// `set` and every set written inside it (fields' and inline fragments'; fragment
    /// definitions are checked on their own).
    fn sets(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> bool {
        if depth > 64 || !keys(set, doc, &mut HashSet::new(), 0) {
            return false;
        }
        set.items.iter().all(|item| match &item.node {
            Selection::Field(f) => {
                let inner = &f.node.selection_set.node;
                inner.items.is_empty() || sets(inner, doc, depth + 1)
            }
            Selection::InlineFragment(f) => sets(&f.node.selection_set.node, doc, depth + 1),
            Selection::FragmentSpread(_) => true,
        })
    }
    doc.operations
        .iter()
        .all(|(_, op)| sets(&op.node.selection_set.node, doc, 0))
        && doc
            .fragments
            .values()
            .all(|f| sets(&f.node.selection_set.node, doc, 0))
}

/// Request data: counts the selections answered by this module's walk (for tests that must
/// know it ran).
#[derive(Clone, Debug, Default)]
pub struct Walks(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// A value as its GraphQL output: scalars, enums and their options.
pub fn out<T: InputType>(v: T) -> Value {
    v.to_value()
}

/// A string field.
pub fn text(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// A nullable string field.
pub fn opt_text(v: Option<&str>) -> Value {
    v.map_or(Value::Null, text)
}

/// A list of `T` answered by [`Plain`]: the same GraphQL type as `Vec<T>` (`[T!]!`).
pub struct PlainList<T>(pub Vec<T>);

/// One `T` answered by [`Plain`]: the same GraphQL type as `T`.
pub struct PlainOne<T>(pub T);

/// What one selected response key is answered with.
enum Pick<'a> {
    Typename,
    Field(&'a Positioned<Field>),
}

/// The selection on `T`, fragments flattened, one entry per response key in selection order;
/// `None` where async-graphql's own walk must answer (see the module's comment).
fn picks<'a, T: OutputType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    out: &mut Vec<(&'a Name, Pick<'a>)>,
) -> Option<()> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if !field.node.directives.is_empty() {
                    return None;
                }
                let key = &field.node.response_key().node;
                if out.iter().any(|(k, _)| *k == key) {
                    // async-graphql answers each ask (a failing one errs twice) and merges
                    // sub-selections: its own walk answers such a selection.
                    return None;
                }
                let pick = if field.node.name.node == "__typename" {
                    Pick::Typename
                } else {
                    Pick::Field(field)
                };
                out.push((key, pick));
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = ctx.query_env.fragments.get(&spread.node.fragment_name.node)?;
                if applies::<T>(ctx, Some(fragment.node.type_condition.node.on.node.as_str())) {
                    picks::<T>(ctx, &fragment.node.selection_set.node, out)?;
                }
            }
            Selection::InlineFragment(fragment) => {
                if !fragment.node.directives.is_empty() {
                    return None;
                }
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str());
                if applies::<T>(ctx, on) {
                    picks::<T>(ctx, &fragment.node.selection_set.node, out)?;
                }
            }
        }
    }
    Some(())
}

/// Whether a fragment on `on` applies to the object type `T` (async-graphql's rule).
fn applies<T: OutputType>(ctx: &ContextSelectionSet<'_>, on: Option<&str>) -> bool {
    let Some(on) = on else { return true };
    let name = T::type_name();
    on == name
        || ctx
            .schema_env
            .registry
            .implements
            .get(name.as_ref())
            .is_some_and(|interfaces| interfaces.contains(on))
}

/// The plan for a selection on `T`, or `None` to let async-graphql answer.
fn plan<'a, T: OutputType>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<(&'a Name, Pick<'a>)>> {
    if ctx.data_opt::<ThroughResolvers>().is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(ctx.item.node.items.len());
    picks::<T>(ctx, &ctx.item.node, &mut out)?;
    if let Some(w) = ctx.data_opt::<Walks>() {
        w.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Some(out)
}

/// `pick` answered in place for `item`, or the field its resolver must answer.
fn in_place<'a, T: Plain>(item: &T, pick: &Pick<'a>) -> Result<Value, &'a Positioned<Field>> {
    match pick {
        Pick::Typename => Ok(Value::String(T::type_name().into_owned())),
        Pick::Field(f) if f.node.arguments.is_empty() => item.plain(f.node.name.node.as_str()).ok_or(*f),
        Pick::Field(f) => Err(*f),
    }
}

/// `item`'s plain fields, or `None` at the first field its resolver must answer; as JSON
/// text when `splice` (see [`settle`]).
fn at_once<T: Plain>(item: &T, plan: &[(&Name, Pick<'_>)], splice: bool) -> Option<Value> {
    let mut slots = Vec::with_capacity(plan.len());
    for (_, pick) in plan {
        slots.push(Some(in_place(item, pick).ok()?));
    }
    Some(settle(plan, slots, splice))
}

/// Whether `v` holds no object of async-graphql's own walk, whose keys `graphql::order` has yet
/// to put in order: scalars, enums, JSON text, and lists of those.
fn settled(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        Value::List(items) => items.iter().all(settled),
        _ => true,
    }
}

/// Writes `v` as `serde_json` would, JSON text ([`spliced`]) as it stands.
fn write_value(out: &mut Vec<u8>, v: &Value) -> Option<()> {
    use serde::Serialize as _;
    v.serialize(&mut serde_json::Serializer::with_formatter(out, SpliceFormatter))
        .ok()
}

/// An object's answer from its fields' values in plan order (`None`: a field whose resolver
/// failed, left out with its error recorded; no field left: `null`, async-graphql's rule).
/// With `splice`, an object whose values are all [`settled`] is written as JSON text, keys in
/// the plan's order (the order `graphql::order` would give them): no map, no key hashed, nothing
/// for the order pass to walk. A plan holding `graphql::order`'s marker field keeps the map,
/// from which the order pass reads the object's type and removes the marker.
fn settle(plan: &[(&Name, Pick<'_>)], slots: Vec<Option<Value>>, splice: bool) -> Value {
    if slots.iter().all(Option::is_none) {
        return Value::Null;
    }
    if splice
        && slots.iter().flatten().all(settled)
        && !plan.iter().any(|(k, _)| k.as_str() == super::order::TYPENAME)
    {
        let mut out = Vec::with_capacity(2 + plan.len() * 24);
        out.push(b'{');
        let mut first = true;
        let mut written = Some(());
        for ((key, _), slot) in plan.iter().zip(&slots) {
            let Some(v) = slot else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            written = written
                .and_then(|()| serde_json::to_writer(&mut out, key.as_str()).ok())
                .map(|()| out.push(b':'))
                .and_then(|()| write_value(&mut out, v));
        }
        out.push(b'}');
        if written.is_some() {
            return Value::Binary(out.into());
        }
    }
    let mut map = IndexMap::with_capacity(plan.len());
    for ((key, _), slot) in plan.iter().zip(slots) {
        if let Some(v) = slot {
            map.insert((*key).clone(), v);
        }
    }
    Value::Object(map)
}

/// A list's answer: with `splice`, a list whose items are all [`settled`] as one JSON text.
fn settle_list(items: Vec<Value>, splice: bool) -> Value {
    if splice && items.iter().all(settled) {
        let mut out = Vec::with_capacity(2 + items.len() * 64);
        out.push(b'[');
        let mut written = Some(());
        for (n, v) in items.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            written = written.and_then(|()| write_value(&mut out, v));
        }
        out.push(b']');
        if written.is_some() {
            return Value::Binary(out.into());
        }
    }
    Value::List(items)
}

/// A list of items answered wholly in place, as the JSON text of `[{…}, …]` in a
/// `Value::Binary` (no value tree: an object's map, its keys' hashes, the order pass's walk and
/// the tree's serialisation cost more than the values themselves: Q3's 600 values). The bytes
/// are what `serde_json` writes for the same list (each value is serialised by it, keys in the
/// plan's order, the order `graphql::order` gives), so the response is byte for byte the one
/// of the value tree. `None` (nothing kept) at the first field a resolver must answer, or for a
/// selection holding `graphql::order`'s marker field, which the order pass removes from objects
/// (a spliced list is a leaf to it). chidao answers no field with `Value::Binary` otherwise (no
/// scalar of its schemas is bytes), so [`to_json`] writing every `Binary` raw is sound.
fn spliced<T: Plain>(items: &[T], plan: &[(&Name, Pick<'_>)]) -> Option<Value> {
    if plan.iter().any(|(k, _)| k.as_str() == super::order::TYPENAME) {
        return None;
    }
    let mut out = Vec::with_capacity(2 + items.len() * (2 + plan.len() * 24));
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        if plan.is_empty() {
            // An object left with no field is null (as `at_once` answers).
            out.extend_from_slice(b"null");
            continue;
        }
        out.push(b'{');
        for (i, (key, pick)) in plan.iter().enumerate() {
            let v = in_place(item, pick).ok()?;
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, key.as_str()).ok()?;
            out.push(b':');
            serde_json::to_writer(&mut out, &v).ok()?;
        }
        out.push(b'}');
    }
    out.push(b']');
    Some(Value::Binary(out.into()))
}

/// `serde_json`'s compact output, except that bytes (`Value::Binary`, only ever [`spliced`]
/// JSON text) are written as they stand.
struct SpliceFormatter;

impl serde_json::ser::Formatter for SpliceFormatter {
    fn write_byte_array<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> std::io::Result<()> {
        writer.write_all(value)
    }
}

/// `value` (a response, a batch of them) as JSON, the lists [`spliced`] into it in place.
pub fn to_json<S: serde::Serialize + ?Sized>(value: &S) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SpliceFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// `item` answered by `plan`: plain fields in place, the rest through its resolver, awaited
/// together as async-graphql would; a field whose resolver fails is left out with its error
/// recorded (async-graphql's rule, as is `null` for an object left with no field); as JSON text
/// when `splice` allows ([`settle`]).
async fn object<'a, T: Plain>(
    item: &'a T,
    ctx: &ContextSelectionSet<'a>,
    plan: &[(&'a Name, Pick<'a>)],
    splice: bool,
) -> Value {
    let mut slots = Vec::with_capacity(plan.len());
    let mut rest = Vec::new();
    for (at, (_, pick)) in plan.iter().enumerate() {
        slots.push(match in_place(item, pick) {
            Ok(v) => Some(v),
            Err(f) => {
                rest.push((at, f));
                None // filled below, or left out
            }
        });
    }
    // A field's error is recorded when it fails, as async-graphql does (the order of errors).
    let resolved = futures::future::join_all(rest.iter().map(|(at, f)| async move {
        let field_ctx = ctx.with_field(f);
        match item.resolve_field(&field_ctx).await {
            Ok(v) => (*at, Some(v.unwrap_or_default())),
            Err(e) => {
                ctx.add_error(e);
                (*at, None)
            }
        }
    }))
    .await;
    for (at, value) in resolved {
        slots[at] = value;
    }
    settle(plan, slots, splice)
}

impl<T: Plain + OutputType> OutputType for PlainList<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let Some(plan) = plan::<T>(ctx) else {
            return resolve_list(ctx, field, &self.0, Some(self.0.len())).await;
        };
        let splice = ctx.data_opt::<Splice>().is_some();
        if splice && let Some(list) = spliced(&self.0, &plan) {
            return Ok(list);
        }
        let mut items = Vec::with_capacity(self.0.len());
        for item in &self.0 {
            match at_once(item, &plan, splice) {
                Some(v) => items.push(v),
                None => break,
            }
        }
        if items.len() < self.0.len() {
            let rest = self.0[items.len()..].iter().enumerate().map(|(i, item)| {
                let idx = items.len() + i;
                let plan = &plan;
                async move { object(item, &ctx.with_index(idx), plan, splice).await }
            });
            let rest = futures::future::join_all(rest).await;
            items.extend(rest);
        }
        Ok(settle_list(items, splice))
    }
}

impl<T: Plain + OutputType> OutputType for PlainOne<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match plan::<T>(ctx) {
            Some(plan) => {
                let splice = ctx.data_opt::<Splice>().is_some();
                Ok(match at_once(&self.0, &plan, splice) {
                    Some(v) => v,
                    None => object(&self.0, ctx, &plan, splice).await,
                })
            }
            None => self.0.resolve(ctx, field).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::splice_safe;

    fn safe(query: &str) -> bool {
        splice_safe(&async_graphql::parser::parse_query(query).expect("a document"))
    }

    #[test]
    fn a_response_key_asked_twice_anywhere_keeps_the_tree() {
        assert!(safe("{ tasks(first: 5) { nodes { id code leads { name } } } }"));
        assert!(
            safe("{ a: task(id: 1) { code } b: task(id: 1) { code } }"),
            "aliases differ"
        );
        assert!(safe(
            "{ node(id: 1) { ... on Agency { name } ... on Task { title } } } fragment F on Task { id }"
        ));
        for query in [
            "{ tasks(first: 5) { nodes { id } nodes { code } } }",
            "{ task(id: 1) { code } task(id: 1) { title } }",
            "{ task(id: 1) { ...A ...B } } fragment A on Task { leads { name } } fragment B on Task { leads { code } }",
            "{ task(id: 1) { leads { name } ... on Task { leads { code } } } }",
            "{ task(id: 1) { x: code x: title } }",
            // Inside a fragment's own nested set, and a fragment that is not there.
            "{ task(id: 1) { ...A } } fragment A on Task { leads { name name } }",
            "{ task(id: 1) { ...Missing } }",
        ] {
            assert!(!safe(query), "{query}");
        }
    }

    #[test]
    fn fragments_spread_in_a_cycle_or_too_deep_stop() {
        // A cycle (invalid, refused by validation later) must not loop here.
        assert!(!safe(
            "{ task(id: 1) { ...A } } fragment A on Task { ...B } fragment B on Task { ...A }"
        ));
        let mut doc = String::from("{ task(id: 1) { ...F0 } }");
        for i in 0..40 {
            doc.push_str(&format!(" fragment F{i} on Task {{ ...F{} }}", i + 1));
        }
        doc.push_str(" fragment F40 on Task { id }");
        assert!(!safe(&doc));
    }
}
