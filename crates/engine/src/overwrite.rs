//! The overwrite watch: after a save the server acknowledged, does the next version of the
//! resource still hold the change just saved? A server whose precondition check is not atomic,
//! or another client that writes without If-Match, can overwrite it a moment later; this finds
//! where, by JSON pointer, so the user can be told and offered the change again.
//!
//! Not every later change at a saved place is an overwrite: on a server that refuses stale
//! writes, a later write that succeeded carried a validator at least as new as the save's, so
//! its writer saw the saved version and changed it deliberately (`judge`: "changed after your
//! save"). It is called written over only where that cannot be relied on — the check did not find
//! the server refusing stale writes (unprotected, weak or not content-derived validators, not
//! checked) — or where the later version does not descend from the saved one: every saved
//! change is back to the value it had before the save, as a client that never saw the save
//! (a stale copy written back without If-Match) would leave it.
//!
//! Must never: call a deliberate later change on a protected server an overwrite, or call an
//! overwrite a change after the save where the server's protection is not known.

use crate::json::print::compact;
use crate::json::same_value as json_equal;
use crate::json::{pointer_token, pointer_tokens, Doc, Kind};
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
    // A run of array elements both sides changed (elements without ids, merged as sequences)
    // is still held when the later version has every element the save added and none more of
    // those it removed: another client appending after the save's own append is not an
    // overwrite.
    let mut out: Vec<String> = result
        .conflicts
        .iter()
        .filter(|k| !(k.hunk && hunk_held(&k.base, &k.mine, &k.theirs)))
        .map(|k| k.pointer.clone())
        .collect();
    if !out.is_empty() {
        return out;
    }
    let theirs = vec![merge::Resolution::Theirs; result.conflicts.len()];
    let Ok(merged) = result.render(Fill::Resolved(&theirs)) else {
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

/// A saved place a later version changed: the value the save wrote there and the value there
/// now (compact JSON text, numbers as written; None where absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaterChange {
    /// The place, as a JSON pointer ("" for the whole document).
    pub pointer: String,
    /// What the save wrote there.
    pub saved: Option<String>,
    /// What the later version holds there.
    pub now: Option<String>,
}

/// What a later version did to a saved change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Later {
    /// Every saved change is still there.
    Held,
    /// Changed after the save by a write that saw it (a server that refuses stale writes, and
    /// a later version that descends from the saved one): to be told, not alarmed about.
    ChangedAfter(Vec<LaterChange>),
    /// Written over: the server is not known to refuse stale writes, or the later version puts
    /// back what the save changed.
    WroteOver(Vec<LaterChange>),
}

/// The value at `pointer` in `doc`, compact (None: absent).
fn value_at(doc: &Doc, pointer: &str) -> Option<String> {
    let mut i = 0;
    for t in pointer_tokens(pointer)? {
        i = match doc.kind(i) {
            Kind::Object => doc.member(i, &t)?,
            Kind::Array => doc.children(i).nth(t.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(compact(doc.span(i)))
}

/// Judges a later version (`current`) against a save (`before` → `saved`): held, changed after
/// the save by a write that saw it, or written over. `refuses_stale_writes`: the server check
/// found this server refusing stale writes of the kind the tab makes, with a validator that
/// follows the content (so any later write that succeeded carried a validator at least as new
/// as the save's).
pub fn judge(
    before: &str,
    saved: &str,
    current: &str,
    refuses_stale_writes: bool,
    opts: &Options,
) -> Later {
    let places = overwritten(before, saved, current, opts);
    if places.is_empty() {
        return Later::Held;
    }
    let (b, s, c) = (Doc::parse(before), Doc::parse(saved), Doc::parse(current));
    let at = |d: &Result<Doc, _>, p: &str| d.as_ref().ok().and_then(|d| value_at(d, p));
    let changes: Vec<LaterChange> = places
        .iter()
        .map(|p| LaterChange {
            pointer: p.clone(),
            saved: at(&s, p),
            now: at(&c, p),
        })
        .collect();
    // Does the later version descend from the saved one? Not when every place is back to its
    // value before the save (or the later version is not JSON, or the whole document changed).
    let put_back = places.iter().all(|p| {
        p.is_empty()
            || c.is_err()
            || match (at(&b, p), at(&c, p)) {
                (Some(x), Some(y)) => crate::json::same_text(&x, &y),
                (None, None) => true,
                _ => false,
            }
    });
    if refuses_stale_writes && !put_back {
        Later::ChangedAfter(changes)
    } else {
        Later::WroteOver(changes)
    }
}

/// Whether `theirs` (a later version's run of elements) holds what `mine` changed in `base`'s
/// run: each element mine added is there, and no element mine removed is there more often than
/// in mine (elements compared by meaning).
fn hunk_held(base: &[&str], mine: &[&str], theirs: &[&str]) -> bool {
    let count = |run: &[&str], e: &str| run.iter().filter(|x| crate::json::same_text(x, e)).count();
    mine.iter()
        .filter(|e| count(mine, e) > count(base, e))
        .all(|e| count(theirs, e) >= count(mine, e))
        && base
            .iter()
            .filter(|e| count(mine, e) < count(base, e))
            .all(|e| count(theirs, e) <= count(mine, e))
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
        // Another client appended after the save's own append (no ids): still held.
        assert!(overwritten(
            r#"{"s": ["x"]}"#,
            r#"{"s": ["x", "y"]}"#,
            r#"{"s": ["x", "y", "q"]}"#,
            &o
        )
        .is_empty());
        // The save's append replaced by another element: written over.
        assert!(!overwritten(
            r#"{"s": ["x"]}"#,
            r#"{"s": ["x", "y"]}"#,
            r#"{"s": ["x", "q"]}"#,
            &o
        )
        .is_empty());
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

    #[test]
    fn a_later_change_by_a_write_that_saw_the_save_is_not_an_overwrite() {
        let o = Options::default();
        let before = r#"{"replicas": 3, "image": "a"}"#;
        let saved = r#"{"replicas": 7, "image": "a"}"#;
        // Another admin, after a 412 and a merge, chose 9 and wrote it with If-Match.
        let later = r#"{"replicas": 9, "image": "a"}"#;
        let change = vec![LaterChange {
            pointer: "/replicas".into(),
            saved: Some("7".into()),
            now: Some("9".into()),
        }];
        assert_eq!(
            judge(before, saved, later, true, &o),
            Later::ChangedAfter(change.clone())
        );
        // Where the server is not known to refuse stale writes: written over.
        assert_eq!(
            judge(before, saved, later, false, &o),
            Later::WroteOver(change)
        );
        // A stale copy written back (every saved change back to its old value): written over
        // even on a protected server (a client that sent no If-Match).
        assert_eq!(
            judge(before, saved, before, true, &o),
            Later::WroteOver(vec![LaterChange {
                pointer: "/replicas".into(),
                saved: Some("7".into()),
                now: Some("3".into()),
            }])
        );
        // Held: nothing to say.
        let kept = r#"{"replicas": 7, "image": "b"}"#;
        assert_eq!(judge(before, saved, kept, true, &o), Later::Held);
        // A removed member reads as absent.
        let removed = r#"{"image": "a"}"#;
        assert_eq!(
            judge(before, saved, removed, true, &o),
            Later::ChangedAfter(vec![LaterChange {
                pointer: "/replicas".into(),
                saved: Some("7".into()),
                now: None,
            }])
        );
    }
}
