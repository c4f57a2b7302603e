//! The overwrite watch: after a save the server acknowledged, does the next version of the
//! resource still hold the change just saved? A server whose precondition check is not atomic,
//! or another client that writes without If-Match, can overwrite it a moment later; this finds
//! where, by JSON pointer, so the user can be told and offered the change again.

use crate::json::pointer_token;
use crate::patch::json_equal;
use serde_json::Value;

/// Where `saved` changed `before`, as JSON pointers: members added, removed or changed
/// (objects member by member; arrays element by element when their length is the same, else the
/// whole array).
pub fn changed(before: &Value, saved: &Value) -> Vec<String> {
    let mut out = vec![];
    walk(before, saved, &mut String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, at: &mut String, out: &mut Vec<String>) {
    if json_equal(a, b) {
        return;
    }
    let len = at.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in y {
                at.push('/');
                pointer_token(k, at);
                match x.get(k) {
                    Some(w) => walk(w, v, at, out),
                    None => out.push(at.clone()),
                }
                at.truncate(len);
            }
            for k in x.keys().filter(|k| !y.contains_key(*k)) {
                at.push('/');
                pointer_token(k, at);
                out.push(at.clone());
                at.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                at.push_str(&format!("/{i}"));
                walk(v, w, at, out);
                at.truncate(len);
            }
        }
        _ => out.push(at.clone()),
    }
}

/// The places where `saved` changed `before` and `current` (a later version) no longer holds
/// what was saved. Empty when every saved change is still there (or a document does not parse).
pub fn overwritten(before: &str, saved: &str, current: &str) -> Vec<String> {
    let parse = |t: &str| serde_json::from_str::<Value>(t).ok();
    let (Some(b), Some(s), Some(c)) = (parse(before), parse(saved), parse(current)) else {
        return vec![];
    };
    changed(&b, &s)
        .into_iter()
        .filter(|p| match (s.pointer(p), c.pointer(p)) {
            (Some(x), Some(y)) => !json_equal(x, y),
            (None, None) => false,
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_still_held_is_not_overwritten() {
        let before = r#"{"a": 1, "b": {"c": 2}, "l": [1, 2]}"#;
        let saved = r#"{"a": 1, "b": {"c": 3}, "l": [1, 5]}"#;
        // Someone else changed "a" afterwards: mine are still there.
        let later = r#"{"a": 9, "b": {"c": 3}, "l": [1, 5]}"#;
        assert!(overwritten(before, saved, later).is_empty());
    }

    #[test]
    fn a_change_written_over_is_named_by_pointer() {
        let before = r#"{"a": 1, "b": {"c/d": 2}, "gone": true, "l": [1, 2]}"#;
        let saved = r#"{"a": 1, "b": {"c/d": 3}, "new": "x", "l": [1, 5]}"#;
        // A client that wrote its stale copy back: every change of mine is undone.
        assert_eq!(
            overwritten(before, saved, before),
            vec!["/b/c~1d", "/new", "/l/1", "/gone"]
        );
        // Numbers compare by value.
        assert!(overwritten(r#"{"p": 1}"#, r#"{"p": 1.50}"#, r#"{"p": 1.5}"#).is_empty());
    }

    #[test]
    fn a_document_that_does_not_parse_reports_nothing() {
        assert!(overwritten("{", "{}", "{}").is_empty());
    }
}
