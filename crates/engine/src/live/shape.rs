//! Does a newer version look like the document at all? A server (or a proxy in front of it) can
//! answer a read with a status object — `{"status": "ok"}`, an error envelope, a Kubernetes
//! `Status` — under 200. Taken as the resource's newer version, it would show the user a wiped
//! document, or merge the deletion of every member into their edit. Nothing proves it is not
//! what the server holds, so it is not applied quietly either: the caller says what arrived and
//! leaves the tab as it is (a Reload shows it as it is).

use crate::json::{Doc, Kind};

/// Why `newer` does not look like a newer version of `known` (None: it does, or either is not
/// JSON, which other checks say). Only a plain shape change counts:
/// - `known` an object with at least two members (or one holding a non-empty object or array,
///   a wrapper such as `{"data": {…}}`) and `newer` an object that keeps none of them — a member
///   whose value changed its kind (`"status": {…}` to `"status": "Failure"`) is not kept — or
///   neither an object nor null (a deleted node reads as null: Firebase);
/// - `known` a non-empty array and `newer` neither an array nor null;
/// - a Kubernetes `Status` where the document was none.
pub fn unlike(known: &str, newer: &str) -> Option<String> {
    let (Ok(k), Ok(n)) = (Doc::parse(known), Doc::parse(newer)) else {
        return None;
    };
    let (kr, nr) = (k.root(), n.root());
    let count = |d: &Doc, i: usize| d.children(i).count();
    match (k.kind(kr), n.kind(nr)) {
        (Kind::Object, Kind::Object) => {
            let status = |d: &Doc, i: usize| {
                d.member(i, "kind")
                    .is_some_and(|m| d.kind(m) == Kind::String && d.span(m) == "\"Status\"")
            };
            if status(&n, nr) && !status(&k, kr) {
                return Some("a Kubernetes Status object".into());
            }
            if !substantial(&k, kr) || count(&n, nr) == 0 {
                return None;
            }
            let kept = |c: usize| {
                k.member(kr, &n.key(c))
                    .is_some_and(|m| k.kind(m) == n.kind(c))
            };
            if n.children(nr).any(kept) {
                return None;
            }
            let names: Vec<String> = n.children(nr).take(5).map(|c| short(&n.key(c))).collect();
            let more = if count(&n, nr) > names.len() {
                ", …"
            } else {
                ""
            };
            Some(format!(
                "an object with none of the document's members (it has: {}{more})",
                names.join(", ")
            ))
        }
        (Kind::Object, other) if other != Kind::Null && count(&k, kr) >= 1 => Some(format!(
            "{} {} instead of an object",
            article(other),
            other.name()
        )),
        (Kind::Array, other)
            if !matches!(other, Kind::Array | Kind::Null) && count(&k, kr) >= 1 =>
        {
            Some(format!(
                "{} {} instead of an array",
                article(other),
                other.name()
            ))
        }
        _ => None,
    }
}

/// An object with two members or more, or one whose only member holds a non-empty container.
fn substantial(d: &Doc, i: usize) -> bool {
    let mut members = d.children(i);
    match (members.next(), members.next()) {
        (Some(_), Some(_)) => true,
        (Some(only), None) => {
            matches!(d.kind(only), Kind::Object | Kind::Array) && d.children(only).next().is_some()
        }
        _ => false,
    }
}

/// A member name as quoted: at most 40 characters.
fn short(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
}

fn article(k: Kind) -> &'static str {
    match k {
        Kind::Array | Kind::Object => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::unlike;

    #[test]
    fn a_status_object_is_unlike_the_document() {
        let doc = r#"{"siteName": "A", "limits": {"maxUploadMb": 5}, "flags": []}"#;
        let said = unlike(doc, r#"{"status": "ok", "message": "saved"}"#).unwrap();
        assert!(said.contains("status, message"), "{said}");
        assert!(unlike(doc, "\"OK\"")
            .unwrap()
            .contains("a string instead of an object"));
        // A wrapper document, and a member that changed its kind, are not kept.
        let wrapped = r#"{"data": {"siteName": "A"}}"#;
        assert!(unlike(wrapped, r#"{"status": "ok"}"#).is_some());
        let k8s_doc = r#"{"metadata": {"name": "x"}, "status": {"phase": "Running"}}"#;
        assert!(unlike(k8s_doc, r#"{"status": "Failure", "message": "gone"}"#).is_some());
        // Names are quoted short.
        let long = format!(r#"{{"{}": 1}}"#, "n".repeat(100));
        let said = unlike(doc, &long).unwrap();
        assert!(
            said.contains(&format!("{}…", "n".repeat(40))) && !said.contains(&"n".repeat(41)),
            "{said}"
        );
        assert!(unlike(doc, "[]").unwrap().contains("an array"));
        assert!(unlike("[1, 2]", "{\"error\": 1}")
            .unwrap()
            .contains("an object instead of an array"));
        let k8s =
            r#"{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}, "data": {}}"#;
        let status =
            r#"{"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}"#;
        assert_eq!(
            unlike(k8s, status).as_deref(),
            Some("a Kubernetes Status object")
        );
        // Many members: five named, then an ellipsis.
        let wide = r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}"#;
        assert!(unlike(doc, wide).unwrap().contains("a, b, c, d, e, …"));
    }

    #[test]
    fn a_real_change_is_not_unlike() {
        let doc = r#"{"siteName": "A", "limits": {"maxUploadMb": 5}}"#;
        // One member kept is enough, however much else changed.
        assert_eq!(unlike(doc, r#"{"siteName": "B", "other": 1}"#), None);
        assert_eq!(unlike(doc, r#"{"siteName": "A"}"#), None);
        // A one-member document, an empty one, and an emptied one are ordinary changes.
        assert_eq!(unlike(r#"{"a": 1}"#, r#"{"b": 1}"#), None);
        assert_eq!(unlike("{}", r#"{"status": "ok"}"#), None);
        assert_eq!(unlike(doc, "{}"), None);
        assert_eq!(unlike("[]", "{}"), None);
        assert_eq!(unlike("[1]", "[]"), None);
        assert_eq!(unlike("5", "\"x\""), None);
        // A deleted node reads as null (Firebase): a change, not a status.
        assert_eq!(unlike(doc, "null"), None);
        assert_eq!(unlike("[1]", "null"), None);
        // A one-member document holding a scalar; a wrapper whose content changed.
        assert_eq!(unlike(r#"{"a": 1}"#, r#"{"status": "ok"}"#), None);
        assert_eq!(
            unlike(r#"{"data": {"a": 1}}"#, r#"{"data": {"b": 2}}"#),
            None
        );
        // A Status resource changing is a Status still; escaped member names are compared decoded.
        let s = r#"{"kind": "Status", "code": 1}"#;
        assert_eq!(unlike(s, r#"{"kind": "Status", "code": 2}"#), None);
        assert_eq!(unlike(r#"{"a/b": 1, "c": 2}"#, r#"{"a\/b": 3}"#), None);
        // Not JSON: said elsewhere.
        assert_eq!(unlike(doc, "<html>"), None);
        assert_eq!(unlike("{", "{}"), None);
    }
}
