//! JSON as text: a validating tape over borrowed text (`tape`), the canonical pretty printer
//! (`print`), and value comparison that never loses a number's or a string's spelling.

pub mod print;
pub mod tape;

use std::borrow::Cow;
pub use tape::{Doc, JsonError, Kind};

/// A JSON number as (negative, significant digits without leading or trailing zeros, exponent of
/// the last digit); zero is (false, "", 0).
pub fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = int.chars().chain(frac.chars()).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut exp = exp.checked_sub(frac.len() as i64)?;
    let trimmed_end = digits.trim_end_matches('0');
    exp = exp.checked_add((digits.len() - trimmed_end.len()) as i64)?;
    let significant = trimmed_end.trim_start_matches('0').to_string();
    if significant.is_empty() {
        return Some((false, String::new(), 0));
    }
    Some((negative, significant, exp))
}

/// A scalar's identity, whatever its spelling: numbers by value (`1` = `1.0` = `1e0`), strings
/// by their characters (`"a"` = `"\u0061"`); other text as written. For matching array elements
/// by an identity key, so the same id written two ways is one element, not two.
pub fn scalar_identity<'a>(kind: Kind, span: &'a str) -> Cow<'a, str> {
    match kind {
        Kind::Number => match decimal(span) {
            Some((negative, digits, exp)) => {
                Cow::Owned(format!("{}{digits}e{exp}", if negative { "-" } else { "" }))
            }
            None => Cow::Borrowed(span),
        },
        Kind::String if span.contains('\\') => match serde_json::from_str::<String>(span) {
            Ok(s) => Cow::Owned(serde_json::to_string(&s).expect("a string serialises")),
            Err(_) => Cow::Borrowed(span),
        },
        _ => Cow::Borrowed(span),
    }
}

/// RFC 6901: escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn pointer_token(key: &str, out: &mut String) {
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// RFC 6901: splits a pointer into unescaped tokens ("" is the whole document).
pub fn pointer_tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(vec![]);
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn identities_ignore_spelling() {
        use super::{scalar_identity as id, Kind};
        assert_eq!(id(Kind::Number, "1"), id(Kind::Number, "1.0"));
        assert_eq!(id(Kind::Number, "100"), id(Kind::Number, "1e2"));
        assert_ne!(id(Kind::Number, "1"), id(Kind::Number, "10"));
        assert_eq!(
            id(Kind::String, "\"a_b\""),
            id(Kind::String, "\"a\\u005fb\"")
        );
        assert_ne!(id(Kind::String, "\"a\""), id(Kind::String, "\"b\""));
    }
}
