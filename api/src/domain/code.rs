//! Stable codes (`so-tai-chinh`, `15-ct-ubnd-2026`): lowercase ASCII letters, digits and
//! hyphens, at most 60 characters. The one rule for agency codes (in tokens, filters and
//! inputs) and directive codes.

use std::fmt;

/// Longest code.
pub const MAX_LEN: usize = 60;

/// Why a text is not a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeError;

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mã chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, tối đa {MAX_LEN} ký tự (ví dụ: so-tai-chinh)"
        )
    }
}

impl std::error::Error for CodeError {}

/// Whether `s` (already trimmed) is a code.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LEN
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A stable code, parsed: surrounding spaces dropped, the rule above checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(String);

impl Code {
    pub fn parse(s: &str) -> Result<Code, CodeError> {
        let s = s.trim();
        if is_code(s) {
            Ok(Code(s.to_owned()))
        } else {
            Err(CodeError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An agency's code, e.g. `so-tai-chinh`.
pub type AgencyCode = Code;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_table() {
        for ok in [
            "so-tai-chinh",
            " ubnd-huyen-bat-xat ",
            "syn-0001",
            "15-ct-ubnd-2026",
            "a",
        ] {
            assert_eq!(
                Code::parse(ok).map(|c| c.to_string()),
                Ok(ok.trim().to_owned()),
                "{ok:?}"
            );
        }
        let long = "a".repeat(MAX_LEN + 1);
        for bad in [
            "",
            "  ",
            "So-Tai-Chinh",
            "sở-y-tế",
            "so tai chinh",
            "so_y_te",
            "so-y-te\0",
            long.as_str(),
        ] {
            assert_eq!(Code::parse(bad), Err(CodeError), "{bad:?}");
        }
        assert_eq!(
            Code::parse(&"a".repeat(MAX_LEN)).map(|c| c.as_str().len()),
            Ok(MAX_LEN)
        );
    }
}
