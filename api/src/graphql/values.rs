//! The one input layer: before an operation runs, every value it passes (arguments written in
//! the document and the variables they use, down through input objects and lists) is checked
//! against its type in the schema. Text (`String`, `ID`) follows `domain::text::clean_input`:
//! no NUL or other control character except newline and tab, at most 20,000 characters (a
//! `DocumentText`, a whole document: 1,000,000), and a
//! variable's text is put in NFC in place; a `Date` lies in [`scalars::MIN_DATE`,
//! `scalars::MAX_DATE`]; a `Decimal` written as text is digits and a point. A refusal is BAD_USER_INPUT naming the argument's path
//! (`input.summary`, `filter.codes[2]`), and nothing has run. What each field accepts beyond
//! this (lengths, emptiness, codes) the resolver's own parsing checks (`graphql::input`).

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet, Type};
use async_graphql::{Name, Value as ConstValue, Variables};
use async_graphql_value::Value;

use super::scalars;
use super::types::{SchemaTypes, named};
use crate::domain::text::clean_input;
use crate::error::{ApiError, ApiResult};

fn root(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    }
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    types: &'a SchemaTypes,
    vars: &'a mut Variables,
    /// Fragments being walked (a cycle is a validation error; stop walking it here).
    seen: HashSet<Name>,
}

/// Checks (and, for variables, normalises) every input of the operation that would run.
pub fn check(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    vars: &mut Variables,
    types: &SchemaTypes,
) -> ApiResult<()> {
    let mut walk = Walk {
        doc,
        types,
        vars,
        seen: HashSet::new(),
    };
    for (name, op) in doc.operations.iter() {
        if let (Some(want), Some(name)) = (operation, name)
            && name.as_str() != want
        {
            continue;
        }
        walk.set(&op.node.selection_set.node, root(op.node.ty))?;
    }
    Ok(())
}

fn bad(path: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_input(path, message)
}

impl Walk<'_> {
    fn set(&mut self, set: &SelectionSet, parent: &str) -> ApiResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    let info = self.types.field(parent, f.name.node.as_str()).cloned();
                    for (arg, value) in &f.arguments {
                        let ty = info.as_ref().and_then(|i| i.args.get(arg.node.as_str()));
                        self.value(&value.node, ty, arg.node.as_str())?;
                    }
                    for d in &f.directives {
                        for (arg, value) in &d.node.arguments {
                            self.value(&value.node, None, arg.node.as_str())?;
                        }
                    }
                    let child = info.as_ref().map_or("", |i| named(&i.ty)).to_owned();
                    self.set(&f.selection_set.node, &child)?;
                }
                Selection::InlineFragment(frag) => {
                    let on = frag
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent.to_owned(), |c| c.node.on.node.to_string());
                    self.set(&frag.node.selection_set.node, &on)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.clone();
                    let doc = self.doc;
                    if let Some(def) = doc.fragments.get(&name)
                        && self.seen.insert(name.clone())
                    {
                        let on = def.node.type_condition.node.on.node.to_string();
                        self.set(&def.node.selection_set.node, &on)?;
                        self.seen.remove(&name);
                    }
                }
            }
        }
        Ok(())
    }

    /// A value written in the document (a variable is looked up and checked there).
    fn value(&mut self, value: &Value, ty: Option<&Type>, path: &str) -> ApiResult<()> {
        match value {
            Value::Variable(v) => {
                let types = self.types;
                if let Some(found) = self.vars.get_mut(v) {
                    const_value(found, ty, path, types)?;
                }
                Ok(())
            }
            Value::String(s) => text_or_date(s, ty, path).map(|_| ()),
            Value::List(items) => {
                let inner = ty.and_then(list_item);
                for (i, item) in items.iter().enumerate() {
                    self.value(item, inner, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            Value::Object(fields) => {
                let input = ty.and_then(|t| self.types.input(named(t)));
                for (k, v) in fields {
                    let fty = input.and_then(|i| i.get(k.as_str())).cloned();
                    self.value(v, fty.as_ref(), &format!("{path}.{k}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn list_item(ty: &Type) -> Option<&Type> {
    match &ty.base {
        async_graphql::parser::types::BaseType::List(inner) => Some(inner),
        async_graphql::parser::types::BaseType::Named(_) => None,
    }
}

/// A variable's value (or part of it), normalised in place.
fn const_value(value: &mut ConstValue, ty: Option<&Type>, path: &str, types: &SchemaTypes) -> ApiResult<()> {
    match value {
        ConstValue::String(s) => {
            if let Some(clean) = text_or_date(s, ty, path)? {
                *s = clean;
            }
            Ok(())
        }
        ConstValue::List(items) => {
            let inner = ty.and_then(list_item);
            for (i, item) in items.iter_mut().enumerate() {
                const_value(item, inner, &format!("{path}[{i}]"), types)?;
            }
            Ok(())
        }
        ConstValue::Object(fields) => {
            let input = ty.and_then(|t| types.input(named(t)));
            for (k, v) in fields.iter_mut() {
                let fty = input.and_then(|i| i.get(k.as_str())).cloned();
                const_value(v, fty.as_ref(), &format!("{path}.{k}"), types)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A string input: a `Date` in range, or text by the input rule. `Some` when the text to keep
/// differs from what came.
fn text_or_date(s: &str, ty: Option<&Type>, path: &str) -> ApiResult<Option<String>> {
    match ty.map(named) {
        Some("Date") => {
            return match scalars::parse_date(s) {
                Ok(_) => Ok(None),
                Err(message) => Err(bad(path, message)),
            };
        }
        Some("DateTime") => {
            // An instant (`auditLog(filter: {since})`): RFC 3339 with its offset, years 1900-2100
            // as for dates; refused here, before async-graphql's own parse fails unlabelled.
            use chrono::Datelike;
            // The same parse async-graphql's scalar runs, so what passes here parses there.
            return match s.parse::<chrono::DateTime<chrono::Utc>>() {
                Ok(t) if (1900..=2100).contains(&t.year()) => Ok(None),
                _ => Err(bad(
                    path,
                    format!(
                        "Thời điểm không hợp lệ '{}': dùng dạng RFC 3339 có múi giờ, ví dụ 2025-01-01T00:00:00+07:00 (năm 1900-2100)",
                        s.chars().filter(|c| !c.is_control()).take(40).collect::<String>()
                    ),
                )),
            };
        }
        Some("Decimal") if scalars::parse_decimal(s.trim()).is_none() => {
            return Err(bad(
                path,
                format!(
                    "Số thập phân không hợp lệ '{}': chữ số và dấu chấm, ví dụ 8.5 (không dấu phân cách hàng nghìn)",
                    s.chars().take(40).collect::<String>()
                ),
            ));
        }
        _ => {}
    }
    let clean = match ty.map(named) {
        Some("DocumentText") => {
            crate::domain::text::clean_input_up_to(s, crate::domain::text::MAX_DOCUMENT_CHARS)
        }
        _ => clean_input(s),
    }
    .map_err(|e| bad(path, e.to_string()))?;
    Ok((clean != s).then_some(clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"scalar Date
        input ReportInput { summary: String! codes: [String!] on: Date }
        type Mutation { submit(input: ReportInput!): String }
        type Query { agency(code: String): String tasks(filter: ReportInput): String }"#;

    fn run(q: &str, vars: serde_json::Value) -> (ApiResult<()>, Variables) {
        let types = SchemaTypes::of_sdl(SDL);
        let doc = async_graphql::parser::parse_query(q).expect("parses");
        let mut v = Variables::from_json(vars);
        (check(&doc, None, &mut v, &types), v)
    }

    fn field(r: ApiResult<()>) -> Option<String> {
        match r {
            Err(ApiError::BadUserInput { field, .. }) => field,
            _ => None,
        }
    }

    #[test]
    fn literals_and_variables_are_checked_where_they_are_used() {
        let (r, _) = run(r#"{ agency(code: "so-y-te\u0000") }"#, serde_json::json!({}));
        assert_eq!(field(r).as_deref(), Some("code"));
        let (r, _) = run(
            "mutation($i: ReportInput!) { submit(input: $i) }",
            serde_json::json!({ "i": { "summary": "a\u{0}b" } }),
        );
        assert_eq!(field(r).as_deref(), Some("input.summary"));
        let (r, _) = run(
            "query($f: ReportInput) { tasks(filter: $f) }",
            serde_json::json!({ "f": { "summary": "x", "codes": ["ok", "bad\u{1}"] } }),
        );
        assert_eq!(field(r).as_deref(), Some("filter.codes[1]"));
        for day in [
            "-262143-01-01",
            "0001-01-01",
            "9999-12-31",
            "1899-12-31",
            "2101-01-01",
        ] {
            let (r, _) = run(
                "mutation($i: ReportInput!) { submit(input: $i) }",
                serde_json::json!({ "i": { "summary": "x", "on": day } }),
            );
            assert_eq!(field(r).as_deref(), Some("input.on"), "{day}");
        }
        let (r, _) = run(
            r#"mutation { submit(input: { summary: "x", on: "2100-12-31" }) }"#,
            serde_json::json!({}),
        );
        assert!(r.is_ok());
    }

    #[test]
    fn a_variables_text_is_put_in_nfc() {
        let (r, v) = run(
            "mutation($i: ReportInput!) { submit(input: $i) }",
            serde_json::json!({ "i": { "summary": "Qu\u{0079}\u{0301}\r\nII" } }),
        );
        assert!(r.is_ok());
        assert_eq!(
            v.into_value().into_json().expect("json")["i"]["summary"],
            "Qu\u{00fd}\nII"
        );
    }
}
