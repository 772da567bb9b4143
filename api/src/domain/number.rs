//! Vietnamese-formatted numbers: reading and writing `10.255.000` and `8,5`, where `.` groups thousands and `,` is the decimal mark.
//!
//! Reading is strict on purpose: "1.23" could be an English decimal typed by mistake, so a group after a
//! dot must have exactly three digits, and anything else is refused rather than guessed.

use rust_decimal::prelude::*;

/// Why a string is not a Vietnamese-formatted number. Messages are shown to officials, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("Số không hợp lệ: chưa nhập giá trị")]
    Empty,
    #[error(
        "Số không hợp lệ: «{0}» có ký tự không phải chữ số (dùng dấu chấm ngăn cách hàng nghìn, dấu phẩy cho phần thập phân, ví dụ 10.255.000 hoặc 8,5)"
    )]
    InvalidCharacter(String),
    #[error("Số không hợp lệ: «{0}» có nhiều hơn một dấu phẩy thập phân")]
    MultipleDecimalMarks(String),
    #[error(
        "Số không hợp lệ: «{0}» đặt sai dấu chấm ngăn cách hàng nghìn (mỗi nhóm sau dấu chấm phải đủ 3 chữ số, ví dụ 10.255.000)"
    )]
    MisplacedGroupSeparator(String),
    #[error("Số không hợp lệ: «{0}» thiếu chữ số trước hoặc sau dấu phẩy")]
    MissingDigits(String),
    #[error("Số không hợp lệ: «{0}» quá lớn hoặc quá nhiều chữ số")]
    TooLarge(String),
}

/// Parses a Vietnamese-formatted decimal: optional sign (`-`, `−` or `+`), an integer part either plain
/// (`04`, `10255000`) or grouped by dots in threes (`10.255.000`), then optionally `,` and the
/// fraction. The scale written is kept (`70,0` has scale 1), since an official's "70,0%" is a value
/// given to one decimal place.
pub fn parse_vn_decimal(s: &str) -> Result<Decimal, NumberError> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(NumberError::Empty);
    }
    let original = || trimmed.to_string();

    let (negative, body) = match trimmed.chars().next() {
        Some(c @ ('-' | '−' | '+')) => (c != '+', &trimmed[c.len_utf8()..]),
        _ => (false, trimmed),
    };

    if body
        .chars()
        .any(|c| !(c.is_ascii_digit() || c == '.' || c == ','))
    {
        return Err(NumberError::InvalidCharacter(original()));
    }

    let mut parts = body.split(',');
    let integer = parts.next().unwrap_or_default();
    let fraction = parts.next();
    if parts.next().is_some() {
        return Err(NumberError::MultipleDecimalMarks(original()));
    }

    if integer.is_empty() || fraction.is_some_and(str::is_empty) {
        return Err(NumberError::MissingDigits(original()));
    }
    let fraction = fraction.unwrap_or_default();
    if fraction.contains('.') {
        // A dot after the decimal comma is a thousands mark in the wrong place.
        return Err(NumberError::MisplacedGroupSeparator(original()));
    }

    let integer_digits = if integer.contains('.') {
        let mut groups = integer.split('.');
        let first = groups.next().unwrap_or_default();
        // "0.255" or "01.234" would be an English decimal or a typo, not a grouped thousand.
        let first_ok = (1..=3).contains(&first.len()) && !first.starts_with('0');
        if !first_ok || groups.any(|g| g.len() != 3) {
            return Err(NumberError::MisplacedGroupSeparator(original()));
        }
        integer.replace('.', "")
    } else {
        integer.to_string()
    };

    let literal = if fraction.is_empty() {
        integer_digits
    } else {
        format!("{integer_digits}.{fraction}")
    };
    let mut value = Decimal::from_str_exact(&literal).map_err(|_| NumberError::TooLarge(original()))?;
    if negative && !value.is_zero() {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// Writes a decimal the Vietnamese way, keeping its scale: `10255000` → "10.255.000", `8.5` → "8,5",
/// `70.0` → "70,0", `-2.68` → "-2,68". The inverse of [`parse_vn_decimal`].
pub fn format_vn_decimal(d: &Decimal) -> String {
    let plain = d.abs().to_string();
    let (integer, fraction) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain.as_str(), None),
    };

    let mut out = String::with_capacity(plain.len() + plain.len() / 3 + 2);
    if d.is_sign_negative() && !d.is_zero() {
        out.push('-');
    }
    let len = integer.len();
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if let Some(f) = fraction {
        out.push(',');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("test literal")
    }

    /// Every number written in the 2025 targets of the emulation document (002_…), as written.
    #[test]
    fn parses_the_seed_targets() {
        let cases: &[(&str, &str)] = &[
            ("8,5", "8.5"),
            ("16", "16"),
            ("37,3", "37.3"),
            ("39,16", "39.16"),
            ("7,5", "7.5"),
            ("85", "85"),
            ("04", "4"),
            ("41", "41"),
            ("9,6", "9.6"),
            ("75.000", "75000"),
            ("85.000", "85000"),
            ("4.000", "4000"),
            ("10.255.000", "10255000"),
            ("46.455", "46455"),
            ("21.000", "21000"),
            ("86.000", "86000"),
            ("31,5", "31.5"),
            ("2.286", "2286"),
            ("7,48", "7.48"),
            ("71,7", "71.7"),
            ("68,3", "68.3"),
            ("70,0", "70.0"),
            ("36,0", "36.0"),
            ("30.000", "30000"),
            ("2,68", "2.68"),
            ("96,5", "96.5"),
            ("12,8", "12.8"),
            ("41,1", "41.1"),
            ("93,0", "93.0"),
            ("98,0", "98.0"),
            ("95,3", "95.3"),
            ("75,5", "75.5"),
            ("61,5", "61.5"),
            ("95", "95"),
            // Directive 10/CT-UBND: revenue target "15.500 tỷ đồng".
            ("15.500", "15500"),
        ];
        for (input, expected) in cases {
            let got = parse_vn_decimal(input).expect(input);
            assert_eq!(got, dec(expected), "parse_vn_decimal({input:?})");
            assert_eq!(got.scale(), dec(expected).scale(), "scale of {input:?}");
        }
    }

    #[test]
    fn parses_signs_spaces_and_fractions() {
        let cases: &[(&str, &str)] = &[
            ("-2,68", "-2.68"),
            ("−2,68", "-2.68"),
            ("+8,5", "8.5"),
            ("  8,5 \n", "8.5"),
            ("1.000,25", "1000.25"),
            ("10255000", "10255000"),
            ("0", "0"),
            ("0,5", "0.5"),
            ("-0", "0"),
            ("99,96", "99.96"),
        ];
        for (input, expected) in cases {
            let got = parse_vn_decimal(input).expect(input);
            assert_eq!(got, dec(expected), "parse_vn_decimal({input:?})");
            assert!(!(got.is_zero() && got.is_sign_negative()), "no negative zero");
        }
    }

    #[test]
    fn keeps_the_written_scale() {
        let v = parse_vn_decimal("70,0").expect("70,0");
        assert_eq!(v.scale(), 1);
        assert_eq!(v.to_string(), "70.0");
    }

    #[test]
    fn rejects_malformed() {
        let cases: &[(&str, NumberError)] = &[
            ("", NumberError::Empty),
            ("   ", NumberError::Empty),
            ("1,2,3", NumberError::MultipleDecimalMarks("1,2,3".into())),
            ("1.23", NumberError::MisplacedGroupSeparator("1.23".into())),
            ("12.3456", NumberError::MisplacedGroupSeparator("12.3456".into())),
            (
                "1234.567",
                NumberError::MisplacedGroupSeparator("1234.567".into()),
            ),
            ("0.255", NumberError::MisplacedGroupSeparator("0.255".into())),
            (".255", NumberError::MisplacedGroupSeparator(".255".into())),
            ("1..000", NumberError::MisplacedGroupSeparator("1..000".into())),
            ("1.000.", NumberError::MisplacedGroupSeparator("1.000.".into())),
            ("1,000.5", NumberError::MisplacedGroupSeparator("1,000.5".into())),
            ("8,", NumberError::MissingDigits("8,".into())),
            (",5", NumberError::MissingDigits(",5".into())),
            ("-", NumberError::MissingDigits("-".into())),
            ("abc", NumberError::InvalidCharacter("abc".into())),
            ("8,5%", NumberError::InvalidCharacter("8,5%".into())),
            ("1 000", NumberError::InvalidCharacter("1 000".into())),
            ("--1", NumberError::InvalidCharacter("--1".into())),
            ("12e3", NumberError::InvalidCharacter("12e3".into())),
            (
                "99999999999999999999999999999999",
                NumberError::TooLarge("99999999999999999999999999999999".into()),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_vn_decimal(input).as_ref(),
                Err(expected),
                "parse_vn_decimal({input:?})"
            );
        }
    }

    #[test]
    fn error_messages_are_vietnamese() {
        let err = parse_vn_decimal("1.23").expect_err("misplaced");
        assert!(err.to_string().starts_with("Số không hợp lệ: «1.23»"), "{err}");
        let err = parse_vn_decimal("abc").expect_err("letters");
        assert!(err.to_string().contains("10.255.000"), "{err}");
    }

    #[test]
    fn formats() {
        let cases: &[(&str, &str)] = &[
            ("10255000", "10.255.000"),
            ("8.5", "8,5"),
            ("99.96", "99,96"),
            ("70.0", "70,0"),
            ("-2.68", "-2,68"),
            ("2286", "2.286"),
            ("46455", "46.455"),
            ("100", "100"),
            ("1000", "1.000"),
            ("0", "0"),
            ("0.5", "0,5"),
            ("-1234567.891", "-1.234.567,891"),
        ];
        for (input, expected) in cases {
            assert_eq!(format_vn_decimal(&dec(input)), *expected, "format({input})");
        }
    }

    #[test]
    fn round_trips() {
        for s in [
            "10.255.000",
            "8,5",
            "70,0",
            "-2,68",
            "39,16",
            "2.286",
            "1.000,25",
            "0",
        ] {
            let v = parse_vn_decimal(s).expect(s);
            assert_eq!(format_vn_decimal(&v), s);
        }
    }
}
