//! A draft written in the seed format (`seeds/directives/*.yaml`), with a `# KIỂM TRA:` comment
//! on each task the reader was unsure of, for the clerk to read before `chidao seed`.

use std::fmt::Write as _;

use super::{Draft, TaskDraft};

/// A YAML scalar: a JSON string is a valid double-quoted YAML scalar.
fn s(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into())
}

fn opt(v: Option<&str>) -> String {
    v.map_or_else(|| "null".into(), s)
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|c| s(c)).collect::<Vec<_>>().join(", "))
}

/// The draft as a seed file, `source` naming the text it was read from.
pub fn write(d: &Draft, source: &str) -> String {
    let mut out = String::new();
    let dd = &d.directive;
    let _ = writeln!(out, "# Bản nháp do `chidao import directive` đọc từ {source}.");
    let _ = writeln!(
        out,
        "# Đọc lại từng nhiệm vụ có dòng “# KIỂM TRA:”, sửa, rồi nạp bằng `chidao seed`. Tiêu đề (title) là câu mở đầu của nhiệm vụ: rút gọn nếu cần; trích yếu viết lại từ chữ in hoa: sửa chữ hoa của tên riêng."
    );
    let flagged = d.tasks.iter().filter(|t| !t.doubts.is_empty()).count();
    let _ = writeln!(out, "# {} nhiệm vụ, {flagged} cần kiểm tra.", d.tasks.len());
    for doubt in &d.doubts {
        let _ = writeln!(out, "# KIỂM TRA: {doubt}");
    }
    let _ = writeln!(out, "\ndirective:");
    let _ = writeln!(out, "  code: {}", s(&dd.code));
    let _ = writeln!(out, "  number: {}", opt(dd.number.as_deref()));
    let kind = serde_json::to_value(dd.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = writeln!(out, "  kind: {kind}");
    let _ = writeln!(out, "  title: {}", s(&dd.title));
    let _ = writeln!(
        out,
        "  issued_on: {}",
        dd.issued_on.map_or_else(|| "null".into(), |d| d.to_string())
    );
    let _ = writeln!(out, "  issuer: {}", s(&dd.issuer));
    let _ = writeln!(out, "  signer: {}", opt(dd.signer.as_deref()));
    let _ = writeln!(out, "  signer_title: {}", opt(dd.signer_title.as_deref()));
    let _ = writeln!(out, "\ntasks:");
    for t in &d.tasks {
        task(&mut out, t);
    }
    out
}

fn task(out: &mut String, t: &TaskDraft) {
    let _ = writeln!(out);
    if let Some(li) = &t.lead_in {
        let _ = writeln!(out, "  # Lead-in: {li}");
    }
    for doubt in &t.doubts {
        let _ = writeln!(out, "  # KIỂM TRA: {doubt}");
    }
    let _ = writeln!(out, "  - code: {}", s(&t.code));
    let _ = writeln!(out, "    section: {}", s(&t.section));
    let _ = writeln!(out, "    section_title: {}", opt(t.section_title.as_deref()));
    let _ = writeln!(out, "    item: {}", opt(t.item.as_deref()));
    let _ = writeln!(out, "    title: {}", s(&t.title));
    let _ = writeln!(out, "    text: {}", s(&t.text));
    let _ = writeln!(out, "    deadline: {}", opt(t.deadline.as_deref()));
    let _ = writeln!(out, "    requires_report: {}", t.requires_report);
    let _ = writeln!(out, "    leads: {}", list(&t.leads));
    let _ = writeln!(out, "    coordinators: {}", list(&t.coordinators));
    let written: Vec<(&String, &String)> = t.written_as.iter().collect();
    if !written.is_empty() {
        let _ = writeln!(out, "    written_as:");
        for (code, w) in written {
            let _ = writeln!(out, "      {}: {}", s(code), s(w));
        }
    }
}
