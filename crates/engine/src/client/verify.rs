//! Write verification: whether the version a server holds after a write is the one written,
//! compared by meaning (key order ignored).

use super::classify::{is_json, validator_of, validator_warnings};
use super::transport::Answer;
use crate::outcome::{Outcome, Received, ValidatorSource};
use crate::precondition::Validator;

/// The outcome of a successful write whose answer carries an ETag: saved, with the server's
/// version (the answer's body when it is JSON, else `expected`, the document written). None when
/// the answer has no ETag (the version must then be read: `from_read`).
pub(super) fn from_answer(answer: &Answer, expected: Option<&str>) -> Option<Outcome> {
    let (validator, _) = validator_of(&answer.headers);
    let Some(Validator::Etag { .. }) = &validator else {
        return None;
    };
    let text = match std::str::from_utf8(&answer.body) {
        Ok(t) if is_json(t) => Some(t.to_string()),
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

/// The outcome of a successful write (answered `status` without an ETag) from the read that
/// followed it: saved with the version read when it is `expected` (or nothing was expected),
/// saved-then-changed when the server holds something else, saved without a version when the
/// read failed (the write itself was acknowledged).
pub(super) fn from_read(status: u16, expected: Option<&str>, fetched: Outcome) -> Outcome {
    match fetched {
        Outcome::Fetched { doc, .. } => {
            if let Some(exp) = expected {
                if !same_json(exp, &doc.text) {
                    return Outcome::SavedThenChanged {
                        status,
                        current: doc,
                    };
                }
            }
            saved_as_read(status, doc)
        }
        _ => Outcome::Saved {
            status,
            doc: None,
            validator_from: ValidatorSource::None,
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
        (Outcome::Fetched { mut doc, .. }, _) if same_json(expected, &doc.text) => {
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
                     applied",
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

/// Semantic JSON equality (key order ignored); byte equality first.
pub fn same_json(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => json_eq_unordered(&x, &y),
        _ => false,
    }
}

fn json_eq_unordered(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq_unordered(v, w)))
        }
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq_unordered(v, w))
        }
        (Number(x), Number(y)) => same_number(&x.to_string(), &y.to_string()),
        _ => a == b,
    }
}

/// Whether two JSON number texts name the same value (`1.50` = `1.5`, `1e2` = `100.0`, `-0` =
/// `0`), compared exactly as decimals (no rounding through floating point).
fn same_number(a: &str, b: &str) -> bool {
    a == b || crate::json::decimal(a) == crate::json::decimal(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_equality_ignores_key_order_only() {
        assert!(same_json(
            "{\"a\":1,\"b\":[1,2]}",
            "{ \"b\": [1, 2], \"a\": 1 }"
        ));
        assert!(!same_json("{\"b\":[2,1]}", "{\"b\":[1,2]}"));
        assert!(!same_json("{\"a\":1}", "not json"));
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
        assert!(same_json("{\"p\": 1.50}", "{\"p\": 1.5}"));
        assert!(same_json("[1e2]", "[100.0]"));
        assert!(same_json("[-0]", "[0.0]"));
        assert!(same_json(
            "[12345678901234567890]",
            "[1.234567890123456789e19]"
        ));
        assert!(!same_json(
            "[12345678901234567890]",
            "[12345678901234567891]"
        ));
        assert!(!same_json("[1.5]", "[-1.5]"));
        assert!(!same_json("[0.1]", "[1]"));
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
        // The read failed: the write was still acknowledged.
        assert!(matches!(
            from_read(200, Some("{}"), Outcome::NotFound),
            Outcome::Saved {
                doc: None,
                validator_from: ValidatorSource::None,
                ..
            }
        ));
    }
}
