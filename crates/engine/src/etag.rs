//! Entity tags (RFC 9110 §8.8.3) and the two ways of comparing them (§8.8.3.2).
//!
//! Owns: parsing a received `ETag` value, parsing `If-Match` / `If-None-Match` field values
//! (`*` or a comma-separated list), strong and weak comparison.
//!
//! Must never: normalise a validator it will send back. A tag is echoed byte for byte as the server
//! sent it (`raw`), because some servers compare the header text, not the parsed tag. Unquoted
//! values, which RFC 9110 does not allow but some servers send, are tolerated and marked.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One entity tag as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityTag {
    /// The field value exactly as received (surrounding whitespace trimmed): what we send back.
    pub raw: String,
    /// `W/` prefix present.
    pub weak: bool,
    /// The characters between the quotes (or the whole value when unquoted).
    pub opaque: String,
    /// False when the server sent a value without the double quotes RFC 9110 requires.
    pub quoted: bool,
}

/// Why a value is not an entity tag at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EtagError {
    /// Nothing, or only whitespace.
    #[error("the entity tag is empty")]
    Empty,
    /// An opening quote without a closing one.
    #[error("the entity tag {0:?} has an opening quote but no closing quote")]
    Unterminated(String),
    /// A character RFC 9110 does not allow inside an entity tag.
    #[error("the entity tag {0:?} contains a character not allowed in an entity tag")]
    BadCharacter(String),
    /// `*`, which in a request means "any version" and is no entity tag (a validator `*` sent
    /// back in If-Match would match every version: a lost update).
    #[error("\"*\" is not an entity tag (in If-Match it would match any version)")]
    Wildcard,
    /// A list of tags where one was expected (`"a", "b"` in one ETag header).
    #[error("{0:?} holds several entity tags where one belongs")]
    Several(String),
}

fn is_etagc(b: u8) -> bool {
    // etagc = %x21 / %x23-7E / obs-text
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

impl EntityTag {
    /// A strong tag `"opaque"` (for servers and tests).
    pub fn strong(opaque: &str) -> Self {
        EntityTag {
            raw: format!("\"{opaque}\""),
            weak: false,
            opaque: opaque.to_string(),
            quoted: true,
        }
    }

    /// A weak tag `W/"opaque"`.
    pub fn weak(opaque: &str) -> Self {
        EntityTag {
            raw: format!("W/\"{opaque}\""),
            weak: true,
            opaque: opaque.to_string(),
            quoted: true,
        }
    }

    /// Parses a single `ETag` field value as a server sent it. Tolerates an unquoted value
    /// (`abc123`, seen from real servers) and a lower-case `w/` prefix.
    pub fn parse(value: &str) -> Result<Self, EtagError> {
        let raw = value.trim();
        if raw.is_empty() {
            return Err(EtagError::Empty);
        }
        if raw == "*" {
            return Err(EtagError::Wildcard);
        }
        let (tag, rest) = parse_one(raw)?;
        if rest.trim_start().starts_with(',') {
            return Err(EtagError::Several(raw.to_string()));
        }
        if !rest.trim().is_empty() {
            return Err(EtagError::BadCharacter(raw.to_string()));
        }
        Ok(tag)
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong and the opaque parts identical.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// Weak comparison: opaque parts identical, weakness ignored.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Parses one tag at the start of `s`; returns it and the unparsed rest.
fn parse_one(s: &str) -> Result<(EntityTag, &str), EtagError> {
    let start = s;
    let (weak, body) = if let Some(b) = s.strip_prefix("W/").or_else(|| s.strip_prefix("w/")) {
        (true, b)
    } else {
        (false, s)
    };
    if let Some(inner) = body.strip_prefix('"') {
        let Some(end) = inner.find('"') else {
            return Err(EtagError::Unterminated(start.to_string()));
        };
        let opaque = &inner[..end];
        if !opaque.bytes().all(is_etagc) {
            return Err(EtagError::BadCharacter(start.to_string()));
        }
        let consumed = (s.len() - body.len()) + 1 + end + 1;
        let raw = &s[..consumed];
        Ok((
            EntityTag {
                raw: raw.to_string(),
                weak,
                opaque: opaque.to_string(),
                quoted: true,
            },
            &s[consumed..],
        ))
    } else {
        // Unquoted: everything up to a comma or whitespace.
        let end = body
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(body.len());
        let opaque = &body[..end];
        if opaque.is_empty() {
            return Err(EtagError::Empty);
        }
        if !opaque.bytes().all(|b| is_etagc(b) && b != b'"') {
            return Err(EtagError::BadCharacter(start.to_string()));
        }
        let consumed = (s.len() - body.len()) + end;
        Ok((
            EntityTag {
                raw: s[..consumed].to_string(),
                weak,
                opaque: opaque.to_string(),
                quoted: false,
            },
            &s[consumed..],
        ))
    }
}

/// The value of an `If-Match` or `If-None-Match` field: `*` or a list of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    /// `*`: any current version.
    Any,
    /// One or more entity tags.
    Tags(Vec<EntityTag>),
}

impl TagList {
    /// Parses `*` or `#entity-tag` (RFC 9110 §13.1.1). Tags may contain commas inside quotes, so
    /// the list is scanned, not split.
    pub fn parse(value: &str) -> Result<Self, EtagError> {
        let v = value.trim();
        if v == "*" {
            return Ok(TagList::Any);
        }
        let mut tags = Vec::new();
        let mut rest = v;
        loop {
            rest = rest.trim_start_matches([',', ' ', '\t']);
            if rest.is_empty() {
                break;
            }
            let (tag, after) = parse_one(rest)?;
            tags.push(tag);
            let after = after.trim_start_matches([' ', '\t']);
            if !after.is_empty() && !after.starts_with(',') {
                return Err(EtagError::BadCharacter(v.to_string()));
            }
            rest = after;
        }
        if tags.is_empty() {
            return Err(EtagError::Empty);
        }
        Ok(TagList::Tags(tags))
    }

    /// `If-Match` semantics: `*` matches any current representation; otherwise strong comparison.
    pub fn matches_strong(&self, current: Option<&EntityTag>) -> bool {
        match (self, current) {
            (_, None) => false,
            (TagList::Any, Some(_)) => true,
            (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| t.strong_eq(cur)),
        }
    }

    /// `If-None-Match` semantics: `*` matches any current representation; otherwise weak comparison.
    pub fn matches_weak(&self, current: Option<&EntityTag>) -> bool {
        match (self, current) {
            (_, None) => false,
            (TagList::Any, Some(_)) => true,
            (TagList::Tags(tags), Some(cur)) => tags.iter().any(|t| t.weak_eq(cur)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_tags() {
        // (input, weak, opaque, quoted, raw)
        let cases: &[(&str, bool, &str, bool, &str)] = &[
            ("\"xyzzy\"", false, "xyzzy", true, "\"xyzzy\""),
            ("W/\"xyzzy\"", true, "xyzzy", true, "W/\"xyzzy\""),
            ("\"\"", false, "", true, "\"\""),
            ("w/\"lower\"", true, "lower", true, "w/\"lower\""),
            ("abc123", false, "abc123", false, "abc123"),
            ("W/abc", true, "abc", false, "W/abc"),
            (
                "\"5d8-5b2c,1\"",
                false,
                "5d8-5b2c,1",
                true,
                "\"5d8-5b2c,1\"",
            ),
            ("  \"padded\"\t", false, "padded", true, "\"padded\""),
        ];
        for (input, weak, opaque, quoted, raw) in cases {
            let t = EntityTag::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(t.weak, *weak, "{input}");
            assert_eq!(t.opaque, *opaque, "{input}");
            assert_eq!(t.quoted, *quoted, "{input}");
            assert_eq!(t.raw, *raw, "{input}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "   ",
            "\"a b\"",
            "\"open",
            "W/\"open",
            "\"a\" junk",
            "\"a\"b\"",
        ] {
            assert!(EntityTag::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn comparison_table_rfc9110_8_8_3_2() {
        // The table of RFC 9110 §8.8.3.2.
        let cases = [
            ("W/\"1\"", "W/\"1\"", false, true),
            ("W/\"1\"", "W/\"2\"", false, false),
            ("W/\"1\"", "\"1\"", false, true),
            ("\"1\"", "\"1\"", true, true),
        ];
        for (a, b, strong, weak) in cases {
            let a = EntityTag::parse(a).unwrap();
            let b = EntityTag::parse(b).unwrap();
            assert_eq!(a.strong_eq(&b), strong, "{a} vs {b} strong");
            assert_eq!(a.weak_eq(&b), weak, "{a} vs {b} weak");
            assert_eq!(b.strong_eq(&a), strong, "symmetry");
        }
        // Unquoted and quoted spellings of the same opaque value compare equal.
        assert!(EntityTag::parse("abc")
            .unwrap()
            .strong_eq(&EntityTag::parse("\"abc\"").unwrap()));
    }

    #[test]
    fn parses_lists() {
        assert_eq!(TagList::parse("*").unwrap(), TagList::Any);
        assert_eq!(TagList::parse(" * ").unwrap(), TagList::Any);
        let TagList::Tags(t) = TagList::parse("\"a\", W/\"b\",\"c,d\"").unwrap() else {
            panic!()
        };
        let opaques: Vec<_> = t.iter().map(|t| (t.weak, t.opaque.as_str())).collect();
        assert_eq!(opaques, vec![(false, "a"), (true, "b"), (false, "c,d")]);
        assert!(TagList::parse("").is_err());
        assert!(TagList::parse("\"a\" \"b\"").is_err());
        assert!(TagList::parse(", ,").is_err());
    }

    #[test]
    fn list_matching() {
        let cur = EntityTag::strong("v2");
        let weak_cur = EntityTag::weak("v2");
        let cases: &[(&str, Option<&EntityTag>, bool, bool)] = &[
            // (list, current, If-Match (strong), If-None-Match (weak))
            ("*", Some(&cur), true, true),
            ("*", None, false, false),
            ("\"v1\", \"v2\"", Some(&cur), true, true),
            ("\"v1\"", Some(&cur), false, false),
            ("W/\"v2\"", Some(&cur), false, true),
            ("\"v2\"", Some(&weak_cur), false, true),
            ("\"v2\"", None, false, false),
        ];
        for (list, current, m, nm) in cases {
            let l = TagList::parse(list).unwrap();
            assert_eq!(
                l.matches_strong(*current),
                *m,
                "If-Match {list} vs {current:?}"
            );
            assert_eq!(
                l.matches_weak(*current),
                *nm,
                "If-None-Match {list} vs {current:?}"
            );
        }
    }
}
