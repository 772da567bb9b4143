//! What the input checks and the response ordering need to know of the schema, read once from
//! its SDL: each object type's fields (their type and their arguments' types), each input
//! object's fields, the root types, and which concrete types each interface or union stands for.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

/// A field of an object type: what it returns and what its arguments take.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub ty: Type,
    pub args: HashMap<String, Type>,
}

/// The schema's types, as the input checks and the response ordering read them.
#[derive(Debug, Default)]
pub struct SchemaTypes {
    possible: HashMap<String, HashSet<String>>,
    fields: HashMap<String, HashMap<String, FieldInfo>>,
    inputs: HashMap<String, HashMap<String, Type>>,
}

/// The named type at the bottom of a (list, non-null) type.
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaTypes {
    /// Reads a schema's SDL (`schema::sdl()`).
    pub fn of_sdl(sdl: &str) -> SchemaTypes {
        let mut out = SchemaTypes::default();
        let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
            return out;
        };
        for def in &doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            let field_defs = match &t.node.kind {
                TypeKind::Object(o) => {
                    for i in &o.implements {
                        out.possible
                            .entry(i.node.to_string())
                            .or_default()
                            .insert(name.clone());
                    }
                    Some(&o.fields)
                }
                TypeKind::Interface(i) => Some(&i.fields),
                TypeKind::Union(u) => {
                    let members = out.possible.entry(name.clone()).or_default();
                    members.extend(u.members.iter().map(|m| m.node.to_string()));
                    None
                }
                TypeKind::InputObject(io) => {
                    let fields = io
                        .fields
                        .iter()
                        .map(|f| (f.node.name.node.to_string(), f.node.ty.node.clone()))
                        .collect();
                    out.inputs.insert(name.clone(), fields);
                    None
                }
                _ => None,
            };
            if let Some(defs) = field_defs {
                let fields = defs
                    .iter()
                    .map(|f| {
                        let args = f
                            .node
                            .arguments
                            .iter()
                            .map(|a| (a.node.name.node.to_string(), a.node.ty.node.clone()))
                            .collect();
                        (
                            f.node.name.node.to_string(),
                            FieldInfo {
                                ty: f.node.ty.node.clone(),
                                args,
                            },
                        )
                    })
                    .collect();
                out.fields.insert(name, fields);
            }
        }
        out
    }

    /// Whether a fragment on `condition` applies to an object of type `concrete`.
    pub fn applies(&self, condition: &str, concrete: &str) -> bool {
        condition == concrete || self.possible.get(condition).is_some_and(|c| c.contains(concrete))
    }

    /// A field of an object or interface type.
    pub fn field(&self, parent: &str, name: &str) -> Option<&FieldInfo> {
        self.fields.get(parent)?.get(name)
    }

    /// The fields of an input object type.
    pub fn input(&self, name: &str) -> Option<&HashMap<String, Type>> {
        self.inputs.get(name)
    }
}
