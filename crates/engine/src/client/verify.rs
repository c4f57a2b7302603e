//! Write verification: whether the version a server holds after a write is the one written,
//! compared by meaning (key order ignored).

use super::classify::{is_json, validator_of, validator_warnings};
use super::transport::Answer;
use crate::json::same_text;
use crate::outcome::{Outcome, Received, ValidatorSource};
use crate::precondition::Validator;

/// The outcome of a successful write whose answer carries an ETag: saved, with the server's
/// version (the answer's body when it is the document, else `expected`, the document written).
/// None when the answer has no ETag, or its body is JSON that is not the document — a status
/// object such as `{"ok": true}` — (the version must then be read: `from_read`).
pub(super) fn from_answer(answer: &Answer, expected: Option<&str>) -> Option<Outcome> {
    let (validator, _) = validator_of(&answer.headers);
    let Some(Validator::Etag { .. }) = &validator else {
        return None;
    };
    let text = match std::str::from_utf8(&answer.body) {
        Ok(t) if is_json(t) => match expected {
            Some(exp) if !is_the_document(t, exp) => return None,
            _ => Some(t.to_string()),
        },
        _ => expected.map(str::to_string),
    };
    let doc = text.map(|text| Received {
        text,
        warnings: validator_warnings(validator.as_ref(), &answer.headers),
        validator: validator.clone(),
    });
    Some(Outcome::Saved {
        status: answer.status.as_u16(),
        doc,
        validator_from: ValidatorSource::Response,
    })
}

/// Whether a write's JSON answer `body` is the document written (`expected`), perhaps with the
/// server's own stamps added or values normalised, rather than a status object about the write
/// (`{"ok": true, "id": …}`): the same by meaning, or, for an object, an object holding every
/// member name the document has.
fn is_the_document(body: &str, expected: &str) -> bool {
    if same_text(body, expected) {
        return true;
    }
    let (Ok(b), Ok(e)) = (
        crate::json::Doc::parse(body),
        crate::json::Doc::parse(expected),
    ) else {
        return false;
    };
    use crate::json::Kind;
    b.kind(0) == Kind::Object
        && e.kind(0) == Kind::Object
        && e.children(0).all(|c| b.member(0, &e.key(c)).is_some())
}

/// The outcome of a successful write (answered `status` without an ETag) from the read that
/// followed it: saved with the version read when it is `expected` (or nothing was expected),
/// saved-then-changed when the server holds something else, written-not-confirmed when the read
/// failed (the write itself was acknowledged, and nothing shows the server kept it).
pub(super) fn from_read(status: u16, expected: Option<&str>, fetched: Outcome) -> Outcome {
    match fetched {
        Outcome::Fetched { doc, .. } => {
            if let Some(exp) = expected {
                if !same_text(exp, &doc.text) {
                    return Outcome::SavedThenChanged {
                        status,
                        current: doc,
                    };
                }
            }
            saved_as_read(status, doc)
        }
        failed => Outcome::Unconfirmed {
            status,
            detail: failed.summary(),
        },
    }
}

/// Saved, with the version a read after the write found (and the validator it learnt, if any).
fn saved_as_read(status: u16, doc: Received) -> Outcome {
    let validator_from = if doc.validator.is_some() {
        ValidatorSource::Refetch
    } else {
        ValidatorSource::None
    };
    Outcome::Saved {
        status,
        doc: Some(doc),
        validator_from,
    }
}

/// A write answered `status` (a 5xx, or a conflict after a retried 503) whose outcome `failure`
/// does not say whether it landed, settled by the read that followed: the server holds exactly
/// `expected` → saved (with a warning naming the answer); it holds something else → the failure,
/// a server error saying it was not applied; the read failed too → the failure, a server error
/// saying it may have landed.
pub(super) fn settle(
    status: u16,
    said: &str,
    failure: Outcome,
    expected: &str,
    read: Outcome,
) -> Outcome {
    match (read, failure) {
        (Outcome::Fetched { mut doc, .. }, _) if same_text(expected, &doc.text) => {
            doc.warnings.insert(
                0,
                format!(
                    "The server answered {said} to the write, but a read right after shows it \
                     holds exactly what was sent: the write landed."
                ),
            );
            saved_as_read(status, doc)
        }
        (Outcome::Fetched { .. }, Outcome::ServerError { status, detail, .. }) => {
            Outcome::ServerError {
                status,
                detail: evidence(
                    &detail,
                    "a read right after shows the server does not hold this write: it was not \
                     applied, or another write replaced it at once",
                ),
                may_have_landed: false,
            }
        }
        (read, Outcome::ServerError { status, detail, .. }) if !read.is_success() => {
            Outcome::ServerError {
                status,
                detail: evidence(
                    &detail,
                    "the read to check whether it landed failed too, so it may have landed: \
                     reload before saving again",
                ),
                may_have_landed: true,
            }
        }
        (_, failure) => failure,
    }
}

fn evidence(detail: &str, what: &str) -> String {
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{detail}; {what}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_equality_ignores_key_order_only() {
        assert!(same_text(
            "{\"a\":1,\"b\":[1,2]}",
            "{ \"b\": [1, 2], \"a\": 1 }"
        ));
        assert!(!same_text("{\"b\":[2,1]}", "{\"b\":[1,2]}"));
        assert!(!same_text("{\"a\":1}", "not json"));
    }

    fn answer(headers: &[(&'static str, &'static str)], body: &[u8]) -> Answer {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, reqwest::header::HeaderValue::from_static(v));
        }
        Answer {
            status: reqwest::StatusCode::OK,
            headers: h,
            body: body.to_vec(),
            attempts: 1,
            retried: None,
        }
    }

    fn fetched(text: &str, etag: Option<&str>) -> Outcome {
        Outcome::Fetched {
            doc: Received {
                text: text.into(),
                validator: etag.map(|t| Validator::Etag {
                    tag: crate::EntityTag::parse(t).unwrap(),
                }),
                warnings: vec![],
            },
            from_cache: false,
        }
    }

    #[test]
    fn numbers_compare_by_value_not_spelling() {
        assert!(same_text("{\"p\": 1.50}", "{\"p\": 1.5}"));
        assert!(same_text("[1e2]", "[100.0]"));
        assert!(same_text("[-0]", "[0.0]"));
        assert!(same_text(
            "[12345678901234567890]",
            "[1.234567890123456789e19]"
        ));
        assert!(!same_text(
            "[12345678901234567890]",
            "[12345678901234567891]"
        ));
        assert!(!same_text("[1.5]", "[-1.5]"));
        assert!(!same_text("[0.1]", "[1]"));
    }

    #[test]
    fn an_answer_with_an_etag_is_believed_and_its_body_preferred() {
        assert_eq!(from_answer(&answer(&[], b""), Some("{}")), None);
        match from_answer(&answer(&[("etag", "\"2\"")], b"saved!"), Some("{\"a\":1}")) {
            Some(Outcome::Saved {
                doc: Some(d),
                validator_from: ValidatorSource::Response,
                ..
            }) => assert_eq!(d.text, "{\"a\":1}"),
            other => panic!("{other:?}"),
        }
        match from_answer(
            &answer(&[("etag", "\"2\"")], b"{\"a\":2}"),
            Some("{\"a\":1}"),
        ) {
            Some(Outcome::Saved { doc: Some(d), .. }) => assert_eq!(d.text, "{\"a\":2}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_read_after_a_write_decides_what_landed() {
        // What we wrote, re-spaced and re-ordered: saved, validator learnt by the read.
        assert!(matches!(
            from_read(
                204,
                Some("{\"a\":1,\"b\":2}"),
                fetched("{ \"b\": 2, \"a\": 1 }", Some("\"3\""))
            ),
            Outcome::Saved {
                status: 204,
                doc: Some(_),
                validator_from: ValidatorSource::Refetch
            }
        ));
        // Something else: somebody wrote in between.
        assert!(matches!(
            from_read(204, Some("{\"a\":1}"), fetched("{\"a\":9}", Some("\"3\""))),
            Outcome::SavedThenChanged { status: 204, .. }
        ));
        // No validator from the read either.
        assert!(matches!(
            from_read(200, Some("{}"), fetched("{}", None)),
            Outcome::Saved {
                validator_from: ValidatorSource::None,
                doc: Some(_),
                ..
            }
        ));
        // The read failed: acknowledged, and nothing confirms the server kept it.
        assert!(matches!(
            from_read(200, Some("{}"), Outcome::NotFound),
            Outcome::Unconfirmed { status: 200, .. }
        ));
    }

    #[test]
    fn a_status_object_is_not_taken_for_the_document() {
        let a = |body: &[u8]| answer(&[("etag", "\"2\"")], body);
        let doc = r#"{"name": "x", "n": 2}"#;
        // A status object: the version must be read.
        assert!(from_answer(&a(br#"{"ok": true, "id": "x"}"#), Some(doc)).is_none());
        assert!(from_answer(&a(b"true"), Some(doc)).is_none());
        // The document with the server's stamps added, or normalised: it is the document.
        let stamped = br#"{"name": "x", "n": 2.0, "updated": "2026-12-06"}"#;
        match from_answer(&a(stamped), Some(doc)) {
            Some(Outcome::Saved { doc: Some(d), .. }) => assert!(d.text.contains("updated")),
            other => panic!("{other:?}"),
        }
    }
}
