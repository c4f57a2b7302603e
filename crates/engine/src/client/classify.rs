//! Classification of an answer into an outcome, as pure functions of the answer: the failure
//! statuses, the validator an answer carries and what the user should know about it, the body
//! as a received document, and a readable detail from an error body.
//!
//! Must never: put the server's words into an outcome unredacted, or cut them before redacting
//! (`Auth::excerpt`): a secret the server echoed, in any spelling, never reaches a detail, a
//! challenge or a redirect target in whole or in part.

use super::auth::Auth;
use super::transport::Answer;
use crate::etag::{EntityTag, EtagError};
use crate::outcome::{AnswerProblem, Outcome, Received};
use crate::precondition::{Precondition, Validator};
use reqwest::header::HeaderMap;

/// The outcome of an answer that is not a success: a conflict when its status is one of
/// `conflict_statuses` (with a hint when the precondition explains it), else by status.
pub(super) fn failure(
    a: &Answer,
    pre: Option<&Precondition>,
    conflict_statuses: &[u16],
    auth: &Auth,
) -> Outcome {
    let status = a.status.as_u16();
    if conflict_statuses.contains(&status) {
        let hint = match pre {
            Some(Precondition::IfMatch(t)) if t.weak => Some(format!(
                "The validator {} is a weak ETag; RFC 9110 requires servers to refuse \
                 If-Match with a weak tag, so every conditional write to this server will be \
                 refused this way. Use a connection dialect that carries the version \
                 elsewhere (a body revision field), or ask the API's owners for strong ETags.",
                t.raw
            )),
            Some(Precondition::IfNoneMatchAny) => {
                Some("(The resource already exists: a create never overwrites.)".to_string())
            }
            _ => None,
        };
        return Outcome::Conflict { status, hint };
    }
    match status {
        401 => Outcome::Unauthorized {
            challenge: a
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(|c| auth.redact(c)),
        },
        403 => Outcome::Forbidden,
        404 => Outcome::NotFound,
        410 => Outcome::Gone,
        428 => Outcome::PreconditionRequired,
        429 => Outcome::RateLimited {
            retry_after_secs: super::retry::retry_after(&a.headers).map(|d| d.as_secs()),
            attempts: a.attempts,
        },
        503 => Outcome::Unavailable {
            retry_after_secs: super::retry::retry_after(&a.headers).map(|d| d.as_secs()),
            attempts: a.attempts,
        },
        300..=399 => Outcome::HttpError {
            status,
            detail: match a.headers.get("location") {
                Some(loc) => format!(
                    "the server redirected the request to {}, which ifmatch does not \
                     follow for a write (it would change the method or drop the \
                     precondition); point the connection at that URL instead",
                    redact_location(&super::transport::latin1_text(loc.as_bytes()), auth)
                ),
                None => "a redirect without a Location".into(),
            },
        },
        500..=599 => Outcome::ServerError {
            status,
            detail: error_detail(&a.body, auth),
            may_have_landed: false,
        },
        _ => Outcome::HttpError {
            status,
            detail: error_detail(&a.body, auth),
        },
    }
}

/// The validator an answer carries: a parseable ETag first, else Last-Modified. The second value
/// is the raw ETag and why it is unusable, when it was present but is no entity tag.
pub(super) fn validator_of(h: &HeaderMap) -> (Option<Validator>, Option<(String, EtagError)>) {
    let mut garbled = None;
    if let Some(raw) = h.get("etag") {
        // Latin-1: one char per byte, so obs-text (RFC 9110 allows bytes 0x80-0xFF) goes back
        // byte for byte (`transport` encodes it the same way).
        let text = super::transport::latin1_text(raw.as_bytes());
        match EntityTag::parse(&text) {
            Ok(tag) => return (Some(Validator::Etag { tag }), None),
            Err(e) => garbled = Some((text, e)),
        }
    }
    if let Some(lm) = h.get("last-modified").and_then(|v| v.to_str().ok()) {
        if httpdate::parse_http_date(lm).is_ok() {
            return (
                Some(Validator::LastModified {
                    raw: lm.to_string(),
                }),
                garbled,
            );
        }
    }
    (None, garbled)
}

/// What the user should know about the validator `v` an answer carried (headers `h`), in words.
pub(super) fn validator_warnings(v: Option<&Validator>, h: &HeaderMap) -> Vec<String> {
    let mut w = vec![];
    let (_, garbled) = validator_of(h);
    if let Some((raw, why)) = &garbled {
        w.push(format!(
            "The server sent the ETag {raw:?}, which is not an entity tag ({why}), so it cannot \
             be sent back; it was ignored."
        ));
    }
    match v {
        Some(Validator::Etag { tag }) => {
            if tag.weak {
                w.push(format!(
                    "The server's ETag {} is weak. RFC 9110 requires servers to refuse If-Match \
                     with a weak tag, so a compliant server will refuse every save; some servers \
                     accept it anyway.",
                    tag.raw
                ));
            }
            if !tag.quoted {
                w.push(format!(
                    "The server's ETag {} has no double quotes (RFC 9110 requires them); it is \
                     sent back exactly as received.",
                    tag.raw
                ));
            }
        }
        Some(Validator::LastModified { .. }) => w.push(
            "The server gives no ETag, only Last-Modified: saves use If-Unmodified-Since, which \
             has one-second granularity (two changes within one second look the same)."
                .into(),
        ),
        None if garbled.is_some() => w.push(
            "With no usable ETag and no Last-Modified, saves cannot be conditional, so another \
             change in the meantime could be overwritten."
                .into(),
        ),
        None => w.push(
            "The server gives no validator (no ETag, no Last-Modified): saves cannot be \
             conditional, so another change in the meantime could be overwritten."
                .into(),
        ),
    }
    w
}

/// A success answer's body as a received document (with its validator), or why it cannot be used
/// (quoting the start of a body that is no JSON, redacted first).
pub(super) fn received(a: &Answer, auth: &Auth) -> Result<Received, Outcome> {
    let text = match std::str::from_utf8(&a.body) {
        Ok(t) => t,
        Err(e) => {
            return Err(Outcome::InvalidResponse {
                problem: AnswerProblem::NotJson,
                detail: format!("the body is not UTF-8 text: {e}"),
            })
        }
    };
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let ct = a
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no Content-Type");
        return Err(Outcome::InvalidResponse {
            problem: AnswerProblem::NotJson,
            detail: format!(
                "{}, {} bytes, starting {:?}; JSON error: {e}",
                auth.excerpt(ct, 100),
                a.body.len(),
                auth.excerpt(text, 60)
            ),
        });
    }
    let (validator, _) = validator_of(&a.headers);
    Ok(Received {
        text: text.to_string(),
        warnings: validator_warnings(validator.as_ref(), &a.headers),
        validator,
    })
}

/// Whether `t` is a JSON text.
pub(super) fn is_json(t: &str) -> bool {
    !t.trim().is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// A redirect's `Location` as an error names it: user info, fragment and secret-looking query
/// values removed (`redact_url`, relative targets too), then the connection's secret.
fn redact_location(loc: &str, auth: &Auth) -> String {
    const BASE: &str = "http://relative.invalid";
    let shown = match reqwest::Url::parse(loc) {
        Ok(u) => crate::trail::redact_url(&u),
        Err(_) => match reqwest::Url::parse(BASE).and_then(|b| b.join(loc)) {
            Ok(u) => {
                let r = crate::trail::redact_url(&u);
                r.strip_prefix(BASE).map(str::to_string).unwrap_or(r)
            }
            Err(_) => loc.to_string(),
        },
    };
    auth.excerpt(&shown, 300)
}

/// A short, readable detail from an error body: a JSON error message if there is one, else the
/// start of the text; the connection's secret redacted before it is cut (`Auth::excerpt`).
pub(super) fn error_detail(body: &[u8], auth: &Auth) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let msg = v
            .pointer("/error/message")
            .or_else(|| v.pointer("/message"))
            .or_else(|| v.pointer("/error"))
            .or_else(|| v.pointer("/detail"))
            .or_else(|| v.pointer("/reason"));
        if let Some(serde_json::Value::String(s)) = msg {
            return auth.excerpt(s, 300);
        }
    }
    let t = text.trim();
    if t.starts_with('<') {
        return String::new(); // an HTML error page says nothing useful in a sentence
    }
    auth.excerpt(t, 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn validators_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("W/\"a\""));
        let (v, g) = validator_of(&h);
        assert!(matches!(v, Some(Validator::Etag { ref tag }) if tag.weak));
        assert!(g.is_none());
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("\"open"));
        h.insert(
            "last-modified",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        let (v, g) = validator_of(&h);
        assert!(matches!(v, Some(Validator::LastModified { .. })));
        assert_eq!(g.map(|(raw, _)| raw).as_deref(), Some("\"open"));
        assert!(validator_warnings(v.as_ref(), &h)
            .iter()
            .any(|w| w.contains("not an entity tag")));
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(br#"{"error":{"message":"bad label"}}"#, &Auth::None),
            "bad label"
        );
        assert_eq!(error_detail(b"<html>oops</html>", &Auth::None), "");
        assert_eq!(error_detail(b"plain words", &Auth::None), "plain words");
    }

    fn answer(status: u16, headers: &[(&'static str, &'static str)], body: &[u8]) -> Answer {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: body.to_vec(),
            attempts: 1,
            retried: None,
        }
    }

    #[test]
    fn failures_by_status_and_dialect() {
        let weak = Precondition::IfMatch(EntityTag::parse("W/\"1\"").unwrap());
        match failure(&answer(412, &[], b""), Some(&weak), &[412], &Auth::None) {
            Outcome::Conflict { status: 412, hint } => {
                assert!(hint.unwrap().contains("weak ETag"))
            }
            other => panic!("{other:?}"),
        }
        // 409 is a conflict only where the dialect says so.
        assert!(matches!(
            failure(&answer(409, &[], b""), None, &[412, 409], &Auth::None),
            Outcome::Conflict { status: 409, .. }
        ));
        assert!(matches!(
            failure(&answer(409, &[], b"{\"message\":\"no\"}"), None, &[412], &Auth::None),
            Outcome::HttpError { status: 409, ref detail } if detail == "no"
        ));
        assert!(matches!(
            failure(&answer(412, &[], b""), Some(&Precondition::IfNoneMatchAny), &[412], &Auth::None),
            Outcome::Conflict { hint: Some(ref h), .. } if h.contains("already exists")
        ));
        assert_eq!(
            failure(&answer(428, &[], b""), None, &[412], &Auth::None),
            Outcome::PreconditionRequired
        );
        assert_eq!(
            failure(
                &answer(503, &[("retry-after", "9")], b""),
                None,
                &[412],
                &Auth::None
            ),
            Outcome::Unavailable {
                retry_after_secs: Some(9),
                attempts: 1
            }
        );
        match failure(
            &answer(302, &[("location", "/elsewhere")], b""),
            None,
            &[412],
            &Auth::None,
        ) {
            Outcome::HttpError {
                status: 302,
                detail,
            } => assert!(detail.contains("/elsewhere")),
            other => panic!("{other:?}"),
        }
    }

    /// A secret echoed after ~150 characters, or in a redirect's target, a challenge or a body
    /// that is no JSON, reaches no outcome in whole or in part (it was cut before redaction).
    #[test]
    fn echoed_secrets_reach_no_outcome() {
        let auth = Auth::Bearer(super::super::auth::Secret::new("tok/abc-0123456789"));
        let pad = "p".repeat(150);
        let leaks = |text: &str| {
            ["tok/", "tok%", "tok\\", "abc-", "0123", "6789"]
                .iter()
                .any(|f| text.contains(f))
        };
        for pad_len in [150usize, 185, 190, 195, 199] {
            let body = format!("{}tok/abc-0123456789 is not valid", &"p".repeat(pad_len));
            let d = error_detail(body.as_bytes(), &auth);
            assert!(!leaks(&d), "{pad_len}: {d}");
            let json = format!(
                r#"{{"message":"{}tok\/abc-0123456789"}}"#,
                "p".repeat(pad_len + 100)
            );
            let d = error_detail(json.as_bytes(), &auth);
            assert!(!leaks(&d), "{pad_len}: {d}");
        }
        let loc = format!("/login?next=%2Fdoc%3Ftoken%3Dtok%252Fabc-0123456789&x={pad}");
        match failure(&answer(302, &[], b""), None, &[412], &auth) {
            Outcome::HttpError { .. } => {}
            other => panic!("{other:?}"),
        }
        let mut a = answer(302, &[], b"");
        a.headers.insert(
            "location",
            reqwest::header::HeaderValue::from_str(&loc).unwrap(),
        );
        match failure(&a, None, &[412], &auth) {
            Outcome::HttpError { detail, .. } => {
                assert!(!leaks(&detail) && detail.contains("/login"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        let mut a = answer(401, &[], b"");
        a.headers.insert(
            "www-authenticate",
            reqwest::header::HeaderValue::from_static(
                r#"Bearer error="invalid_token", token="tok\/abc-0123456789""#,
            ),
        );
        match failure(&a, None, &[412], &auth) {
            Outcome::Unauthorized { challenge: Some(c) } => {
                assert!(!leaks(&c) && c.contains("invalid_token"), "{c}")
            }
            other => panic!("{other:?}"),
        }
        let body = format!("{}tok%2Fabc-0123456789", "<".repeat(50));
        match received(&answer(200, &[], body.as_bytes()), &auth) {
            Err(Outcome::InvalidResponse { detail, .. }) => assert!(!leaks(&detail), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_that_are_not_documents() {
        let html = answer(200, &[("content-type", "text/html")], b"<html>login</html>");
        match received(&html, &Auth::None) {
            Err(Outcome::InvalidResponse { problem, detail }) => {
                assert_eq!(problem, AnswerProblem::NotJson);
                assert!(detail.contains("text/html"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        let ok = answer(200, &[("etag", "\"7\"")], b"{\"a\": 1}");
        let doc = received(&ok, &Auth::None).unwrap();
        assert_eq!(doc.text, "{\"a\": 1}");
        assert_eq!(doc.validator.unwrap().text(), "\"7\"");
    }
}
