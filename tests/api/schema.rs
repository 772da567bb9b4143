//! The committed SDL is what the code generates: every API change shows in review.

#[test]
fn committed_sdl_matches_the_code() {
    let generated = api::schema::sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        if std::env::var("UPDATE_SCHEMA").is_ok() {
            std::fs::write(&path, &generated).expect("write schema");
            return;
        }
        panic!(
            "schema/schema.graphql differs from the code. Regenerate it with \
             `cargo run -q -- schema > schema/schema.graphql` (or UPDATE_SCHEMA=1 cargo test schema) \
             and review the diff."
        );
    }
}

#[test]
fn every_type_and_field_is_described() {
    let sdl = api::schema::sdl();
    // A field or type line not preceded by a description ("""…""" or "…") is undocumented.
    let lines: Vec<&str> = sdl.lines().collect();
    let mut missing = Vec::new();
    let mut in_block = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("\"\"\"") {
            // A block opening and closing on one line has two markers.
            if !(t.len() > 3 && t.ends_with("\"\"\"")) {
                in_block = !in_block;
            }
            continue;
        }
        if in_block || t.is_empty() || t == "}" || t.starts_with('"') || t.starts_with("schema") {
            continue;
        }
        let declares = t.starts_with("type ")
            || t.starts_with("enum ")
            || t.starts_with("input ")
            || t.starts_with("interface ")
            || t.starts_with("scalar ")
            || (line.starts_with("\t") || line.starts_with("  ")) && !t.starts_with("directive");
        if !declares
            || t.starts_with("query:")
            || t.starts_with("mutation:")
            || t.starts_with("subscription:")
        {
            continue;
        }
        let prev = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim())
            .unwrap_or("");
        if !(prev.ends_with('"')) {
            missing.push(t.to_owned());
        }
    }
    assert!(missing.is_empty(), "undescribed SDL items: {missing:#?}");
}
