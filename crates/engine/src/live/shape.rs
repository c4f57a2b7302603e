//! Does a newer version look like the document at all? A server (or a proxy in front of it) can
//! answer a read with a status object — `{"status": "ok"}`, an error envelope, a Kubernetes
//! `Status` — under 200. Taken as the resource's newer version, it would show the user a wiped
//! document, or merge the deletion of every member into their edit. Nothing proves it is not
//! what the server holds, so it is not applied quietly either: the caller says what arrived and
//! leaves the tab as it is (a Reload shows it as it is).

use crate::json::{Doc, Kind};

/// Why `newer` does not look like a newer version of `known` (None: it does, or either is not
/// JSON, which other checks say). Only a plain shape change counts: `known` an object with at
/// least two members and `newer` one with none of them, or not an object; `known` a non-empty
/// array and `newer` not an array; a Kubernetes `Status` where the document was none.
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
            if count(&k, kr) < 2 || count(&n, nr) == 0 {
                return None;
            }
            if n.children(nr).any(|c| k.member(kr, &n.key(c)).is_some()) {
                return None;
            }
            let names: Vec<String> = n.children(nr).take(5).map(|c| n.key(c).into()).collect();
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
        (Kind::Object, other) if count(&k, kr) >= 1 => Some(format!(
            "{} {} instead of an object",
            article(other),
            other.name()
        )),
        (Kind::Array, other) if other != Kind::Array && count(&k, kr) >= 1 => Some(format!(
            "{} {} instead of an array",
            article(other),
            other.name()
        )),
        _ => None,
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
        assert!(unlike(doc, "null").unwrap().contains("a null"));
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
        // A Status resource changing is a Status still; escaped member names are compared decoded.
        let s = r#"{"kind": "Status", "code": 1}"#;
        assert_eq!(unlike(s, r#"{"kind": "Status", "code": 2}"#), None);
        assert_eq!(unlike(r#"{"a/b": 1, "c": 2}"#, r#"{"a\/b": 3}"#), None);
        // Not JSON: said elsewhere.
        assert_eq!(unlike(doc, "<html>"), None);
        assert_eq!(unlike("{", "{}"), None);
    }
}
