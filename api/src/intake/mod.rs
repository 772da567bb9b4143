//! Directive intake: a directive's text read into a draft of the seed format (tasks, leads and
//! coordinators, deadline words, report flags) that a clerk reviews, then loads with `chidao seed`.
//!
//! Rules, not a model. The text is normalised first (emphasis marks dropped, lines broken by the
//! page or the column joined, "CHỦ TỊCHNơi nhận:" split). Its structure is read from the markers
//! directives use: roman parts (`II.`), numbered sections (`1.`, `1.1.`), bullets (`-`), items
//! (`(1)`, inline or on their own line) and sub-bullets (`+`). A task is a bullet, or each of its
//! items or sub-bullets when it has them, or a numbered paragraph with nothing under it; parts
//! that state views or contents (QUAN ĐIỂM, NỘI DUNG, MỤC TIÊU, MỤC ĐÍCH, YÊU CẦU) assign nothing.
//! Who: the run of agency names the sentence opens with ("Giao", "Đề nghị", "Thủ trưởng" and
//! "Chủ tịch" skipped) are the leads; "X chủ trì, phối hợp với Y…" makes Y coordinators; items
//! take their bullet's lead-in ("Sở Công Thương: (1) …"). When: the deadline phrases the project's
//! parser reads (`domain::deadline`), a bold one preferred. A report is owed when the text says
//! "báo cáo UBND tỉnh" (or its Standing members, or its Chair).
//!
//! Whatever the reader is unsure of is a doubt, written as a `# KIỂM TRA:` comment on its task.

pub mod docx;
pub mod graphql;
pub mod names;
pub mod yaml;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use entity::enums::DirectiveKind;
use regex::Regex;
use serde::Serialize;

use crate::domain::deadline::parse_deadline;
use crate::domain::text::fold;
use names::{Directory, Mention, Target};

/// A directive read from its text.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub directive: DirectiveDraft,
    pub tasks: Vec<TaskDraft>,
    /// Doubts about the document as a whole (its number, date, parts without tasks).
    pub doubts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectiveDraft {
    pub code: String,
    pub number: Option<String>,
    pub kind: DirectiveKind,
    pub title: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    pub signer: Option<String>,
    pub signer_title: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskDraft {
    pub code: String,
    pub section: String,
    pub section_title: Option<String>,
    pub item: Option<String>,
    pub title: String,
    /// The task's words as written (emphasis dropped, broken lines joined).
    pub text: String,
    /// The bullet's opening words, for an item or a sub-bullet.
    pub lead_in: Option<String>,
    pub deadline: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub requires_report: bool,
    pub leads: Vec<String>,
    pub coordinators: Vec<String>,
    /// How the text names each code it was resolved from.
    pub written_as: BTreeMap<String, String>,
    pub doubts: Vec<String>,
}

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|e| panic!("intake pattern {p}: {e}"))
}

static MARKER: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:[IVX]+\.|\d+(?:\.\d+)*\.|[-+–]|\(\d+\))\s"));
static ROMAN: LazyLock<Regex> = LazyLock::new(|| re(r"^([IVX]+)\.\s+(.*)$"));
static NUMBERED: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+(?:\.\d+)*)\.\s+(.*)$"));
static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^\((\d+)\)\s+(.*)$"));
static INLINE_ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"\((\d+)\)\s"));
static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:trước ngày|trước|trong|đến hết|đến ngày|chậm nhất là ngày|chậm nhất ngày|chậm nhất|hạn)\s+(?:ngày\s+\d{1,2}/\d{1,2}/\d{4}|\d{1,2}/\d{1,2}/\d{4}|tháng\s+\d{1,2}/\d{4}|quý\s+(?:[IV]+|\d)(?:/|\s+năm\s+)\d{4}|6 tháng (?:đầu|cuối) năm\s+\d{4}|năm\s+\d{4})",
    )
});
static RECURRING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:tại các phiên họp thường kỳ hàng tháng|định kỳ (?:hàng|hằng) (?:tháng|quý|năm)|(?:hàng|hằng) (?:tháng|quý|năm))",
    )
});
static REPORT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)báo cáo\s+(?:thường trực\s+|chủ tịch\s+)?(?:ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+tỉnh")
});
static DATE_WORDS: LazyLock<Regex> =
    LazyLock::new(|| re(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})"));
static CITED_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"ngày\s+(\d{1,2})/(\d{1,2})/(\d{4})"));

/// The source's quirks undone: emphasis marks kept (deadlines are often bold) but stray
/// spacing fixed, "CHỦ TỊCHNơi nhận:" split, and lines joined into paragraphs.
fn paragraphs(body: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Whether the last paragraph is one marker line short enough to be a heading.
    let mut heading = false;
    for raw in body {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let starts_lower = line
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() || c.is_ascii_digit());
        let new = match out.last() {
            None => true,
            Some(_) if MARKER.is_match(line) => true,
            Some(_) if starts_lower => false,
            Some(prev) => {
                let p = prev.trim_end_matches('*').trim_end();
                heading || p.ends_with(['.', ':', ';', '!', '?'])
            }
        };
        if new {
            heading = MARKER.is_match(line)
                && !line.trim_end_matches('*').ends_with(['.', ';', ':'])
                && (ROMAN.is_match(line) || line.chars().count() < 90);
            out.push(line.to_owned());
        } else if let Some(prev) = out.last_mut() {
            heading = false;
            let glued = prev.ends_with('-') && !prev.ends_with(" -");
            if !glued {
                prev.push(' ');
            }
            prev.push_str(line);
        }
    }
    out
}

/// The words of a paragraph without its emphasis marks and double spaces.
fn clean(s: &str) -> String {
    s.replace('*', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A short draft title: the task's first clause, at most about 20 words.
fn title_of(text: &str) -> String {
    let first = text
        .split([';', ':'])
        .next()
        .unwrap_or(text)
        .trim_end_matches(['.', ',']);
    let words: Vec<&str> = first.split_whitespace().collect();
    let mut t = words[..words.len().min(20)].join(" ");
    if words.len() > 20 {
        t.push('…');
    }
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => t,
    }
}

fn sentence_case(upper: &str) -> String {
    let lower = upper.to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => lower,
    }
}

/// The directive's identity from its opening and closing lines.
fn header(lines: &[&str], body_start: usize, doubts: &mut Vec<String>) -> DirectiveDraft {
    let head = &lines[..body_start];
    let number = head.iter().find_map(|l| {
        let l = l.trim();
        let rest = l.strip_prefix("Số:").or_else(|| l.strip_prefix("Số"))?;
        let n: String = rest.split_whitespace().collect();
        (!n.is_empty() && n.chars().next().is_some_and(|c| c.is_ascii_digit())).then_some(n)
    });
    let issued_on = head.iter().find_map(|l| {
        let c = DATE_WORDS.captures(l)?;
        NaiveDate::from_ymd_opt(c[3].parse().ok()?, c[2].parse().ok()?, c[1].parse().ok()?)
    });
    let folded: Vec<String> = head.iter().map(|l| fold(l.trim())).collect();
    let kinds = [
        ("chi thi", DirectiveKind::ChiThi),
        ("ke hoach", DirectiveKind::KeHoach),
        ("quyet dinh", DirectiveKind::QuyetDinh),
        ("nghi quyet", DirectiveKind::NghiQuyet),
    ];
    let mut kind = None;
    let mut title = None;
    for (i, f) in folded.iter().enumerate() {
        if let Some((_, k)) = kinds.iter().find(|(w, _)| f == w) {
            kind = Some(*k);
            title = head[i + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
                .map(sentence_case);
            break;
        }
    }
    let kind = match kind {
        Some(k) => k,
        None if folded.iter().any(|f| f.starts_with("kinh gui")) => DirectiveKind::CongVan,
        None => {
            doubts.push("Không thấy loại văn bản (CHỈ THỊ, KẾ HOẠCH…): ghi CONG_VAN, kiểm tra".into());
            DirectiveKind::CongVan
        }
    };
    let title = match title {
        Some(t) => t,
        None => {
            doubts.push("Không có trích yếu trong văn bản: tiêu đề tạm, thay bằng trích yếu thật".into());
            "(trích yếu chưa có)".into()
        }
    };
    if number.is_none() {
        doubts.push("Không có số, ký hiệu trong văn bản".into());
    }
    // The signer: the last non-empty line after the title of the signature ("CHỦ TỊCH").
    let mut signer = None;
    let mut signer_title = None;
    for (i, l) in lines.iter().enumerate().rev() {
        let f = fold(l.trim());
        let titled = ["chu tich", "pho chu tich", "kt. chu tich", "tm. uy ban nhan dan"]
            .iter()
            .find(|t| f.starts_with(*t));
        if let Some(t) = titled {
            signer_title = Some(
                if t.contains("pho") {
                    "Phó Chủ tịch"
                } else {
                    "Chủ tịch"
                }
                .to_owned(),
            );
            signer = lines[i + 1..]
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| {
                    let n = l.split_whitespace().count();
                    (2..=5).contains(&n)
                        && l.split_whitespace()
                            .all(|w| w.chars().next().is_some_and(char::is_uppercase))
                })
                .map(str::to_owned);
            break;
        }
    }
    if signer.is_none() {
        doubts.push("Không đọc được người ký".into());
    }
    // The seeds' convention: kind, number and year ("ct-10-2024").
    let prefix = match kind {
        DirectiveKind::ChiThi => "ct",
        DirectiveKind::KeHoach => "kh",
        DirectiveKind::QuyetDinh => "qd",
        DirectiveKind::NghiQuyet => "nq",
        DirectiveKind::CongVan => "cv",
    };
    let digits = number
        .as_deref()
        .map(|n| n.chars().take_while(char::is_ascii_digit).collect::<String>())
        .filter(|d| !d.is_empty());
    let code = match (digits, issued_on) {
        (Some(n), Some(d)) => format!("{prefix}-{n}-{}", chrono::Datelike::year(&d)),
        (Some(n), None) => format!("{prefix}-{n}"),
        _ => {
            doubts.push("Mã văn bản tạm (không có số hoặc ngày): đặt mã ổn định trước khi nạp".into());
            format!("{prefix}-moi")
        }
    };
    DirectiveDraft {
        code,
        number,
        kind,
        title,
        issued_on,
        issuer: "UBND tỉnh".into(),
        signer,
        signer_title,
    }
}

/// The latest date the text cites ("ngày 22/7/2025"): a directive without its date was issued after it.
fn latest_cited(text: &str) -> Option<NaiveDate> {
    CITED_DATE
        .captures_iter(text)
        .filter_map(|c| NaiveDate::from_ymd_opt(c[3].parse().ok()?, c[2].parse().ok()?, c[1].parse().ok()?))
        .max()
}

/// Reads a directive's text. `agencies` is `seeds/agencies.yaml`.
pub fn read(text: &str, agencies: &crate::seed::format::AgenciesFile) -> Draft {
    let text = text
        .replace("CHỦ TỊCHNơi nhận", "CHỦ TỊCH\nNơi nhận")
        .replace('\r', "");
    let lines: Vec<&str> = text.lines().collect();
    let mut doubts = Vec::new();
    // The body opens with the first part (`I.`, or whichever comes first), else with `1.`.
    let body_start = lines
        .iter()
        .position(|l| ROMAN.is_match(l.trim()))
        .or_else(|| lines.iter().position(|l| l.trim().starts_with("1. ")))
        .unwrap_or(0);
    let body_end = lines
        .iter()
        .enumerate()
        .skip(body_start)
        .find(|(_, l)| {
            let f = fold(l.trim());
            f.starts_with("noi nhan")
                || f == "chu tich"
                || f.starts_with("tm. uy ban")
                || f.starts_with("kt. chu tich")
        })
        .map_or(lines.len(), |(i, _)| i);
    let directive = header(&lines, body_start, &mut doubts);
    let on = match directive.issued_on {
        Some(d) => d,
        None => {
            let cited = latest_cited(&text);
            doubts.push(match cited {
                Some(c) => format!(
                    "Không có ngày ban hành: đọc tên cơ quan như sau ngày {}, ngày muộn nhất văn bản dẫn",
                    c.format("%d/%m/%Y")
                ),
                None => "Không có ngày ban hành: đọc tên cơ quan như hôm nay".into(),
            });
            cited.unwrap_or_else(crate::clock::today)
        }
    };
    let dir = Directory::new(agencies, on);
    let paras = paragraphs(&lines[body_start..body_end]);
    let tasks = structure(&paras, &dir, on, &mut doubts);
    Draft {
        directive,
        tasks,
        doubts,
    }
}

/// One paragraph's role in the structure.
enum Para<'a> {
    Roman(&'a str, &'a str),
    Numbered(&'a str, &'a str),
    Bullet(&'a str),
    Sub(&'a str),
    Item(&'a str, &'a str),
    Plain(&'a str),
}

fn kind_of(p: &str) -> Para<'_> {
    if let Some(c) = ROMAN.captures(p) {
        let (a, b) = (
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str()),
        );
        return Para::Roman(a, b);
    }
    if let Some(c) = NUMBERED.captures(p) {
        let (a, b) = (
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str()),
        );
        return Para::Numbered(a, b);
    }
    if let Some(c) = ITEM.captures(p) {
        let (a, b) = (
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str()),
        );
        return Para::Item(a, b);
    }
    if let Some(rest) = p.strip_prefix("- ").or_else(|| p.strip_prefix("– ")) {
        return Para::Bullet(rest);
    }
    if let Some(rest) = p.strip_prefix("+ ") {
        return Para::Sub(rest);
    }
    Para::Plain(p)
}

/// Whether a numbered paragraph is a heading over what follows (short, no closing stop).
fn is_heading(text: &str) -> bool {
    let t = text.trim_end_matches('*').trim_end();
    !t.ends_with(['.', ';']) && t.chars().count() < 200
}

/// Splits "lead-in: (1) a; (2) b" into the lead-in and its items, when the items run 1, 2, 3….
fn inline_items(text: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut cuts = Vec::new();
    let mut want = 1;
    for m in INLINE_ITEM.captures_iter(text) {
        let (Some(all), Some(n)) = (m.get(0), m.get(1)) else {
            continue;
        };
        if n.as_str() == want.to_string() {
            cuts.push((all.start(), all.end(), n.as_str().to_owned()));
            want += 1;
        }
    }
    if cuts.len() < 2 {
        return None;
    }
    let lead_in = text[..cuts[0].0].trim().to_owned();
    let items = cuts
        .iter()
        .enumerate()
        .map(|(i, (_, end, n))| {
            let stop = cuts.get(i + 1).map_or(text.len(), |c| c.0);
            (format!("({n})"), text[*end..stop].trim().to_owned())
        })
        .collect();
    Some((lead_in, items))
}

/// A part of the document that states views or contents, not assignments.
fn assigns_nothing(title: &str) -> bool {
    let f = fold(title);
    ["quan diem", "noi dung", "muc tieu", "muc dich", "yeu cau"]
        .iter()
        .any(|w| f.contains(w))
}

struct Builder<'a> {
    dir: &'a Directory,
    on: NaiveDate,
    tasks: Vec<TaskDraft>,
}

impl Builder<'_> {
    /// A task from its own words and, for an item, its bullet's lead-in.
    fn task(
        &mut self,
        code: String,
        section: &str,
        section_title: Option<&str>,
        item: Option<String>,
        raw: &str,
        lead_in: Option<&str>,
    ) {
        let text = clean(raw);
        let mut doubts = Vec::new();
        let mut written_as = BTreeMap::new();
        let own = who(self.dir, &text, &mut written_as, &mut doubts);
        let (mut leads, mut coordinators) = (own.leads, own.coordinators);
        if let Some(li) = lead_in {
            let li = clean(li);
            let from = who(self.dir, &li, &mut written_as, &mut doubts);
            if leads.is_empty() {
                leads = from.leads;
                // "Phối hợp với X" in the item: X coordinates with the bullet's lead; else the
                // item takes the lead-in's coordinators.
                if !own.coordinators_only && coordinators.is_empty() {
                    coordinators = from.coordinators;
                }
            }
        }
        if leads.is_empty() {
            doubts.push("Không thấy cơ quan chủ trì trong câu: ghi leads".into());
        }
        self.resolve_dates(&mut leads, &mut doubts);
        self.resolve_dates(&mut coordinators, &mut doubts);
        coordinators.retain(|c| !leads.contains(c));
        // The written form matters for an agency assigned here under another name only.
        written_as.retain(|code, w| {
            !code.starts_with('@')
                && (leads.contains(code) || coordinators.contains(code))
                && self.dir.agency(code).is_some_and(|a| a.name != *w)
        });
        let (deadline, due_on) = deadline_of(raw, &mut doubts);
        let requires_report = REPORT.is_match(&text);
        self.tasks.push(TaskDraft {
            code,
            section: section.to_owned(),
            section_title: section_title.map(clean),
            item,
            title: title_of(&text),
            text,
            lead_in: lead_in.map(clean),
            deadline,
            due_on,
            requires_report,
            leads,
            coordinators,
            written_as,
            doubts,
        });
    }

    /// An agency that no longer exists on the directive's date becomes its successor.
    fn resolve_dates(&self, codes: &mut Vec<String>, doubts: &mut Vec<String>) {
        for c in codes.iter_mut() {
            let Some(a) = self.dir.agency(c) else { continue };
            if a.valid_to.is_some_and(|t| t < self.on) {
                if let [only] = a.successors.as_slice() {
                    doubts.push(format!(
                        "{} đã thôi hoạt động trước ngày ban hành: ghi cơ quan kế thừa {only}",
                        a.name
                    ));
                    *c = only.clone();
                } else {
                    doubts.push(format!(
                        "{} đã thôi hoạt động trước ngày ban hành và có nhiều cơ quan kế thừa: chọn cơ quan",
                        a.name
                    ));
                }
            } else if a.valid_from.is_some_and(|f| f > self.on) {
                doubts.push(format!("{} chưa thành lập vào ngày ban hành: kiểm tra", a.name));
            }
        }
        let mut seen = std::collections::HashSet::new();
        codes.retain(|c| seen.insert(c.clone()));
    }
}

/// Who a sentence names.
#[derive(Default)]
struct Who {
    leads: Vec<String>,
    coordinators: Vec<String>,
    /// The sentence opens with "Phối hợp với …": its names coordinate, the lead is the bullet's.
    coordinators_only: bool,
}

static SKIP_START: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?i)(?:giao\s+|đề nghị\s+|yêu cầu\s+|thủ trưởng\s+|chủ tịch\s+|giám đốc\s+)+"));
static GAP: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?i)(?:[\s,;]|và|cùng|với|thủ trưởng|chủ tịch|giám đốc|việt nam|\([^)]*\))*$"));
static CO_LEAD: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?i)[\s,]*chủ trì[\s,]*(?:(phối hợp)\s*(?:với|cùng)?)?"));
static COORD_START: LazyLock<Regex> = LazyLock::new(|| re(r"^(?i)[\s,]*phối hợp\s*(?:với|cùng)?\s*"));

/// The run of names that starts at `from` in `ms` (names separated only by commas, "và" and the
/// like); returns the names and the end of the last one.
fn run<'m>(text: &str, ms: &'m [Mention], from: usize) -> (Vec<&'m Mention>, usize) {
    let mut out: Vec<&Mention> = Vec::new();
    let mut end = ms.get(from).map_or(0, |m| m.start);
    for m in &ms[from..] {
        if !out.is_empty() && !GAP.is_match(&text[end..m.start]) {
            break;
        }
        out.push(m);
        end = m.end;
    }
    (out, end)
}

fn codes_of(
    text: &str,
    ms: &[&Mention],
    written_as: &mut BTreeMap<String, String>,
    doubts: &mut Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for m in ms {
        if let Target::Codes(codes, doubt) = &m.target {
            let written = text[m.start..m.end].to_owned();
            if let Some(d) = doubt
                && !doubts.contains(d)
            {
                doubts.push(d.clone());
            }
            for c in codes {
                written_as.entry(c.clone()).or_insert_with(|| written.clone());
                out.push(c.clone());
            }
        }
    }
    out
}

/// The leads and coordinators a sentence names.
fn who(
    dir: &Directory,
    text: &str,
    written_as: &mut BTreeMap<String, String>,
    doubts: &mut Vec<String>,
) -> Who {
    // "Các sở: A, B, C chủ trì": each listed name is a Sở.
    let rewritten;
    let text = match text.strip_prefix("Các sở:") {
        Some(rest) => {
            let (list, tail) = match rest.find(" chủ trì") {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            rewritten = format!(
                "{}{tail}",
                list.split(',')
                    .map(|n| format!("Sở {}", n.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            rewritten.as_str()
        }
        None => text,
    };
    let mut start = SKIP_START.find(text).map_or(0, |m| m.end());
    if fold(&text[start..]).starts_with("can cu")
        && let Some(comma) = text[start..].find(", ")
    {
        start += comma + 2;
    }
    let ms: Vec<Mention> = dir
        .mentions(text)
        .into_iter()
        .filter(|m| m.start >= start)
        .collect();
    let mut who = Who::default();
    if let Some(c) = COORD_START.find(&text[start..]) {
        // "Phối hợp với X, Y …": coordinators of the bullet's lead.
        let at = start + c.end();
        if let Some(first) = ms.iter().position(|m| m.start >= at && m.start - at <= 2) {
            let (names, _) = run(text, &ms, first);
            who.coordinators = codes_of(text, &names, written_as, doubts);
            who.coordinators_only = true;
        }
        return who;
    }
    // The subject: a run of names opening the sentence (within its first words).
    let Some(first) = ms.iter().position(|m| !matches!(m.target, Target::Issuer)) else {
        return who;
    };
    let opening = &text[start..ms[first].start];
    if opening.split_whitespace().count() > 3 {
        return who;
    }
    let (names, end) = run(text, &ms, first);
    who.leads = codes_of(text, &names, written_as, doubts);
    // Names later in the sentence ("…, phối hợp với X" mid-way) are not read: only the opening.
    if let Some(c) = CO_LEAD.captures(&text[end..])
        && c.get(1).is_some()
    {
        let at = end + c.get(0).map_or(0, |m| m.end());
        let at = at + text[at..].len() - text[at..].trim_start().len();
        if let Some(i) = ms.iter().position(|m| m.start == at) {
            let (names, _) = run(text, &ms, i);
            who.coordinators = codes_of(text, &names, written_as, doubts);
        } else if !text[at..].trim_start().is_empty() {
            let next: String = text[at..]
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ");
            doubts.push(format!(
                "Cơ quan phối hợp “{next}…” không có trong danh mục: ghi coordinators"
            ));
        }
    }
    who
}

/// The deadline words of a task: a bold phrase first, else the only one, else the latest
/// (with a doubt); a recurring phrase when there is no dated one.
fn deadline_of(raw: &str, doubts: &mut Vec<String>) -> (Option<String>, Option<NaiveDate>) {
    let bold: Vec<(usize, usize)> = {
        let mut spans = Vec::new();
        let mut open = None;
        let mut i = 0;
        while let Some(j) = raw[i..].find("**") {
            let at = i + j;
            match open.take() {
                None => open = Some(at + 2),
                Some(s) => spans.push((s, at)),
            }
            i = at + 2;
        }
        spans
    };
    let mut found: Vec<(String, bool)> = Vec::new();
    for m in DEADLINE.find_iter(raw) {
        let phrase = clean(m.as_str());
        let in_bold = bold.iter().any(|(s, e)| m.start() >= *s && m.end() <= *e);
        if !found.iter().any(|(p, _)| *p == phrase) {
            found.push((phrase, in_bold));
        } else if in_bold {
            for f in found.iter_mut().filter(|(p, _)| *p == phrase) {
                f.1 = true;
            }
        }
    }
    // Bold marks may sit inside the phrase ("trước **tháng 6/2025**"): read the text without them too.
    if found.is_empty() {
        let plain = clean(raw);
        for m in DEADLINE.find_iter(&plain) {
            let phrase = m.as_str().to_owned();
            if !found.iter().any(|(p, _)| *p == phrase) {
                found.push((phrase, false));
            }
        }
    }
    let dated: Vec<(String, bool)> = found
        .into_iter()
        .filter(|(p, _)| parse_deadline(Some(p)).is_ok_and(|d| d.due_on.is_some()))
        .collect();
    let chosen = match dated.as_slice() {
        [] => None,
        [only] => Some(only.0.clone()),
        many => {
            let bold: Vec<&(String, bool)> = many.iter().filter(|(_, b)| *b).collect();
            match bold.as_slice() {
                [one] => {
                    doubts.push(format!(
                        "Có {} thời hạn ({}): chọn thời hạn in đậm",
                        many.len(),
                        many.iter()
                            .map(|(p, _)| p.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                    Some(one.0.clone())
                }
                _ => {
                    let latest = many
                        .iter()
                        .filter_map(|(p, _)| Some((parse_deadline(Some(p)).ok()?.due_on?, p)))
                        .max_by_key(|(d, _)| *d)
                        .map(|(_, p)| p.clone());
                    doubts.push(format!(
                        "Có {} thời hạn ({}): chọn thời hạn muộn nhất",
                        many.len(),
                        many.iter()
                            .map(|(p, _)| p.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                    latest
                }
            }
        }
    };
    let chosen = chosen.or_else(|| RECURRING.find(&clean(raw)).map(|m| m.as_str().to_owned()));
    let due = chosen
        .as_deref()
        .and_then(|p| parse_deadline(Some(p)).ok())
        .and_then(|d| d.due_on);
    (chosen, due)
}

/// The document's structure into tasks.
fn structure(paras: &[String], dir: &Directory, on: NaiveDate, doubts: &mut Vec<String>) -> Vec<TaskDraft> {
    let mut b = Builder {
        dir,
        on,
        tasks: Vec::new(),
    };
    let mut roman = String::new();
    let mut roman_title = String::new();
    let mut skipping = false;
    // The open heading: its section code, title and bullet count.
    let mut section: Option<(String, String)> = None;
    let mut bullets = 0;
    // The open bullet with a lead-in waiting for "(n)" or "+" paragraphs.
    let mut open_bullet: Option<(String, usize)> = None;
    let mut subs = 0;
    for (i, p) in paras.iter().enumerate() {
        let next = paras.get(i + 1).map(|n| kind_of(n));
        match kind_of(p) {
            Para::Roman(r, title) => {
                roman = r.to_owned();
                roman_title = sentence_case(&clean(title));
                skipping = assigns_nothing(title);
                if skipping {
                    doubts.push(format!(
                        "Phần {r} ({}) nêu quan điểm, nội dung: không tạo nhiệm vụ",
                        clean(title)
                    ));
                }
                section = None;
                open_bullet = None;
            }
            _ if skipping => {}
            Para::Numbered(n, rest) => {
                open_bullet = None;
                let code = if roman.is_empty() {
                    n.to_owned()
                } else {
                    format!("{roman}.{n}")
                };
                let has_children = matches!(
                    next,
                    Some(Para::Bullet(_) | Para::Plain(_) | Para::Sub(_) | Para::Item(..))
                ) || matches!(next, Some(Para::Numbered(m, _)) if m.starts_with(&format!("{n}.")));
                if has_children && is_heading(rest) {
                    section = Some((code, rest.to_owned()));
                    bullets = 0;
                } else {
                    section = None;
                    b.task(format!("{code}-1"), &code, Some(&roman_title), None, rest, None);
                }
            }
            Para::Bullet(text) | Para::Plain(text) => {
                let Some((code, title)) = section.clone() else {
                    doubts.push(format!(
                        "Đoạn ngoài mục đánh số, không tạo nhiệm vụ: “{}…”",
                        clean(text)
                            .split_whitespace()
                            .take(10)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                    continue;
                };
                bullets += 1;
                let t = text.trim_end_matches('*').trim_end();
                if t.ends_with(':') && matches!(next, Some(Para::Item(..) | Para::Sub(_))) {
                    open_bullet = Some((text.to_owned(), bullets));
                    subs = 0;
                    continue;
                }
                open_bullet = None;
                match inline_items(text) {
                    Some((lead_in, items)) => {
                        for (k, (item, words)) in items.iter().enumerate() {
                            b.task(
                                format!("{code}-{bullets}.{}", k + 1),
                                &code,
                                Some(&title),
                                Some(item.clone()),
                                words,
                                Some(&lead_in),
                            );
                        }
                    }
                    None => b.task(format!("{code}-{bullets}"), &code, Some(&title), None, text, None),
                }
            }
            Para::Item(n, text) => {
                let (Some((code, title)), Some((lead_in, k))) = (section.clone(), open_bullet.clone()) else {
                    continue;
                };
                b.task(
                    format!("{code}-{k}.{n}"),
                    &code,
                    Some(&title),
                    Some(format!("({n})")),
                    text,
                    Some(lead_in.trim_end_matches(':')),
                );
            }
            Para::Sub(text) => {
                let (Some((code, title)), Some((lead_in, k))) = (section.clone(), open_bullet.clone()) else {
                    continue;
                };
                subs += 1;
                b.task(
                    format!("{code}-{k}.{subs}"),
                    &code,
                    Some(&title),
                    None,
                    text,
                    Some(lead_in.trim_end_matches(':')),
                );
            }
        }
    }
    b.tasks
}
