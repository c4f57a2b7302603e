//! Editing a JSON text at a pointer without re-serialising it: the conflict view's "accept mine /
//! theirs / both" applies one value (or a run of array elements) to the Result the user is
//! editing, and everything else keeps its exact spelling. The result is re-spaced canonically.

use crate::json::print::pretty;
use crate::json::{pointer_tokens, Doc, JsonError, Kind};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
/// Why an edit of the Result could not be made.
pub enum EditError {
    /// The Result does not parse.
    #[error("the Result is not valid JSON ({0}); fix it first")]
    Invalid(String),
    /// The pointer leads nowhere in the Result.
    #[error("{0:?} does not address a place in the Result (was it edited by hand?)")]
    NoSuchPlace(String),
    /// A value given for a place does not parse.
    #[error("the value for {pointer:?} is not valid JSON: {error}")]
    BadValue {
        /// Where the value was to go.
        pointer: String,
        /// The parser's words.
        error: String,
    },
}

/// What to put at the pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put<'v> {
    /// Set (or add) the value.
    Value(&'v str),
    /// Remove the member or element.
    Remove,
    /// Replace the `count` elements starting at the pointer's index with these.
    Run {
        /// How many elements are replaced.
        count: usize,
        /// The elements put in their place (JSON texts).
        elements: Vec<&'v str>,
    },
}

/// The position and validity of a JSON text, for the editor's lint.
pub fn check(text: &str) -> Result<(), JsonError> {
    crate::json::check_document(text).map(|_| ())
}

/// The 1-based first and last line of the value at `pointer` (its member line included), or
/// None when the text is not JSON or has nothing there.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let doc = Doc::parse(text).ok()?;
    let mut i = 0;
    for t in pointer_tokens(pointer)? {
        i = match doc.kind(i) {
            Kind::Object => doc.member(i, &t)?,
            Kind::Array => doc.children(i).nth(t.parse().ok()?)?,
            _ => return None,
        };
    }
    let n = doc.node(i);
    let start = if n.key_end > 0 { n.key_start } else { n.start } as usize;
    Some((doc.line_of(start) + 1, doc.line_of(n.end as usize - 1) + 1))
}

/// The elements of a JSON array, each as compact text (numbers and strings exactly as written),
/// for showing an array run's conflict element by element; None when `text` is not an array.
pub fn elements(text: &str) -> Option<Vec<String>> {
    let doc = Doc::parse(text).ok()?;
    let root = doc.root();
    (doc.kind(root) == Kind::Array).then(|| {
        doc.children(root)
            .map(|i| crate::json::print::compact(doc.span(i)))
            .collect()
    })
}

/// The ids of a collection's items, when what the server served at `url` is a collection: an
/// array at the top (`[{"id": "L1"}, …]`), or an object holding one array under the URL's own
/// last segment (`{"labels": [{"id": "L1"}, …]}` read from `.../labels`). Items open as
/// `url/ID` (ids taken from `id`, `name` or `key`). Empty for anything else: a document that
/// merely contains an array (a config's `{"services": [...]}` at `.../config.json`) is a document.
pub fn collection_items(text: &str, url: &str) -> Vec<String> {
    let Ok(doc) = Doc::parse(text) else {
        return vec![];
    };
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let segment = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let arrays: Vec<usize> = match doc.kind(0) {
        Kind::Array => vec![0],
        Kind::Object => doc
            .children(0)
            .filter(|&c| doc.kind(c) == Kind::Array && doc.key(c) == segment)
            .collect(),
        _ => vec![],
    };
    if arrays.len() != 1 {
        return vec![];
    }
    doc.children(arrays[0])
        .filter_map(|e| {
            ["id", "name", "key"].iter().find_map(|k| {
                let v = doc.member(e, k)?;
                match doc.kind(v) {
                    Kind::String => Some(crate::json::tape::unescape(
                        &doc.span(v)[1..doc.span(v).len() - 1],
                    )),
                    Kind::Number => Some(doc.span(v).to_string()),
                    _ => None,
                }
            })
        })
        .collect()
}

/// Applies `put` at `pointer` in `text`; returns the canonical pretty text.
pub fn put_at(text: &str, pointer: &str, put: Put<'_>) -> Result<String, EditError> {
    let doc = Doc::parse(text).map_err(|e| EditError::Invalid(e.to_string()))?;
    match splice_of(&doc, pointer, put)? {
        Splice::Whole(t) => Ok(t),
        Splice::None => Ok(pretty(text)),
        Splice::Range(start, end, insert) => reprint(&[(start, end, insert)], text),
    }
}

/// Applies every `(pointer, put)` to `text` at once, each pointer naming a place in `text` as it
/// is, and returns the canonical pretty text: what `put_at` one after another gives (with each
/// pointer read in the text as the earlier puts left it), for one parse and one print instead of
/// one per put. `None` when the puts touch overlapping or adjoining places (or the whole
/// document), where their order would matter: then apply them one by one.
pub fn put_many(text: &str, puts: Vec<(String, Put<'_>)>) -> Result<Option<String>, EditError> {
    let doc = Doc::parse(text).map_err(|e| EditError::Invalid(e.to_string()))?;
    let mut splices = Vec::with_capacity(puts.len());
    for (pointer, put) in puts {
        match splice_of(&doc, &pointer, put)? {
            Splice::Whole(_) => return Ok(None),
            Splice::None => {}
            Splice::Range(start, end, insert) => splices.push((start, end, insert)),
        }
    }
    splices.sort_by_key(|&(start, end, _)| (start, end));
    let apart = splices
        .windows(2)
        .all(|w| w[0].1 < w[1].0 || (w[0].1 == w[1].0 && w[0].0 < w[0].1 && w[1].0 < w[1].1));
    if !apart {
        return Ok(None);
    }
    reprint(&splices, text).map(Some)
}

/// `text` with the byte ranges replaced (in order, apart), parsed and printed canonically.
fn reprint(splices: &[(usize, usize, String)], text: &str) -> Result<String, EditError> {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, insert) in splices {
        out.push_str(&text[at..*start]);
        out.push_str(insert);
        at = *end;
    }
    out.push_str(&text[at..]);
    let d = Doc::parse(&out).map_err(|e| EditError::Invalid(e.to_string()))?;
    Ok(pretty(d.text))
}

/// What a put does to a parsed text.
enum Splice {
    /// The whole document becomes this (already printed).
    Whole(String),
    /// Nothing changes (a removal of what is not there).
    None,
    /// The bytes `start..end` become this.
    Range(usize, usize, String),
}

/// Where and how `put` at `pointer` changes `doc`'s text.
fn splice_of(doc: &Doc, pointer: &str, put: Put<'_>) -> Result<Splice, EditError> {
    let check_value = |v: &str| {
        Doc::parse(v).map(|_| ()).map_err(|e| EditError::BadValue {
            pointer: pointer.to_string(),
            error: e.to_string(),
        })
    };
    match &put {
        Put::Value(v) => check_value(v)?,
        Put::Run { elements, .. } => elements.iter().try_for_each(|v| check_value(v))?,
        Put::Remove => {}
    }
    let nowhere = || EditError::NoSuchPlace(pointer.to_string());
    let tokens = pointer_tokens(pointer).ok_or_else(nowhere)?;
    let Some((last, parents)) = tokens.split_last() else {
        // The whole document.
        return match put {
            Put::Value(v) => Ok(Splice::Whole(pretty(v))),
            _ => Err(nowhere()),
        };
    };
    let mut parent = 0;
    for t in parents {
        parent = match doc.kind(parent) {
            Kind::Object => doc.member(parent, t).ok_or_else(nowhere)?,
            Kind::Array => doc
                .children(parent)
                .nth(t.parse().map_err(|_| nowhere())?)
                .ok_or_else(nowhere)?,
            _ => return Err(nowhere()),
        };
    }
    let children: Vec<usize> = doc.children(parent).collect();
    let span = |i: usize| (doc.node(i).start as usize, doc.node(i).end as usize);
    let member_start = |i: usize| {
        let n = doc.node(i);
        if n.key_end > 0 {
            n.key_start as usize
        } else {
            n.start as usize
        }
    };
    // Removes children[from..to] with the comma that joins them to the rest.
    let remove_run = |from: usize, to: usize| -> (usize, usize) {
        if to < children.len() {
            (member_start(children[from]), member_start(children[to]))
        } else if from > 0 {
            (span(children[from - 1]).1, span(children[to - 1]).1)
        } else {
            (member_start(children[from]), span(children[to - 1]).1)
        }
    };
    let open_end = doc.node(parent).start as usize + 1;
    let (start, end, insert): (usize, usize, String) = match doc.kind(parent) {
        Kind::Object => {
            let key_json = serde_json::to_string(last).expect("a string serialises");
            let at = children.iter().position(|&c| doc.key(c) == last.as_str());
            match (put, at) {
                (Put::Value(v), Some(i)) => {
                    (span(children[i]).0, span(children[i]).1, v.to_string())
                }
                (Put::Value(v), None) => match children.last() {
                    Some(&l) => (span(l).1, span(l).1, format!(",{key_json}:{v}")),
                    None => (open_end, open_end, format!("{key_json}:{v}")),
                },
                (Put::Remove, Some(i)) => {
                    let (s, e) = remove_run(i, i + 1);
                    (s, e, String::new())
                }
                (Put::Remove, None) => return Ok(Splice::None),
                (Put::Run { .. }, _) => return Err(nowhere()),
            }
        }
        Kind::Array => {
            let idx: usize = last.parse().map_err(|_| nowhere())?;
            let (count, elements) = match put {
                Put::Value(v) => (1, vec![v]),
                Put::Remove => (1, vec![]),
                Put::Run { count, elements } => (count, elements),
            };
            if idx + count > children.len() {
                return Err(nowhere());
            }
            let joined = elements.join(",");
            if count > 0 && !elements.is_empty() {
                (
                    span(children[idx]).0,
                    span(children[idx + count - 1]).1,
                    joined,
                )
            } else if count > 0 {
                let (s, e) = remove_run(idx, idx + count);
                (s, e, String::new())
            } else if elements.is_empty() {
                return Ok(Splice::None);
            } else if idx < children.len() {
                let s = span(children[idx]).0;
                (s, s, format!("{joined},"))
            } else if let Some(&l) = children.last() {
                (span(l).1, span(l).1, format!(",{joined}"))
            } else {
                (open_end, open_end, joined)
            }
        }
        _ => return Err(nowhere()),
    };
    Ok(Splice::Range(start, end, insert))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_arrays_elements_are_its_compact_texts() {
        assert_eq!(
            super::elements("[\n  1.50,\n  {\"a\": [1, 2]},\n  \"x y\"\n]"),
            Some(vec![
                "1.50".into(),
                "{\"a\":[1,2]}".into(),
                "\"x y\"".into()
            ])
        );
        assert_eq!(super::elements("[]"), Some(vec![]));
        assert_eq!(super::elements("{\"a\": 1}"), None);
        assert_eq!(super::elements("[1,"), None);
    }

    use super::*;

    const T: &str = "{\n  \"a\": 1.50,\n  \"b\": [1, 2, 3],\n  \"c\": {\"x\": true}\n}\n";

    #[test]
    fn set_add_remove_members() {
        let got = put_at(T, "/a", Put::Value("\"one\"")).unwrap();
        assert!(got.contains("\"a\": \"one\"") && got.contains("\"c\""));
        let got = put_at(T, "/c/y", Put::Value("12345678901234567890")).unwrap();
        assert!(got.contains("\"y\": 12345678901234567890"), "{got}");
        for p in ["/a", "/b", "/c"] {
            let got = put_at(T, p, Put::Remove).unwrap();
            let v: serde_json::Value = serde_json::from_str(&got).unwrap();
            assert!(v.pointer(p).is_none(), "{p}: {got}");
            assert_eq!(v.as_object().unwrap().len(), 2);
        }
        assert_eq!(
            put_at("{\"only\": 1}", "/only", Put::Remove).unwrap(),
            "{}\n"
        );
        assert_eq!(
            put_at("{}", "/k", Put::Value("[]")).unwrap(),
            "{\n  \"k\": []\n}\n"
        );
        // Untouched numbers keep their spelling.
        assert!(put_at(T, "/b", Put::Remove).unwrap().contains("1.50"));
    }

    #[test]
    fn array_runs() {
        let v = |s: String| serde_json::from_str::<serde_json::Value>(&s).unwrap()["b"].clone();
        assert_eq!(
            v(put_at(
                T,
                "/b/1",
                Put::Run {
                    count: 1,
                    elements: vec!["7", "8"]
                }
            )
            .unwrap()),
            serde_json::json!([1, 7, 8, 3])
        );
        assert_eq!(
            v(put_at(
                T,
                "/b/1",
                Put::Run {
                    count: 0,
                    elements: vec!["9"]
                }
            )
            .unwrap()),
            serde_json::json!([1, 9, 2, 3])
        );
        assert_eq!(
            v(put_at(
                T,
                "/b/3",
                Put::Run {
                    count: 0,
                    elements: vec!["9"]
                }
            )
            .unwrap()),
            serde_json::json!([1, 2, 3, 9])
        );
        assert_eq!(
            v(put_at(
                T,
                "/b/0",
                Put::Run {
                    count: 2,
                    elements: vec![]
                }
            )
            .unwrap()),
            serde_json::json!([3])
        );
        assert_eq!(
            v(put_at(
                T,
                "/b/1",
                Put::Run {
                    count: 2,
                    elements: vec![]
                }
            )
            .unwrap()),
            serde_json::json!([1])
        );
        assert_eq!(
            v(put_at(
                T,
                "/b/0",
                Put::Run {
                    count: 3,
                    elements: vec![]
                }
            )
            .unwrap()),
            serde_json::json!([])
        );
        assert_eq!(
            v(put_at(T, "/b/2", Put::Value("\"z\"")).unwrap()),
            serde_json::json!([1, 2, "z"])
        );
    }

    #[test]
    fn locates_and_lists() {
        assert_eq!(locate(T, "/c/x"), Some((4, 4)));
        assert_eq!(locate(T, "/b"), Some((3, 3)));
        assert_eq!(locate(T, "/nope"), None);
        let labels = r#"{"labels": [{"id": "L1"}, {"id": "L2", "name": "x"}]}"#;
        assert_eq!(
            collection_items(labels, "http://h/v1/labels"),
            vec!["L1", "L2"]
        );
        assert_eq!(
            collection_items(labels, "http://h/v1/labels/?x=1"),
            vec!["L1", "L2"]
        );
        assert_eq!(
            collection_items(r#"[{"id": 7}]"#, "http://h/items"),
            vec!["7"]
        );
        // A document that contains an array of id-keyed objects is not a collection.
        assert!(
            collection_items(r#"{"services": [{"id": "svc-0000"}]}"#, "http://h/big.json")
                .is_empty()
        );
        assert!(collection_items(labels, "http://h/settings").is_empty());
        assert!(collection_items(r#"{"a": [1], "b": [2]}"#, "http://h/a").is_empty());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            put_at("{", "/a", Put::Remove),
            Err(EditError::Invalid(_))
        ));
        assert!(matches!(
            put_at(T, "/zz/q", Put::Remove),
            Err(EditError::NoSuchPlace(_))
        ));
        assert!(matches!(
            put_at(T, "/b/9", Put::Value("1")),
            Err(EditError::NoSuchPlace(_))
        ));
        assert!(matches!(
            put_at(T, "/a", Put::Value("{bad")),
            Err(EditError::BadValue { .. })
        ));
        assert_eq!(put_at(T, "", Put::Value("[1]")).unwrap(), "[\n  1\n]\n");
    }
}
