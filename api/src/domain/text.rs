//! Vietnamese text folding: the one place that decides how names and phrases compare for search and
//! phrase matching, and the search keys each kind of row is stored with.
//!
//! Officials type with and without diacritics ("Sở Kế hoạch và Đầu tư", "so ke hoach va dau tu"), in any
//! case, sometimes in decomposed Unicode (NFD) pasted from PDFs. Folding maps all of these to one key.

use unicode_normalization::UnicodeNormalization;

/// Most search terms a query may contain; a longer query is cut, not refused, so that a pasted sentence
/// still searches instead of failing.
pub const MAX_SEARCH_TERMS: usize = 10;

/// Whether `c` is a combining diacritical mark (U+0300–U+036F): Vietnamese tone marks and the
/// circumflex, breve and horn all decompose into this block under NFD.
pub(crate) fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Lowercase, drop diacritics, map `đ`/`Đ` to `d`, collapse whitespace to single spaces and trim.
///
/// `đ` needs its own rule because it is a letter of its own, not `d` plus a combining mark, so NFD
/// leaves it whole.
pub fn fold(s: &str) -> String {
    let stripped: String = s
        .nfd()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect();
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The folded words of a search query: split on anything that is not a letter or digit, empty pieces
/// dropped, duplicates removed (first occurrence kept), at most [`MAX_SEARCH_TERMS`].
pub fn search_terms(query: &str) -> Vec<String> {
    let folded = fold(query);
    let mut terms: Vec<String> = Vec::new();
    for term in folded.split(|c: char| !c.is_alphanumeric()) {
        if term.is_empty() || terms.iter().any(|t| t == term) {
            continue;
        }
        terms.push(term.to_string());
        if terms.len() == MAX_SEARCH_TERMS {
            break;
        }
    }
    terms
}

/// The folded keys a row is searched and ranked by: one recipe per kind of row, used by every
/// writer (the seed, the synthetic data, the mutations), so a row finds the same whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    /// What a title hit is ranked by.
    pub title: String,
    /// Everything a search matches against.
    pub text: String,
}

impl SearchKeys {
    /// A task: title; code, title and full text.
    pub fn task(code: &str, title: &str, full_text: &str) -> Self {
        SearchKeys {
            title: fold(title),
            text: fold(&format!("{code} {title} {full_text}")),
        }
    }

    /// A directive: number and title; those and the issuer.
    pub fn directive(number: Option<&str>, title: &str, issuer: &str) -> Self {
        let title = fold(&format!("{} {title}", number.unwrap_or("")));
        let text = fold(&format!("{title} {issuer}"));
        SearchKeys { title, text }
    }

    /// An agency: its name and short name (one key, which also orders agencies by name).
    pub fn agency(name: &str, short_name: Option<&str>) -> String {
        fold(&format!("{name} {}", short_name.unwrap_or("")))
    }
}

/// Longest text any input may carry (a task's full text is the longest the API stores).
pub const MAX_INPUT_CHARS: usize = 20_000;

/// Longest whole document an input may carry (`DocumentText`: a directive to import, a
/// reviewed draft); the request body limit is usually the tighter bound.
pub const MAX_DOCUMENT_CHARS: usize = 1_000_000;

/// Why an input text is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputTextError {
    /// A control character other than newline and tab (NUL, ESC…), at this character index.
    Control { at: usize, code: u32 },
    /// Longer than the limit ([`MAX_INPUT_CHARS`], or [`MAX_DOCUMENT_CHARS`] for a document).
    TooLong { chars: usize, max: usize },
}

impl std::fmt::Display for InputTextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputTextError::Control { at, code } => write!(
                f,
                "Văn bản chứa ký tự điều khiển U+{code:04X} ở vị trí {at}; chỉ cho phép xuống dòng và tab"
            ),
            InputTextError::TooLong { chars, max } => {
                write!(f, "Văn bản dài {chars} ký tự, tối đa {max}")
            }
        }
    }
}

/// The one rule for text that comes in: line ends as `\n` (a `\r\n` or lone `\r` from a
/// Windows form becomes `\n`), Unicode NFC (text pasted from PDFs comes decomposed), no other
/// control character (NUL, which PostgreSQL refuses and SQLite stores, ESC…), at most
/// [`MAX_INPUT_CHARS`]. Returns the text to keep.
pub fn clean_input(s: &str) -> Result<String, InputTextError> {
    clean_input_up_to(s, MAX_INPUT_CHARS)
}

/// [`clean_input`] with another length limit (a whole document: [`MAX_DOCUMENT_CHARS`]).
pub fn clean_input_up_to(s: &str, max: usize) -> Result<String, InputTextError> {
    let unified = if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    };
    let text: String = if unicode_normalization::is_nfc(&unified) {
        unified
    } else {
        unified.nfc().collect()
    };
    let mut chars = 0;
    for (at, c) in text.chars().enumerate() {
        if c.is_control() && c != '\n' && c != '\t' {
            return Err(InputTextError::Control {
                at,
                code: u32::from(c),
            });
        }
        chars = at + 1;
    }
    if chars > max {
        return Err(InputTextError::TooLong { chars, max });
    }
    Ok(text)
}

/// Characters that show nothing: white space, and the zero-width and formatting characters that
/// editors and PDFs leave in text (zero-width space and joiners, word joiner, byte-order mark,
/// soft hyphen, bidirectional marks). A text made only of them is empty.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{202A}'..='\u{202E}'
        )
}

/// `s` without invisible characters at either end.
pub fn trim_invisible(s: &str) -> &str {
    s.trim_matches(is_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_table() {
        let cases: &[(&str, &str)] = &[
            ("Kế hoạch và Đầu tư", "ke hoach va dau tu"),
            ("Quý I", "quy i"),
            ("Lũy", "luy"),
            ("Lũy kế số xã công nhận", "luy ke so xa cong nhan"),
            ("ĐẮK LẮK", "dak lak"),
            ("đường", "duong"),
            ("  Sở   Y tế \n\t ", "so y te"),
            ("Ủy ban nhân dân", "uy ban nhan dan"),
            ("trong Quý II/2025", "trong quy ii/2025"),
            ("trước ngày 15/01/2025", "truoc ngay 15/01/2025"),
            ("Bộ Chỉ huy Quân sự", "bo chi huy quan su"),
            ("Thương binh", "thuong binh"),
            ("", ""),
            ("   ", ""),
            // Decomposed input (NFD), as pasted from some PDFs, folds the same as composed input.
            ("Qu\u{0079}\u{0301} I", "quy i"),
            ("Lu\u{0303}y", "luy"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), *expected, "fold({input:?})");
        }
    }

    #[test]
    fn fold_is_idempotent() {
        for s in ["Sở Kế hoạch và Đầu tư", "Quý II/2025", "hàng tháng"] {
            assert_eq!(fold(&fold(s)), fold(s));
        }
    }

    #[test]
    fn search_terms_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Sở Kế hoạch và Đầu tư", &["so", "ke", "hoach", "va", "dau", "tu"]),
            ("  nông thôn mới, NÔNG THÔN ", &["nong", "thon", "moi"]),
            ("10/CT-UBND", &["10", "ct", "ubnd"]),
            ("", &[]),
            ("--- ,,, ", &[]),
            (
                "a b c d e f g h i j k l m",
                &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
            ),
            ("Lũy kế lũy kế", &["luy", "ke"]),
        ];
        for (input, expected) in cases {
            assert_eq!(search_terms(input), *expected, "search_terms({input:?})");
        }
    }

    #[test]
    fn search_keys_fold_each_part() {
        let t = SearchKeys::task("II.1-2", "Lập Kế hoạch", "Sở Tài chính chủ trì");
        assert_eq!(t.title, "lap ke hoach");
        assert_eq!(t.text, "ii.1-2 lap ke hoach so tai chinh chu tri");
        let d = SearchKeys::directive(Some("10/CT-UBND"), "Về nhiệm vụ", "UBND tỉnh");
        assert_eq!(
            (d.title.as_str(), d.text.as_str()),
            ("10/ct-ubnd ve nhiem vu", "10/ct-ubnd ve nhiem vu ubnd tinh")
        );
        assert_eq!(SearchKeys::directive(None, "Về", "X").title, "ve");
        assert_eq!(SearchKeys::agency("Sở Y tế", None), "so y te");
        assert_eq!(
            SearchKeys::agency("Sở Kế hoạch và Đầu tư", Some("Sở KH&ĐT")),
            "so ke hoach va dau tu so kh&dt"
        );
    }

    #[test]
    fn input_text_is_normalised_and_controls_refused() {
        assert_eq!(clean_input("a\r\nb\rc").as_deref(), Ok("a\nb\nc"));
        assert_eq!(
            clean_input("Qu\u{0079}\u{0301}").as_deref(),
            Ok("Qu\u{00fd}"),
            "NFC"
        );
        assert_eq!(clean_input("tab\there").as_deref(), Ok("tab\there"));
        assert_eq!(
            clean_input("a\u{0}b"),
            Err(InputTextError::Control { at: 1, code: 0 })
        );
        assert_eq!(
            clean_input("\u{1b}[31m"),
            Err(InputTextError::Control { at: 0, code: 0x1b })
        );
        assert!(clean_input("\u{85}").is_err(), "C1 controls too");
        let long = "x".repeat(MAX_INPUT_CHARS + 1);
        assert_eq!(
            clean_input(&long),
            Err(InputTextError::TooLong {
                chars: MAX_INPUT_CHARS + 1,
                max: MAX_INPUT_CHARS
            })
        );
        assert!(clean_input(&"ệ".repeat(MAX_INPUT_CHARS)).is_ok());
        assert!(
            clean_input("a\u{0}b")
                .expect_err("refused")
                .to_string()
                .contains("U+0000")
        );
    }

    #[test]
    fn invisible_text_trims_to_nothing() {
        assert_eq!(trim_invisible("\u{200B}\u{FEFF} \u{2060}\u{00AD}"), "");
        assert_eq!(trim_invisible("\u{200B} Đã xong \u{200D}"), "Đã xong");
        assert!(!is_invisible('a') && is_invisible('\u{200C}'));
    }
}
