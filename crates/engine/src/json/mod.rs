//! JSON as text: a validating tape over borrowed text (`tape`), the canonical pretty printer
//! (`print`), and value comparison that never loses a number's or a string's spelling.

pub mod eq;
pub mod print;
pub mod tape;

use std::borrow::Cow;

/// The hasher of the maps keyed by document text (member names, element ids): foldhash, seeded
/// per process. SipHash (std's default) was a third of a wide object's merge; a per-process seed
/// still keeps a server from crafting names that collide.
pub type FastHash = foldhash::fast::RandomState;
pub use eq::{same_nodes, same_number, same_text, same_value};
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

/// Checks a document a user is about to send: valid JSON (RFC 8259, duplicate member names
/// refused, since servers disagree on which one wins) and no lone UTF-16 surrogate escape such
/// as `"\ud800"` (legal syntax, but no Unicode character: servers reject it or store something
/// else, RFC 8259 §8.2). Documents read from a server are only parsed (`Doc::parse`), never
/// refused for a surrogate.
pub fn check_document(text: &str) -> Result<Doc<'_>, JsonError> {
    let doc = Doc::parse(text)?;
    match lone_surrogate(text) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |p| p + 1);
            Err(JsonError {
                message: format!(
                    "the escape {} is a lone UTF-16 surrogate, not a Unicode character (servers \
                     reject it or store something else)",
                    &text[at..at + 6]
                ),
                line,
                column: text[line_start..at].chars().count() + 1,
            })
        }
        None => Ok(doc),
    }
}

/// The byte offset of the first lone surrogate escape in valid JSON `text`. Backslashes occur
/// only inside strings there, so one pass over the escapes suffices.
fn lone_surrogate(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let hex = |at: usize| -> Option<u16> {
        let digits = b.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'\\') {
        let at = i + p;
        if b.get(at + 1) != Some(&b'u') {
            i = at + 2;
            continue;
        }
        let unit = hex(at + 2)?;
        match unit {
            0xD800..=0xDBFF => {
                let low = (b.get(at + 6) == Some(&b'\\') && b.get(at + 7) == Some(&b'u'))
                    .then(|| hex(at + 8))
                    .flatten();
                if !matches!(low, Some(0xDC00..=0xDFFF)) {
                    return Some(at);
                }
                i = at + 12;
            }
            0xDC00..=0xDFFF => return Some(at),
            _ => i = at + 6,
        }
    }
    None
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
    fn lone_surrogates_are_refused_pairs_are_not() {
        use super::check_document as check;
        assert!(check(r#"{"s": "\ud83d\ude00 ok"}"#).is_ok());
        assert!(check(r#"{"s": "\\ud800 is text"}"#).is_ok());
        let e = check("{\n  \"s\": \"x\\ud800\"}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 10));
        assert!(e.message.contains("\\ud800"), "{}", e.message);
        assert!(check(r#"["\udc00"]"#).is_err());
        assert!(check(r#"["\ud800\u0041"]"#).is_err());
        assert!(check(r#"{"a": 1, "a": 2}"#).is_err());
    }

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
