//! PATCH bodies that turn base into the merge result: JSON Merge Patch (RFC 7396) and JSON Patch
//! (RFC 6902) with a `test` before every value it removes or replaces, so a server applying it
//! refuses a stale write even without If-Match.
//!
//! Values are copied as text (numbers keep their spelling). A Merge Patch cannot set a member to
//! null (null means "remove") nor edit inside an array (arrays are replaced whole): the first is an
//! error that says to use PUT or JSON Patch, the second is reported in `replaced_arrays`.

use crate::json::print::{compact, pretty};
use crate::json::{pointer_token, Doc, Kind};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
/// An RFC 7396 merge patch from base to the result, as JSON text.
pub struct MergePatch {
    /// The patch document, pretty-printed; `None` when base and result are equal.
    pub text: Option<String>,
    /// Arrays the patch replaces whole (a Merge Patch cannot edit inside an array).
    pub replaced_arrays: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
/// Why a change cannot be written as a merge patch.
pub enum PatchError {
    /// The result sets a member to null, which a merge patch can only say as "remove".
    #[error("a JSON Merge Patch cannot set {pointer:?} to null (null means \"remove\" there): send this change with PUT or as a JSON Patch")]
    NullNotExpressible {
        /// Where the null goes.
        pointer: String,
    },
}

/// RFC 7396 patch from `base` to `result`.
pub fn merge_patch(base: &Doc, result: &Doc) -> Result<MergePatch, PatchError> {
    let mut replaced = vec![];
    let mut ptr = String::new();
    let diff = mp_diff(base, 0, result, 0, &mut ptr, &mut replaced, true)?;
    Ok(MergePatch {
        text: diff.map(|d| pretty(&d)),
        replaced_arrays: replaced,
    })
}

/// Same by meaning (the engine's one equality). Compacting both texts at every level made a
/// patch of a deep document cubic in its depth: its pretty-printed text grows with the square.
fn equal(a: &Doc, ai: usize, b: &Doc, bi: usize) -> bool {
    crate::json::same_nodes(a, ai, b, bi)
}

#[allow(clippy::too_many_arguments)]
fn mp_diff(
    b: &Doc,
    bi: usize,
    r: &Doc,
    ri: usize,
    ptr: &mut String,
    replaced: &mut Vec<String>,
    root: bool,
) -> Result<Option<String>, PatchError> {
    if equal(b, bi, r, ri) {
        return Ok(None);
    }
    if b.kind(bi) == Kind::Object && r.kind(ri) == Kind::Object {
        let mut parts = vec![];
        for c in b.children(bi) {
            if r.member(ri, &b.key(c)).is_none() {
                parts.push(format!("{}:null", b.raw_key(c)));
            }
        }
        for c in r.children(ri) {
            let key = r.key(c);
            let saved = ptr.len();
            ptr.push('/');
            pointer_token(&key, ptr);
            let sub = match b.member(bi, &key) {
                Some(bc) => mp_diff(b, bc, r, c, ptr, replaced, false)?,
                None => Some(mp_value(r, c, ptr, false)?),
            };
            ptr.truncate(saved);
            if let Some(s) = sub {
                parts.push(format!("{}:{s}", r.raw_key(c)));
            }
        }
        return Ok(Some(format!("{{{}}}", parts.join(","))));
    }
    if b.kind(bi) == Kind::Array && r.kind(ri) == Kind::Array {
        replaced.push(ptr.clone());
    }
    mp_value(r, ri, ptr, root).map(Some)
}

/// A value placed as is: objects inside it must not hold nulls (they would be dropped).
fn mp_value(r: &Doc, ri: usize, ptr: &str, root: bool) -> Result<String, PatchError> {
    fn check(r: &Doc, i: usize, ptr: &mut String) -> Result<(), PatchError> {
        if r.kind(i) == Kind::Object {
            for c in r.children(i) {
                let saved = ptr.len();
                ptr.push('/');
                pointer_token(&r.key(c), ptr);
                if r.kind(c) == Kind::Null {
                    return Err(PatchError::NullNotExpressible {
                        pointer: ptr.clone(),
                    });
                }
                check(r, c, ptr)?;
                ptr.truncate(saved);
            }
        }
        Ok(())
    }
    if r.kind(ri) == Kind::Null && !root {
        return Err(PatchError::NullNotExpressible {
            pointer: ptr.to_string(),
        });
    }
    check(r, ri, &mut ptr.to_string())?;
    Ok(compact(r.span(ri)))
}

/// RFC 6902 patch from `base` to `result`, with `test` operations on every value it removes or
/// replaces, and on the identity of every array element it changes inside or inserts after (the
/// element's id member — `id`, `_id`, `key`, `name`, `uid` — or else the whole element): array
/// elements are addressed by index, and an element another client inserted or removed in the
/// meantime shifts every index after it. Without the pin, a server that ignores If-Match on
/// PATCH would apply the change to the neighbour; with it, the patch fails its test instead.
/// Returns the pretty-printed array of operations (`[]` when nothing changed).
pub fn json_patch(base: &Doc, result: &Doc) -> String {
    let mut ops: Vec<String> = vec![];
    let mut ptr = String::new();
    jp_diff(base, 0, result, 0, &mut ptr, &mut ops);
    pretty(&format!("[{}]", ops.join(",")))
}

/// A `test` that the array element at `ptr` is still base's element `i`: its id member when it
/// has one (a scalar under one of the default identity keys), else the whole element.
fn pin(b: &Doc, i: usize, ptr: &mut String, ops: &mut Vec<String>) {
    if let Some((key, c)) = id_of(b, i) {
        let saved = ptr.len();
        ptr.push('/');
        pointer_token(key, ptr);
        ops.push(op("test", ptr, Some(Cow::Owned(compact(b.span(c))))));
        ptr.truncate(saved);
        return;
    }
    ops.push(op("test", ptr, Some(Cow::Owned(compact(b.span(i))))));
}

/// An element's identity: its first scalar member under one of the default identity keys.
fn id_of(b: &Doc, i: usize) -> Option<(&'static str, usize)> {
    if b.kind(i) != Kind::Object {
        return None;
    }
    crate::merge::DEFAULT_ID_KEYS.iter().find_map(|key| {
        b.member(i, key)
            .filter(|&c| !matches!(b.kind(c), Kind::Object | Kind::Array))
            .map(|c| (*key, c))
    })
}

fn op(kind: &str, path: &str, value: Option<Cow<str>>) -> String {
    let path = serde_json::to_string(path).expect("a string serialises");
    match value {
        Some(v) => format!("{{\"op\":\"{kind}\",\"path\":{path},\"value\":{v}}}"),
        None => format!("{{\"op\":\"{kind}\",\"path\":{path}}}"),
    }
}

fn jp_diff(b: &Doc, bi: usize, r: &Doc, ri: usize, ptr: &mut String, ops: &mut Vec<String>) {
    if equal(b, bi, r, ri) {
        return;
    }
    let v = |d: &Doc, i: usize| Some(Cow::Owned(compact(d.span(i))));
    match (b.kind(bi), r.kind(ri)) {
        (Kind::Object, Kind::Object) => {
            for c in b.children(bi) {
                let key = b.key(c);
                if r.member(ri, &key).is_none() {
                    let saved = ptr.len();
                    ptr.push('/');
                    pointer_token(&key, ptr);
                    ops.push(op("test", ptr, v(b, c)));
                    ops.push(op("remove", ptr, None));
                    ptr.truncate(saved);
                }
            }
            for c in r.children(ri) {
                let key = r.key(c);
                let saved = ptr.len();
                ptr.push('/');
                pointer_token(&key, ptr);
                match b.member(bi, &key) {
                    Some(bc) => jp_diff(b, bc, r, c, ptr, ops),
                    None => ops.push(op("add", ptr, v(r, c))),
                }
                ptr.truncate(saved);
            }
        }
        (Kind::Array, Kind::Array) => {
            let be: Vec<usize> = b.children(bi).collect();
            let re: Vec<usize> = r.children(ri).collect();
            let keyed = be.iter().all(|&e| id_of(b, e).is_some());
            if !keyed {
                // Elements without an identity are found by position alone: with repeated
                // values (`[0, 0, 0, 5]`) no test of one element tells a shifted array from the
                // one the patch was made on. The whole array must still be base's.
                ops.push(op("test", ptr, v(b, bi)));
            }
            let prefix = be
                .iter()
                .zip(&re)
                .take_while(|(x, y)| equal(b, **x, r, **y))
                .count();
            let max_suffix = be.len().min(re.len()) - prefix;
            let suffix = be
                .iter()
                .rev()
                .zip(re.iter().rev())
                .take(max_suffix)
                .take_while(|(x, y)| equal(b, **x, r, **y))
                .count();
            let bm = &be[prefix..be.len() - suffix];
            let rm = &re[prefix..re.len() - suffix];
            let at = |ptr: &mut String, i: usize| {
                let saved = ptr.len();
                ptr.push('/');
                ptr.push_str(&i.to_string());
                saved
            };
            if bm.len() == rm.len() {
                for (k, (x, y)) in bm.iter().zip(rm).enumerate() {
                    let saved = at(ptr, prefix + k);
                    if keyed
                        && matches!(b.kind(*x), Kind::Object | Kind::Array)
                        && b.kind(*x) == r.kind(*y)
                        && !equal(b, *x, r, *y)
                    {
                        pin(b, *x, ptr, ops);
                    }
                    jp_diff(b, *x, r, *y, ptr, ops);
                    ptr.truncate(saved);
                }
            } else {
                if keyed && prefix > 0 {
                    // Insertions and removals go after this element: it must still be there.
                    let saved = at(ptr, prefix - 1);
                    pin(b, be[prefix - 1], ptr, ops);
                    ptr.truncate(saved);
                }
                // Remove base's middle from the end (indexes stay valid), then add the result's.
                for (k, x) in bm.iter().enumerate().rev() {
                    let saved = at(ptr, prefix + k);
                    ops.push(op("test", ptr, v(b, *x)));
                    ops.push(op("remove", ptr, None));
                    ptr.truncate(saved);
                }
                for (k, y) in rm.iter().enumerate() {
                    let saved = at(ptr, prefix + k);
                    ops.push(op("add", ptr, v(r, *y)));
                    ptr.truncate(saved);
                }
            }
        }
        _ => {
            ops.push(op("test", ptr, v(b, bi)));
            ops.push(op("replace", ptr, v(r, ri)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::apply_json_patch;
    use serde_json::Value;

    fn patch(base: &str, result: &str) -> Value {
        let (b, r) = (Doc::parse(base).unwrap(), Doc::parse(result).unwrap());
        serde_json::from_str(&json_patch(&b, &r)).unwrap()
    }

    fn apply(doc: &str, p: &Value) -> Result<Value, crate::patch::JsonPatchError> {
        let mut v: Value = serde_json::from_str(doc).unwrap();
        apply_json_patch(&mut v, p).map(|()| v)
    }

    #[test]
    fn array_elements_are_pinned_by_identity() {
        let base = r#"{"flags": [{"id": "a", "on": false}, {"id": "b", "on": false}]}"#;
        let mine = r#"{"flags": [{"id": "a", "on": false}, {"id": "b", "on": true}]}"#;
        let p = patch(base, mine);
        // On the version it was made from, it makes exactly mine.
        let v = apply(base, &p).unwrap();
        assert!(crate::json::same_value(
            &v,
            &serde_json::from_str(mine).unwrap()
        ));
        // Another client inserted an element in front: index 1 is now "a", whose "on" is false
        // too. The patch must not switch "a" on; its identity test fails instead.
        let shifted = r#"{"flags": [{"id": "z", "on": false}, {"id": "a", "on": false}, {"id": "b", "on": false}]}"#;
        assert!(apply(shifted, &p).is_err(), "{p}");
        // Elements without an id are pinned whole.
        let p = patch(r#"[[1, 2], [3, 4]]"#, r#"[[1, 2], [3, 5]]"#);
        assert!(apply(r#"[[0], [1, 2], [3, 4]]"#, &p).is_err(), "{p}");
        assert_eq!(
            apply(r#"[[1, 2], [3, 4]]"#, &p).unwrap(),
            serde_json::json!([[1, 2], [3, 5]])
        );
    }

    #[test]
    fn arrays_without_ids_are_pinned_whole() {
        // Repeated values: a test of one element cannot tell a shifted array.
        let p = patch(r#"{"ports": [0, 0, 0, 5]}"#, r#"{"ports": [0, 0, 7, 5]}"#);
        assert!(apply(r#"{"ports": [0, 0, 0, 0, 5]}"#, &p).is_err(), "{p}");
        assert_eq!(
            apply(r#"{"ports": [0, 0, 0, 5]}"#, &p).unwrap(),
            serde_json::json!({"ports": [0, 0, 7, 5]})
        );
        let p = patch(
            r#"{"l": ["a", "b", "a", "b", "c"]}"#,
            r#"{"l": ["a", "a", "b", "c"]}"#,
        );
        assert!(apply(r#"{"l": ["a", "b", "c"]}"#, &p).is_err(), "{p}");
    }

    #[test]
    fn insertions_are_pinned_after_their_neighbour() {
        let base = r#"[{"id": 1}, {"id": 2}]"#;
        let mine = r#"[{"id": 1}, {"id": 9}, {"id": 2}]"#;
        let p = patch(base, mine);
        assert_eq!(
            apply(base, &p).unwrap(),
            serde_json::from_str::<Value>(mine).unwrap()
        );
        // Element 1 removed by someone else: "after element 0" no longer means after id 1.
        assert!(apply(r#"[{"id": 2}]"#, &p).is_err(), "{p}");
    }
}
