//! Preconditions: what a client sends (RFC 9110 §13.1) and how a server evaluates them, in the
//! order of RFC 9110 §13.2.2.
//!
//! Owns: the `Validator` a tab remembers, the `Precondition` a write carries, and `evaluate`, the
//! server-side decision the demo server uses (and the tests pin down against the RFC).
//!
//! Must never: send a weak tag in If-Match silently (it can never match on a compliant server; the
//! client reports why), or compare If-Match weakly.

use crate::etag::{EntityTag, TagList};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// What a tab remembers about the version it loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Validator {
    /// An entity tag, echoed byte for byte.
    Etag {
        /// The tag.
        tag: EntityTag,
    },
    /// Only a Last-Modified date (second granularity: two writes in one second look the same).
    LastModified {
        /// The date exactly as the server sent it.
        raw: String,
    },
}

impl Validator {
    /// The header that revalidates a cached copy made with this validator: If-None-Match with
    /// the tag, or If-Modified-Since with the date.
    pub fn revalidate_header(&self) -> (&'static str, String) {
        match self {
            Validator::Etag { tag } => ("If-None-Match", tag.raw.clone()),
            Validator::LastModified { raw } => ("If-Modified-Since", raw.clone()),
        }
    }

    /// The entity tag, when the validator is one.
    pub fn etag(&self) -> Option<&EntityTag> {
        match self {
            Validator::Etag { tag } => Some(tag),
            Validator::LastModified { .. } => None,
        }
    }

    /// The validator as a script wants it: the ETag exactly as received, or the Last-Modified
    /// sentence.
    pub fn text(&self) -> String {
        match self {
            Validator::Etag { tag } => tag.raw.clone(),
            Validator::LastModified { .. } => self.display(),
        }
    }

    /// The header text, as a user would want to see it.
    pub fn display(&self) -> String {
        match self {
            Validator::Etag { tag } => tag.raw.clone(),
            Validator::LastModified { raw } => format!("Last-Modified {raw}"),
        }
    }

    /// The precondition that makes a write conditional on this version.
    pub fn precondition(&self) -> Precondition {
        match self {
            Validator::Etag { tag } => Precondition::IfMatch(tag.clone()),
            Validator::LastModified { raw } => Precondition::IfUnmodifiedSince(raw.clone()),
        }
    }
}

/// The precondition a request carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Precondition {
    /// Unconditional: only when the user explicitly chose to overwrite.
    None,
    /// `If-Match: <tag>` — write only if the server still has this version.
    IfMatch(EntityTag),
    /// `If-None-Match: *` — create only if nothing is there.
    IfNoneMatchAny,
    /// `If-Unmodified-Since: <date>` — the fallback when the server gives no ETag.
    IfUnmodifiedSince(String),
}

impl Precondition {
    /// The header (name, value) pairs to send.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Precondition::None => vec![],
            Precondition::IfMatch(t) => vec![("If-Match", t.raw.clone())],
            Precondition::IfNoneMatchAny => vec![("If-None-Match", "*".to_string())],
            Precondition::IfUnmodifiedSince(d) => vec![("If-Unmodified-Since", d.clone())],
        }
    }
}

/// The request's conditional header fields, as a server received them.
#[derive(Debug, Clone, Default)]
pub struct Conditions<'a> {
    /// `If-Match`.
    pub if_match: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a str>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a str>,
}

impl Conditions<'_> {
    /// Whether any conditional field is present.
    pub fn any(&self) -> bool {
        self.if_match.is_some()
            || self.if_none_match.is_some()
            || self.if_unmodified_since.is_some()
    }
}

/// The selected representation's validators (None: the resource does not exist).
#[derive(Debug, Clone)]
pub struct Current<'a> {
    /// Its entity tag, if it has one.
    pub etag: Option<&'a EntityTag>,
    /// Its last modification time, if known.
    pub last_modified: Option<SystemTime>,
}

/// The server's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    /// Perform the method.
    Proceed,
    /// 412 Precondition Failed.
    PreconditionFailed,
    /// 304 Not Modified (GET / HEAD only).
    NotModified,
    /// A conditional header field was not parseable: 400 would be reasonable; we treat an
    /// unparseable If-Match as failing (safer than ignoring it).
    Malformed,
}

fn parse_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// Evaluates preconditions in the order of RFC 9110 §13.2.2 (range steps omitted).
pub fn evaluate(method: &str, c: &Conditions<'_>, current: Option<&Current<'_>>) -> Evaluation {
    let get_or_head = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    let cur_tag = current.and_then(|c| c.etag);
    // Step 1: If-Match.
    if let Some(im) = c.if_match {
        let Ok(list) = TagList::parse(im) else {
            return Evaluation::Malformed;
        };
        let matched = match list {
            TagList::Any => current.is_some(),
            ref l => l.matches_strong(cur_tag),
        };
        if !matched {
            return Evaluation::PreconditionFailed;
        }
    } else if let Some(ius) = c.if_unmodified_since {
        // Step 2: only when If-Match is absent; an invalid date is ignored (§13.1.4).
        if let (Some(date), Some(lm)) = (parse_date(ius), current.and_then(|c| c.last_modified)) {
            if lm > date {
                return Evaluation::PreconditionFailed;
            }
        }
    }
    // Step 3: If-None-Match.
    if let Some(inm) = c.if_none_match {
        let Ok(list) = TagList::parse(inm) else {
            return Evaluation::Malformed;
        };
        let matched = match list {
            TagList::Any => current.is_some(),
            ref l => l.matches_weak(cur_tag),
        };
        if matched {
            return if get_or_head {
                Evaluation::NotModified
            } else {
                Evaluation::PreconditionFailed
            };
        }
    } else if get_or_head {
        // Step 4: If-Modified-Since, only for GET/HEAD and only without If-None-Match.
        if let (Some(ims), Some(lm)) = (c.if_modified_since, current.and_then(|c| c.last_modified))
        {
            if let Some(date) = parse_date(ims) {
                if lm <= date {
                    return Evaluation::NotModified;
                }
            }
        }
    }
    Evaluation::Proceed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc9110_13_2_2_order() {
        let tag = EntityTag::strong("v2");
        let weak = EntityTag::weak("v2");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let before = httpdate::fmt_http_date(t0 - Duration::from_secs(60));
        let after = httpdate::fmt_http_date(t0 + Duration::from_secs(60));
        let exact = httpdate::fmt_http_date(t0);
        let cur = Current {
            etag: Some(&tag),
            last_modified: Some(t0),
        };
        let cur_weak = Current {
            etag: Some(&weak),
            last_modified: Some(t0),
        };
        use Evaluation::*;
        struct Case<'a> {
            name: &'a str,
            method: &'a str,
            c: Conditions<'a>,
            current: Option<&'a Current<'a>>,
            want: Evaluation,
        }
        let c = |im: Option<&'static str>, inm: Option<&'static str>| Conditions {
            if_match: im,
            if_none_match: inm,
            ..Default::default()
        };
        let cases = vec![
            Case {
                name: "no conditions",
                method: "PUT",
                c: c(None, None),
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Match same",
                method: "PUT",
                c: c(Some("\"v2\""), None),
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Match stale",
                method: "PUT",
                c: c(Some("\"v1\""), None),
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "If-Match list containing current",
                method: "PUT",
                c: c(Some("\"v1\", \"v2\""), None),
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "weak tag in If-Match fails",
                method: "PUT",
                c: c(Some("W/\"v2\""), None),
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "If-Match against weak current fails",
                method: "PUT",
                c: c(Some("\"v2\""), None),
                current: Some(&cur_weak),
                want: PreconditionFailed,
            },
            Case {
                name: "If-Match * existing",
                method: "PUT",
                c: c(Some("*"), None),
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Match * missing",
                method: "PUT",
                c: c(Some("*"), None),
                current: None,
                want: PreconditionFailed,
            },
            Case {
                name: "If-Match on missing resource",
                method: "DELETE",
                c: c(Some("\"v2\""), None),
                current: None,
                want: PreconditionFailed,
            },
            Case {
                name: "If-None-Match * missing: create",
                method: "PUT",
                c: c(None, Some("*")),
                current: None,
                want: Proceed,
            },
            Case {
                name: "If-None-Match * existing: 412",
                method: "PUT",
                c: c(None, Some("*")),
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "GET If-None-Match same: 304",
                method: "GET",
                c: c(None, Some("\"v2\"")),
                current: Some(&cur),
                want: NotModified,
            },
            Case {
                name: "GET If-None-Match weak comparison: 304",
                method: "GET",
                c: c(None, Some("W/\"v2\"")),
                current: Some(&cur),
                want: NotModified,
            },
            Case {
                name: "HEAD If-None-Match same: 304",
                method: "HEAD",
                c: c(None, Some("\"v2\"")),
                current: Some(&cur),
                want: NotModified,
            },
            Case {
                name: "GET If-None-Match other: 200",
                method: "GET",
                c: c(None, Some("\"v1\"")),
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "PUT If-None-Match matching tag: 412",
                method: "PUT",
                c: c(None, Some("\"v2\"")),
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "If-Match ok then If-None-Match matches: 304 for GET",
                method: "GET",
                c: c(Some("\"v2\""), Some("\"v2\"")),
                current: Some(&cur),
                want: NotModified,
            },
            Case {
                name: "If-Match fails before If-None-Match",
                method: "GET",
                c: c(Some("\"v1\""), Some("\"v2\"")),
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "malformed If-Match",
                method: "PUT",
                c: c(Some("\"open"), None),
                current: Some(&cur),
                want: Malformed,
            },
            Case {
                name: "If-Unmodified-Since older than Last-Modified: 412",
                method: "PUT",
                c: Conditions {
                    if_unmodified_since: Some(before.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: PreconditionFailed,
            },
            Case {
                name: "If-Unmodified-Since equal: proceed",
                method: "PUT",
                c: Conditions {
                    if_unmodified_since: Some(exact.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Unmodified-Since later: proceed",
                method: "PUT",
                c: Conditions {
                    if_unmodified_since: Some(after.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Unmodified-Since invalid date is ignored",
                method: "PUT",
                c: Conditions {
                    if_unmodified_since: Some("yesterday-ish"),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Match takes precedence over a failing If-Unmodified-Since",
                method: "PUT",
                c: Conditions {
                    if_match: Some("\"v2\""),
                    if_unmodified_since: Some(before.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Modified-Since not modified: 304",
                method: "GET",
                c: Conditions {
                    if_modified_since: Some(after.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: NotModified,
            },
            Case {
                name: "If-Modified-Since modified: 200",
                method: "GET",
                c: Conditions {
                    if_modified_since: Some(before.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-None-Match takes precedence over If-Modified-Since",
                method: "GET",
                c: Conditions {
                    if_none_match: Some("\"v1\""),
                    if_modified_since: Some(after.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
            Case {
                name: "If-Modified-Since ignored for PUT",
                method: "PUT",
                c: Conditions {
                    if_modified_since: Some(after.as_str()),
                    ..Default::default()
                },
                current: Some(&cur),
                want: Proceed,
            },
        ];
        for case in cases {
            assert_eq!(
                evaluate(case.method, &case.c, case.current),
                case.want,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn validator_to_precondition() {
        let v = Validator::Etag {
            tag: EntityTag::parse("W/\"x\"").unwrap(),
        };
        assert_eq!(
            v.precondition().headers(),
            vec![("If-Match", "W/\"x\"".to_string())]
        );
        let v = Validator::LastModified {
            raw: "Sun, 06 Nov 1994 08:49:37 GMT".into(),
        };
        assert_eq!(
            v.precondition().headers(),
            vec![(
                "If-Unmodified-Since",
                "Sun, 06 Nov 1994 08:49:37 GMT".to_string()
            )]
        );
        assert_eq!(
            Precondition::IfNoneMatchAny.headers(),
            vec![("If-None-Match", "*".to_string())]
        );
        assert!(Precondition::None.headers().is_empty());
    }
}
