//! Agency names as directives write them, resolved to the codes of `seeds/agencies.yaml`.
//!
//! A name is matched on its folded words (case, diacritics, punctuation and "và" ignored), so
//! "Sở Văn hóa, Thể thao" is Sở Văn hóa và Thể thao and "Sở Nông nghiệp và PTNT" is Sở Nông
//! nghiệp và Phát triển nông thôn. Each agency is known by its name, its short name and their
//! usual abbreviations (UBND ↔ Ủy ban nhân dân, PTNT), with and without "tỉnh (Lào Cai)". The
//! collective phrases ("các sở, ban, ngành", "UBND các huyện, thị xã, thành phố", "các địa
//! phương") are groups, chosen by the directive's date: the districts until 30/6/2025, the
//! communes and wards after; the departments of 12/2024 until 28/2/2025, those of 2025 after.

use chrono::NaiveDate;

use crate::domain::text::fold;
use crate::seed::format::AgenciesFile;

/// What a name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Agencies and groups (`@code`), and a doubt for the clerk if the reading is a judgement.
    Codes(Vec<String>, Option<String>),
    /// The issuer itself (UBND tỉnh, its Chair, its standing members): never an assignee.
    Issuer,
}

/// A name found in a text: its bytes, and what it stands for.
#[derive(Debug, Clone)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub target: Target,
    /// A group phrase ("các sở, ngành"), which may start in lower case.
    pub collective: bool,
}

/// An agency of the directory, with its validity.
#[derive(Debug, Clone)]
pub struct Agency {
    pub code: String,
    pub name: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub successors: Vec<String>,
}

/// The names the reader knows, for a directive of a given date.
pub struct Directory {
    pub agencies: Vec<Agency>,
    pub groups: Vec<String>,
    patterns: Vec<(Vec<String>, Target, bool)>,
}

/// A text's words: folded, with their byte ranges ("và" dropped).
pub fn words(text: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            let w = fold(&text[s..i]);
            if w != "va" {
                out.push((w, s, i));
            }
        }
    }
    out
}

fn key(name: &str) -> Vec<String> {
    words(name).into_iter().map(|(w, _, _)| w).collect()
}

/// The spellings of one agency name.
fn variants(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let swaps = [
        ("Ủy ban nhân dân", "UBND"),
        ("UBND", "Ủy ban nhân dân"),
        ("Phát triển nông thôn", "PTNT"),
        ("Khu kinh tế", "KKT"),
    ];
    for (from, to) in swaps {
        let more: Vec<String> = out
            .iter()
            .filter(|n| n.contains(from))
            .map(|n| n.replace(from, to))
            .collect();
        out.extend(more);
    }
    let stripped: Vec<String> = out
        .iter()
        .filter_map(|n| {
            let s = n.strip_suffix(" Lào Cai").unwrap_or(n);
            let s = s.strip_suffix(" tỉnh")?;
            (s.split_whitespace().count() >= 2).then(|| s.to_owned())
        })
        .collect();
    out.extend(stripped);
    let with_lc: Vec<String> = out
        .iter()
        .filter(|n| n.ends_with(" tỉnh"))
        .map(|n| format!("{n} Lào Cai"))
        .collect();
    out.extend(with_lc);
    out
}

impl Directory {
    /// The directory of `agencies.yaml` for a directive issued on `on`.
    pub fn new(file: &AgenciesFile, on: NaiveDate) -> Directory {
        let mut patterns = Vec::new();
        let agencies: Vec<Agency> = file
            .agencies
            .iter()
            .map(|a| Agency {
                code: a.code.clone(),
                name: a.name.clone(),
                valid_from: a.valid_from,
                valid_to: a.valid_to,
                successors: a.successors.clone(),
            })
            .collect();
        for a in &file.agencies {
            for n in std::iter::once(&a.name).chain(a.short_name.iter()) {
                for v in variants(n) {
                    patterns.push((key(&v), Target::Codes(vec![a.code.clone()], None), false));
                }
            }
        }
        let groups: Vec<String> = file.groups.iter().map(|g| g.code.clone()).collect();
        let departments = if on < date(2025, 3, 1) {
            "@cac-so-ban-nganh-2024"
        } else {
            "@cac-so-ban-nganh-2025"
        };
        let districts_era = on < date(2025, 7, 1);
        let localities = if districts_era {
            "@ubnd-cac-huyen-thi-xa-thanh-pho"
        } else {
            "@ubnd-cac-xa-phuong"
        };
        let locality_doubt = if districts_era {
            "“địa phương” đọc là UBND các huyện, thị xã, thành phố: kiểm tra nếu văn bản chỉ nói tới một số địa phương"
        } else {
            "“địa phương” đọc là UBND các xã, phường: kiểm tra nếu văn bản chỉ nói tới một số địa phương"
        };
        let g = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        let sector = "@co-quan-nganh-doc-tinh";
        let table: Vec<(&[&str], Vec<String>, Option<&str>)> = vec![
            (
                &[
                    "các sở, ban, ngành, địa phương",
                    "các sở, ngành, địa phương",
                    "các cấp, các ngành",
                ],
                g(&[departments, sector, localities]),
                None,
            ),
            (
                &[
                    "các sở, ban, ngành, đoàn thể cấp tỉnh",
                    "các sở, ban, ngành, đoàn thể tỉnh",
                ],
                g(&[departments, "@doan-the-cap-tinh"]),
                None,
            ),
            (
                &[
                    "các sở, ban, ngành",
                    "các sở, ngành",
                    "các sở, ban, ngành thuộc UBND tỉnh",
                    "các sở, ban, ngành tỉnh",
                ],
                g(&[departments]),
                None,
            ),
            (
                &[
                    "UBND các huyện, thị xã, thành phố",
                    "Ủy ban nhân dân các huyện, thị xã, thành phố",
                ],
                g(&["@ubnd-cac-huyen-thi-xa-thanh-pho"]),
                (!districts_era).then_some("văn bản sau 1/7/2025 nói tới cấp huyện, đã bỏ: kiểm tra"),
            ),
            (
                &["UBND các xã, phường", "Ủy ban nhân dân các xã, phường"],
                g(&["@ubnd-cac-xa-phuong"]),
                None,
            ),
            (
                &["các địa phương", "địa phương"],
                g(&[localities]),
                Some(locality_doubt),
            ),
            (
                &["các cơ quan, đơn vị, địa phương"],
                if on < date(2025, 3, 1) {
                    g(&["@cac-co-quan-don-vi-dia-phuong-2024"])
                } else {
                    g(&[departments, localities])
                },
                (on >= date(2025, 3, 1)).then_some(
                    "“các cơ quan, đơn vị, địa phương” đọc là các sở, ngành và địa phương: kiểm tra",
                ),
            ),
            (
                &["cơ quan tài chính các cấp và các đơn vị sử dụng ngân sách"],
                g(&["@co-quan-tai-chinh-va-don-vi-su-dung-ngan-sach"]),
                None,
            ),
            (
                &[
                    "các tổ chức chính trị - xã hội",
                    "các tổ chức chính trị - xã hội tỉnh",
                ],
                g(&["@cac-to-chuc-chinh-tri-xa-hoi-tinh"]),
                None,
            ),
            (
                &[
                    "các cơ quan ngành dọc",
                    "các cơ quan ngành dọc đóng trên địa bàn",
                    "các cơ quan ngành dọc đóng trên địa bàn tỉnh",
                ],
                g(&[sector]),
                None,
            ),
            (
                &["các đoàn thể cấp tỉnh", "các đoàn thể tỉnh"],
                g(&["@doan-the-cap-tinh"]),
                None,
            ),
        ];
        for (phrases, codes, doubt) in table {
            // A group the directory does not have is a doubt, never a code that would not load.
            let (codes, doubt) = match codes.iter().find(|c| !groups.contains(&c[1..].to_owned())) {
                Some(missing) => (
                    Vec::new(),
                    Some(format!(
                        "“{}”: nhóm {missing} không có trong agencies.yaml; ghi cơ quan cụ thể",
                        phrases[0]
                    )),
                ),
                None => (codes, doubt.map(str::to_owned)),
            };
            for p in phrases {
                patterns.push((key(p), Target::Codes(codes.clone(), doubt.clone()), true));
            }
        }
        for issuer in [
            "UBND tỉnh",
            "Ủy ban nhân dân tỉnh",
            "Thường trực UBND tỉnh",
            "Chủ tịch UBND tỉnh",
            "UBND tỉnh Lào Cai",
            "Ủy ban nhân dân tỉnh Lào Cai",
        ] {
            patterns.push((key(issuer), Target::Issuer, false));
        }
        // Longest first: the longest name at a position wins.
        patterns.sort_by_key(|(k, _, _)| std::cmp::Reverse(k.len()));
        Directory {
            agencies,
            groups,
            patterns,
        }
    }

    /// Every name in `text`, left to right, the longest at each place. An agency's name must
    /// start with a capital letter (a lower-case "thanh tra" is a verb); a group phrase need not.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let ws = words(text);
        let mut out = Vec::new();
        let mut i = 0;
        while i < ws.len() {
            let found = self.patterns.iter().find(|(k, _, collective)| {
                i + k.len() <= ws.len()
                    && k.iter().zip(&ws[i..]).all(|(a, (b, _, _))| a == b)
                    && (*collective || text[ws[i].1..].chars().next().is_some_and(|c| c.is_uppercase()))
            });
            match found {
                Some((k, target, collective)) => {
                    out.push(Mention {
                        start: ws[i].1,
                        end: ws[i + k.len() - 1].2,
                        target: target.clone(),
                        collective: *collective,
                    });
                    i += k.len();
                }
                None => i += 1,
            }
        }
        out
    }

    pub fn agency(&self, code: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.code == code)
    }
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}
