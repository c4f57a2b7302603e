//! The overwrite watch: after a save the server acknowledged, does the next version of the
//! resource still hold the change just saved? A server whose precondition check is not atomic,
//! or another client that writes without If-Match, can overwrite it a moment later; this finds
//! where, by JSON pointer, so the user can be told and offered the change again.

use crate::json::same_value as json_equal;
use crate::json::{pointer_token, Doc};
use crate::merge::{self, Fill, Options};
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
/// what was saved, as JSON pointers ("" for the whole document). Judged the way the merge
/// judges: `saved`'s changes are merged into `current` (elements of arrays found by their ids,
/// other arrays as sequences, numbers and strings by value), and whatever the merge would still
/// have to change, or finds in conflict, was written over. So an element another client inserted
/// in front, or appended, is not an overwrite, and a change moved to another index with its
/// element is still held. Empty when every saved change is still there, or when `before` or
/// `saved` does not parse (nothing to compare with); a `current` that is not JSON at all wrote
/// over everything.
pub fn overwritten(before: &str, saved: &str, current: &str, opts: &Options) -> Vec<String> {
    let (Ok(b), Ok(s)) = (Doc::parse(before), Doc::parse(saved)) else {
        return vec![];
    };
    let Ok(c) = Doc::parse(current) else {
        return vec![String::new()];
    };
    let result = merge::three_way(&b, &s, &c, opts);
    let mut out: Vec<String> = result.conflicts.iter().map(|k| k.pointer.clone()).collect();
    if !out.is_empty() {
        return out;
    }
    let Ok(merged) = result.render(Fill::Base) else {
        return vec![String::new()];
    };
    if crate::json::same_text(&merged, current) {
        return out;
    }
    // Where: what the merge would still change in `current` (positionally, for the message).
    let parse = |t: &str| serde_json::from_str::<Value>(t).ok();
    out = match (parse(current), parse(&merged)) {
        (Some(cv), Some(mv)) => changed(&cv, &mv),
        _ => vec![],
    };
    if out.is_empty() {
        out.push(String::new());
    }
    out
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
        assert!(overwritten(before, saved, later, &Options::default()).is_empty());
    }

    #[test]
    fn a_change_written_over_is_named_by_pointer() {
        let before = r#"{"a": 1, "b": {"c/d": 2}, "gone": true, "l": [1, 2]}"#;
        let saved = r#"{"a": 1, "b": {"c/d": 3}, "new": "x", "l": [1, 5]}"#;
        // A client that wrote its stale copy back: every change of mine is undone.
        assert_eq!(
            overwritten(before, saved, before, &Options::default()),
            vec!["/b/c~1d", "/new", "/l/1", "/gone"]
        );
        // Numbers compare by value.
        assert!(overwritten(
            r#"{"p": 1}"#,
            r#"{"p": 1.50}"#,
            r#"{"p": 1.5}"#,
            &Options::default()
        )
        .is_empty());
    }

    #[test]
    fn a_document_that_does_not_parse_reports_nothing() {
        let o = Options::default();
        assert!(overwritten("{", "{}", "{}", &o).is_empty());
        // Garbage written over the saved version overwrote all of it.
        assert_eq!(overwritten("{}", r#"{"a": 1}"#, "<html>", &o), vec![""]);
    }

    #[test]
    fn arrays_are_compared_as_the_merge_does() {
        let o = Options::default();
        let before = r#"{"labels": [{"id": "a", "on": false}, {"id": "b", "on": false}]}"#;
        let saved = r#"{"labels": [{"id": "a", "on": false}, {"id": "b", "on": true}]}"#;
        // Another client inserted an element in front: my change moved with its element.
        let front = r#"{"labels": [{"id": "z", "on": false}, {"id": "a", "on": false}, {"id": "b", "on": true}]}"#;
        assert!(overwritten(before, saved, front, &o).is_empty());
        // … or appended one.
        let appended = r#"{"labels": [{"id": "a", "on": false}, {"id": "b", "on": true}, {"id": "c", "on": true}]}"#;
        assert!(overwritten(before, saved, appended, &o).is_empty());
        // Plain arrays too: an insert in front keeps my appended element.
        assert!(overwritten("[1, 2]", "[1, 2, 3]", "[0, 1, 2, 3]", &o).is_empty());
        // Inserted in front and my change undone: named at its element.
        let undone = r#"{"labels": [{"id": "z", "on": false}, {"id": "a", "on": false}, {"id": "b", "on": false}]}"#;
        assert_eq!(overwritten(before, saved, undone, &o), vec!["/labels/2/on"]);
        // Set to another value by someone else: a collision at its place.
        let other = r#"{"labels": [{"id": "a", "on": "maybe"}, {"id": "b", "on": "never"}]}"#;
        assert!(!overwritten(before, saved, other, &o).is_empty());
        // Numbers by exact value, not through floating point.
        assert_eq!(
            overwritten(
                r#"{"n": 0}"#,
                r#"{"n": 12345678901234567890}"#,
                r#"{"n": 12345678901234567891}"#,
                &o
            ),
            vec!["/n"]
        );
    }
}
