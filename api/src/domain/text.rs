//! Vietnamese text folding: the one place that decides how names and phrases compare for search, slugs and phrase matching.
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

/// A URL- and code-friendly key: the folded text with every run of non-alphanumeric characters turned
/// into one `-`, and no `-` at either end ("Sở Kế hoạch và Đầu tư" → "so-ke-hoach-va-dau-tu").
pub fn slug(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    let mut pending_dash = false;
    for c in folded.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else {
            pending_dash = true;
        }
    }
    out
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
    fn slug_table() {
        let cases: &[(&str, &str)] = &[
            ("Sở Kế hoạch và Đầu tư", "so-ke-hoach-va-dau-tu"),
            (
                "UBND các huyện, thị xã, thành phố",
                "ubnd-cac-huyen-thi-xa-thanh-pho",
            ),
            (
                "Lao động - Thương binh và Xã hội",
                "lao-dong-thuong-binh-va-xa-hoi",
            ),
            ("  (Thuế tỉnh)  ", "thue-tinh"),
            ("10/CT-UBND", "10-ct-ubnd"),
            ("---", ""),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(slug(input), *expected, "slug({input:?})");
        }
    }
}
