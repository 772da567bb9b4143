//! Which `JWT_SECRET` values are refused. Whoever knows the HS256 secret can sign any token,
//! admin included, so a secret copied from `.env.example`, a README or a tutorial is a public
//! signing key. `serve` and `chidao token` refuse a secret that is:
//!
//! 1. shorter than 32 bytes;
//! 2. a value published in chidao's own files (the `.env.example` placeholder, today's and
//!    earlier ones);
//! 3. a template: `<…>` (letters, digits, `_ - .` or spaces between the brackets), `${` or `{{`;
//! 4. worded like a placeholder: it contains `change`, `secret`, `example`, `replace`,
//!    `default`, `password`, `placeholder` or `insecure` written in lower case, UPPER CASE or
//!    Capitalised (so `changeme`, `CHANGE_ME`, `MySecretKey`); or one of its parts, split at
//!    anything that is not a letter or a digit, is `your`, `todo` or only `x`s (`your-key-here`,
//!    `xxxx-xxxx`), in any case;
//! 5. made of little: a run of 10 or more of one character, 9 or more consecutive characters
//!    in order (`123456789`, `abcdefghi`, or backwards), fewer than 8 distinct characters, or
//!    a piece of up to 16 characters repeated.
//!
//! Values of `openssl rand -base64 48` (64 characters of A–Z, a–z, 0–9, `+`, `/`) and of
//! `openssl rand -hex 32` pass. They contain none of the characters of rule 3, and rules 4
//! and 5 need a run of specific characters that random output holds by chance less than once
//! in twenty million values (the largest terms: a bounded four-letter part, about 2·10⁻⁸; a
//! six-letter word in one of three cases, 3·59/64⁶ ≈ 2.6·10⁻⁹ each; hex holds no letter of any
//! word). `tests` checks this on 20,000 generated values and on real `openssl` output.

/// The shortest secret accepted, in bytes (HS256 wants a key as long as its 256-bit output).
pub const MIN_SECRET_BYTES: usize = 32;

/// The placeholder `.env.example` carries (which `serve` must refuse, since copying the file
/// is how many deployments start).
pub const ENV_EXAMPLE_SECRET: &str = "change-me-run-openssl-rand-base64-48";

/// Values chidao's files have shown as examples, refused whatever the other rules say.
const PUBLISHED: &[&str] = &[
    ENV_EXAMPLE_SECRET,
    // `.env.example` before the placeholder rule: long enough to be accepted then.
    "replace-with-at-least-32-random-bytes-0000000000",
];

/// How to make a good secret, for every refusal.
pub const HOW_TO_GENERATE: &str = "generate one with `openssl rand -base64 48`";

/// Words that mark a placeholder wherever they stand (in lower case, UPPER CASE or Capitalised).
const WORDS: &[&str] = &[
    "change",
    "secret",
    "example",
    "replace",
    "default",
    "password",
    "placeholder",
    "insecure",
];

/// Short words that mark a placeholder when they are a whole part of the value (any case).
const PART_WORDS: &[&str] = &["your", "todo"];

/// Why a secret is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakSecret {
    #[error("JWT_SECRET is {0} bytes long; it must be at least 32 bytes: {HOW_TO_GENERATE}")]
    TooShort(usize),
    #[error("JWT_SECRET is a placeholder ({0}), not a secret: {HOW_TO_GENERATE}")]
    Placeholder(String),
}

/// `Ok` when `secret` may sign tokens; otherwise why not (never repeating the value).
pub fn check(secret: &str) -> Result<(), WeakSecret> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(WeakSecret::TooShort(secret.len()));
    }
    match placeholder_reason(secret) {
        Some(why) => Err(WeakSecret::Placeholder(why)),
        None => Ok(()),
    }
}

/// The rule a value breaks, as a phrase for the message; `None` for a value that may be a secret.
fn placeholder_reason(s: &str) -> Option<String> {
    if PUBLISHED.contains(&s) {
        return Some("the value published in chidao's .env.example".into());
    }
    if s.contains("${") || s.contains("{{") || has_angle_template(s) {
        return Some("a template such as <…>, ${…} or {{…}}".into());
    }
    for word in WORDS {
        for form in [word.to_string(), word.to_uppercase(), capitalised(word)] {
            if s.contains(&form) {
                return Some(format!("it contains the word '{word}'"));
            }
        }
    }
    for part in s.split(|c: char| !c.is_alphanumeric()) {
        let lower = part.to_lowercase();
        if PART_WORDS.contains(&lower.as_str()) {
            return Some(format!("it contains the word '{lower}'"));
        }
        if part.chars().count() >= 3 && lower.chars().all(|c| c == 'x') {
            return Some("it contains a run of x".into());
        }
    }
    let chars: Vec<char> = s.chars().collect();
    if longest(&chars, |a, b| a == b) >= 10 {
        return Some("one character repeated 10 times or more".into());
    }
    let step = |d: i64| move |a: char, b: char| i64::from(u32::from(b)) - i64::from(u32::from(a)) == d;
    if longest(&chars, step(1)) >= 9 || longest(&chars, step(-1)) >= 9 {
        return Some("a sequence such as 123456789 or abcdefghi".into());
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 8 {
        return Some("fewer than 8 different characters".into());
    }
    if (1..=16.min(chars.len() / 2)).any(|p| chars.iter().skip(p).zip(&chars).all(|(a, b)| a == b)) {
        return Some("a short piece repeated".into());
    }
    None
}

/// `<` then at least two of letters, digits, `_ - .` or spaces, then `>`: `<your-secret>`.
fn has_angle_template(s: &str) -> bool {
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let inside: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
            .collect();
        if inside.chars().count() >= 2 && after[inside.len()..].starts_with('>') {
            return true;
        }
        rest = after;
    }
    false
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The length of the longest stretch in which each character relates to the one before by `rel`.
fn longest(chars: &[char], rel: impl Fn(char, char) -> bool) -> usize {
    let (mut best, mut run) = (usize::from(!chars.is_empty()), 1);
    for w in chars.windows(2) {
        run = if rel(w[0], w[1]) { run + 1 } else { 1 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        check(s).is_err()
    }

    #[test]
    fn the_rule_as_a_table() {
        // (value, refused?)
        let table: &[(&str, bool)] = &[
            // 1. length
            ("Zk3pQ9vX2mR7tL4wB8nC6yH1", true),
            // 2. published values
            (ENV_EXAMPLE_SECRET, true),
            ("replace-with-at-least-32-random-bytes-0000000000", true),
            // 3. templates
            ("<your-jwt-signing-key-goes-in-here-please>", true),
            ("Qh7Lm2Zr9Wx4Kc8<jwt key>Pt3Vn6Bf1Gd5Sj0Ya", true),
            ("${JWT_SECRET_FROM_THE_VAULT_AT_DEPLOY_TIME}", true),
            ("{{ vault.jwt_signing_material_for_chidao }}", true),
            // 4. words, in the three cases
            ("changemechangemechangemechangeme12", true),
            ("CHANGE_ME_BEFORE_GOING_TO_PRODUCTION_2025", true),
            ("ThisIsMySecretKeyForChidaoTokens2025!!", true),
            ("chidao-test-secret-0123456789abcdef", true),
            ("an-example-value-for-the-documentation", true),
            ("please-replace-this-with-real-randomness", true),
            ("laocai-default-jwt-signing-key-2025-v1", true),
            ("Password-for-chidao-tokens-lao-cai-2025", true),
            ("placeholder-value-until-vault-is-ready", true),
            ("insecure-dev-only-key-do-not-use-anywhere", true),
            ("your-jwt-signing-key-here-thirty-two-b", true),
            ("YOUR_JWT_SIGNING_KEY_HERE_THIRTY_TWO_B", true),
            ("todo:put-the-real-jwt-key-in-vault-now!", true),
            ("jwt-key-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-9", true),
            ("XXXXXXXX-laocai-chidao-jwt-signing-2025", true),
            // 5. little variety
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true),
            ("Lc-jwt-key-0000000000-tinh-lao-cai-2025", true),
            ("0123456789abcdef0123456789abcdef", true),
            ("zyxwvutsrqp-tinh-lao-cai-chidao-jwt-2025", true),
            ("abababababababababababababababababababab", true),
            ("Kp3!Kp3!Kp3!Kp3!Kp3!Kp3!Kp3!Kp3!Kp3!Kp3!", true),
            ("abcd1234wxyz5678abcd1234wxyz5678abcd1234", true),
            // Real secrets, typed or generated, pass.
            ("k2WJ3mH8sdPq0vXb4yL6tZr9cN1fGu7eAo5iKwEx", false),
            ("Tinh-Lao-Cai:chi-dao/2025#Quy-IV!nhiem-vu", false),
            (
                "3f9a1c7e0b2d4f6a8c9e1b3d5f7a9c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a",
                false,
            ),
            // The short words count only as a whole part: inside a longer one they do not.
            ("yourself-toddler-xylophone-cluster-42", false),
        ];
        for (value, expect) in table {
            assert_eq!(refused(value), *expect, "{value}: {:?}", check(value));
        }
    }

    #[test]
    fn refusals_say_how_to_generate_a_secret_and_do_not_repeat_it() {
        for value in ["short", ENV_EXAMPLE_SECRET, "your-secret-key-for-jwt-tokens-here"] {
            let message = check(value).expect_err("refused").to_string();
            assert!(message.contains("openssl rand -base64 48"), "{message}");
            assert!(!message.contains(value), "{message}");
        }
    }

    /// Real output of `openssl rand -base64 48`, `-base64 32` and `-hex 32`.
    #[test]
    fn real_openssl_values_pass() {
        for value in [
            "HHuCNjqitvdpdVv8hB4a3XI6MB4qcZ10r59LGK/Qgi/F768XKCV+fDXgc+NQbr5v",
            "P1zU1DxwuZQ+aziIguHzlI4IUybUv7K7S5ME+zQ1nRcD3cB6qRzMsjMbxJNwb4AJ",
            "bvxC2gwyj5DrhRJhtH0sdj3MNX6YOkBnTJfgAUgFxjy19LwZvDUWJZdUcay5CNoK",
            "Ep3pDhMMQ12TTyP+okzNUl2SFFyht4smJXbU2rM625Q=",
            "6c522e83bc2960fbca4092bd33dc47a2af81ebe3edb5b9b8bfd3782abac1235d",
            "81f33a931123744795cd48804cb081ed661c8c2487e837937cc1664dbb00ff75",
        ] {
            assert_eq!(check(value), Ok(()), "{value}");
        }
    }

    /// Values shaped exactly like `openssl rand -base64 48` and `-hex 32` output, from a fixed
    /// seed (so the test is the same every run), all pass.
    #[test]
    fn generated_values_of_openssl_shape_pass() {
        use base64::Engine;
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x6368_6964_616f);
        for _ in 0..10_000 {
            let bytes: [u8; 48] = rng.random();
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            assert_eq!(check(&b64), Ok(()), "{b64}");
            let hex: String = bytes[..32].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(check(&hex), Ok(()), "{hex}");
        }
    }
}
