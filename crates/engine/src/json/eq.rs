//! The one JSON equality of the engine: two values are the same when they mean the same —
//! members in any order, numbers by their exact decimal value (`1.50` = `1.5` = `15e-1`, while
//! `12345678901234567890` ≠ `12345678901234567891`: never through floating point), strings by
//! their characters whatever their escapes (`"a"` = `"\u0061"`).
//!
//! Owns: equality by meaning for texts (`same_text`), parsed documents (`same_nodes`) and
//! serde values (`same_value`). The write check, the read-back, the overwrite watch, JSON
//! Patch's `test` and the round all ask here; the merge keeps its byte check first and asks here
//! only when the bytes differ.
//!
//! Must never: recurse per nesting level (a document as deep as the tape accepts compares on a
//! small stack), or call two texts the same when either is not JSON.

use super::tape::{unescape, Doc, Kind};
use serde_json::Value;
use std::collections::HashMap;

/// Whether two number texts name the same value, exactly.
pub fn same_number(a: &str, b: &str) -> bool {
    a == b || matches!((super::decimal(a), super::decimal(b)), (Some(x), Some(y)) if x == y)
}

/// Whether two JSON texts mean the same (false when either does not parse).
pub fn same_text(a: &str, b: &str) -> bool {
    if a == b {
        return Doc::parse(a).is_ok();
    }
    match (Doc::parse(a), Doc::parse(b)) {
        (Ok(x), Ok(y)) => same_nodes(&x, x.root(), &y, y.root()),
        _ => false,
    }
}

/// Whether value `i` of `a` and value `j` of `b` mean the same.
pub fn same_nodes(a: &Doc, i: usize, b: &Doc, j: usize) -> bool {
    let mut todo = vec![(i, j)];
    while let Some((i, j)) = todo.pop() {
        let (sa, sb) = (a.span(i), b.span(j));
        if sa == sb {
            continue;
        }
        if a.kind(i) != b.kind(j) {
            return false;
        }
        match a.kind(i) {
            Kind::Null | Kind::Bool => return false,
            Kind::Number => {
                if !same_number(sa, sb) {
                    return false;
                }
            }
            Kind::String => {
                let escaped = a.node(i).value_escaped || b.node(j).value_escaped;
                if !escaped || unescape(&sa[1..sa.len() - 1]) != unescape(&sb[1..sb.len() - 1]) {
                    return false;
                }
            }
            Kind::Array => {
                let (mut x, mut y) = (a.children(i), b.children(j));
                loop {
                    match (x.next(), y.next()) {
                        (Some(p), Some(q)) => todo.push((p, q)),
                        (None, None) => break,
                        _ => return false,
                    }
                }
            }
            Kind::Object => {
                let theirs: Vec<usize> = b.children(j).collect();
                if a.children(i).count() != theirs.len() {
                    return false;
                }
                if theirs.len() <= 8 {
                    for p in a.children(i) {
                        let key = a.key(p);
                        match theirs.iter().find(|&&q| b.key(q) == key) {
                            Some(&q) => todo.push((p, q)),
                            None => return false,
                        }
                    }
                } else {
                    let by_key: HashMap<_, _> = theirs.iter().map(|&q| (b.key(q), q)).collect();
                    for p in a.children(i) {
                        match by_key.get(&a.key(p)) {
                            Some(&q) => todo.push((p, q)),
                            None => return false,
                        }
                    }
                }
            }
        }
    }
    true
}

/// Whether two serde values mean the same (numbers compared by their exact text's value: the
/// workspace keeps number text, `arbitrary_precision`).
pub fn same_value(a: &Value, b: &Value) -> bool {
    let mut todo = vec![(a, b)];
    while let Some((a, b)) = todo.pop() {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                if !same_number(&x.to_string(), &y.to_string()) {
                    return false;
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                todo.extend(x.iter().zip(y));
            }
            (Value::Object(x), Value::Object(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => todo.push((v, w)),
                        None => return false,
                    }
                }
            }
            _ => {
                if a != b {
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meaning_not_spelling() {
        assert!(same_text(
            r#"{"a":1,"b":[1,2]}"#,
            r#"{ "b": [1, 2], "a": 1.0 }"#
        ));
        assert!(same_text(r#"{"p": 1.50}"#, r#"{"p": 15e-1}"#));
        assert!(same_text(r#"["a_b"]"#, r#"["a\u005fb"]"#));
        assert!(same_text("[-0]", "[0.0]"));
        assert!(!same_text(
            "[12345678901234567890]",
            "[12345678901234567891]"
        ));
        assert!(!same_text(r#"{"b":[2,1]}"#, r#"{"b":[1,2]}"#));
        assert!(!same_text(r#"{"a":1}"#, r#"{"a":1,"b":1}"#));
        assert!(!same_text(r#"{"a":1,"c":1}"#, r#"{"a":1,"b":1}"#));
        assert!(!same_text("[null]", "[false]"));
        assert!(!same_text("[1]", "[\"1\"]"));
        assert!(!same_text("not json", "not json"));
        assert!(!same_text(r#"{"a":1}"#, "not json"));
    }

    #[test]
    fn wide_objects_and_deep_documents() {
        let wide = |order: &mut dyn Iterator<Item = usize>| {
            let m: Vec<String> = order.map(|i| format!("\"k{i}\": {i}")).collect();
            format!("{{{}}}", m.join(","))
        };
        assert!(same_text(&wide(&mut (0..100)), &wide(&mut (0..100).rev())));
        // Deeper than serde_json's own recursion limit (128), as deep as the tape accepts.
        let deep = |leaf: &str| format!("{}{leaf}{}", "[".repeat(999), "]".repeat(999));
        assert!(same_text(&deep("1.50"), &deep(" 1.5 ")));
        assert!(!same_text(&deep("1.50"), &deep("1.51")));
    }

    #[test]
    fn serde_values_compare_the_same_way() {
        let v = |t: &str| serde_json::from_str::<Value>(t).unwrap();
        assert!(same_value(
            &v(r#"{"a":[1.50],"b":2}"#),
            &v(r#"{"b":2.0,"a":[1.5]}"#)
        ));
        assert!(!same_value(
            &v("[12345678901234567890]"),
            &v("[12345678901234567891]")
        ));
        assert!(!same_value(&v(r#"{"a":1}"#), &v(r#"{"b":1}"#)));
    }
}
