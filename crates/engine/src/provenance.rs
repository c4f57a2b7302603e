//! Where a line's value came from, told by its JSON path: for each line of a document, the value
//! it shows (the outermost one starting on it, or the container it closes) and that value's path,
//! so the same value can be found in another version of the document however its lines moved.
//!
//! Why: a review that tells sides by comparing lines calls a kept change of the server's
//! "replaced" as soon as its line changed for layout alone (a comma gained because a member was
//! added after it), and calls elements "typed" when they moved. Comparing the values at the same
//! path, by meaning, says what really happened to each one.
//!
//! Owns: the line → value index of a parsed document, and paths that name array elements by
//! identity (an object's `id`-like member, a scalar's own value) before position, as the merge
//! matches them.
//!
//! Must never: decide anything about a merge; it only reads finished texts. Nor get slow on big
//! documents: a lookup walks one path, and callers ask only for the lines they show.

use crate::json::{same_nodes, scalar_identity, Doc, Kind};
use crate::merge::DEFAULT_ID_KEYS;

/// One step of a path: an object's member, or an array's element named by identity.
#[derive(Debug, Clone)]
enum Step {
    /// The member with this (decoded) key.
    Key(String),
    /// The element that is an object whose member `key` holds this scalar identity.
    Keyed(&'static str, String),
    /// The scalar element with this identity (a set-like array's value is its own name).
    Scalar(String),
    /// The element at this position (no identity to go by).
    Index(usize),
}

/// A parsed document with the value each line shows.
pub struct Lines<'a> {
    doc: Doc<'a>,
    /// For each 0-based line: the node it shows and that node's path (None: no value starts or
    /// ends on it).
    at: Vec<Option<(usize, Vec<Step>)>>,
}

/// Where a line's value came from, for a review of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Nothing to say (unchanged everywhere, or a structural line of a container that was there).
    Unchanged,
    /// The user's change.
    Mine,
    /// The server's change (kept on a line that stays, replaced on a removed one).
    Theirs,
    /// The same change on both sides.
    Both,
    /// Put back as in the version the edit started from.
    Base,
    /// On neither side: written in the Result.
    Typed,
}

impl<'a> Lines<'a> {
    /// Parses `text` and indexes its lines (None when it is not JSON).
    pub fn of(text: &'a str) -> Option<Lines<'a>> {
        let doc = Doc::parse(text).ok()?;
        let mut at = vec![None; text.lines().count().max(1)];
        let mut path = Vec::new();
        index(&doc, doc.root(), &mut path, &mut at);
        Some(Lines { doc, at })
    }

    /// The node shown on `line` (0-based) and its path.
    fn line(&self, line: usize) -> Option<&(usize, Vec<Step>)> {
        self.at.get(line)?.as_ref()
    }

    /// The node at `path` in this document.
    fn find(&self, path: &[Step]) -> Option<usize> {
        let d = &self.doc;
        let mut i = d.root();
        for step in path {
            i = match step {
                Step::Key(k) if d.kind(i) == Kind::Object => d.member(i, k)?,
                Step::Keyed(key, id) if d.kind(i) == Kind::Array => d.children(i).find(|&e| {
                    d.kind(e) == Kind::Object
                        && d.member(e, key).is_some_and(|v| identity(d, v) == *id)
                })?,
                Step::Scalar(id) if d.kind(i) == Kind::Array => d
                    .children(i)
                    .find(|&e| !is_container(d, e) && identity(d, e) == *id)?,
                Step::Index(n) if d.kind(i) == Kind::Array => d.children(i).nth(*n)?,
                _ => return None,
            };
        }
        Some(i)
    }
}

fn is_container(d: &Doc, i: usize) -> bool {
    matches!(d.kind(i), Kind::Array | Kind::Object)
}

fn identity(d: &Doc, i: usize) -> String {
    format!("{:?}:{}", d.kind(i), scalar_identity(d.kind(i), d.span(i)))
}

/// Records the value each line shows: a value whole on its line (a member counts from its
/// key's line) claims it, outermost first; a container spread over lines claims its opening line
/// only when no member starts there, and its closing line.
fn index(d: &Doc, i: usize, path: &mut Vec<Step>, at: &mut [Option<(usize, Vec<Step>)>]) {
    let n = d.node(i);
    let first = d.line_of(if n.key_end > 0 { n.key_start } else { n.start } as usize);
    let last = d.line_of((n.end as usize).saturating_sub(1));
    fn claim(at: &mut [Option<(usize, Vec<Step>)>], line: usize, i: usize, path: &[Step]) {
        if let Some(slot) = at.get_mut(line) {
            if slot.is_none() {
                *slot = Some((i, path.to_vec()));
            }
        }
    }
    if first == last || !is_container(d, i) {
        claim(at, first, i, path);
        return;
    }
    let array = d.kind(i) == Kind::Array;
    for (k, c) in d.children(i).enumerate() {
        path.push(if array {
            element_step(d, c, k)
        } else {
            Step::Key(d.key(c).into_owned())
        });
        index(d, c, path, at);
        path.pop();
    }
    claim(at, first, i, path);
    claim(at, last, i, path);
}

/// Whether node `i` is a container spread over several lines (its lines are structure).
fn spread(d: &Doc, i: usize) -> bool {
    let n = d.node(i);
    is_container(d, i)
        && d.line_of(n.start as usize) != d.line_of((n.end as usize).saturating_sub(1))
}

/// How element `e` (at position `k`) is named in a path: by its identity member, by its own
/// value when it is a scalar, else by position.
fn element_step(d: &Doc, e: usize, k: usize) -> Step {
    match d.kind(e) {
        Kind::Object => DEFAULT_ID_KEYS
            .iter()
            .find_map(|key| {
                let v = d.member(e, key)?;
                (!is_container(d, v)).then(|| Step::Keyed(key, identity(d, v)))
            })
            .unwrap_or(Step::Index(k)),
        Kind::Array => Step::Index(k),
        _ => Step::Scalar(identity(d, e)),
    }
}

/// The versions a write's lines are told by.
pub struct Versions<'a> {
    /// The version the edit started from.
    pub base: Lines<'a>,
    /// The user's text as it met the server's change (None for a clean merge: then whatever
    /// is neither the server's nor base's counts as the user's).
    pub mine: Option<Lines<'a>>,
    /// The server's current version (what the write replaces).
    pub theirs: Lines<'a>,
    /// What will be sent.
    pub sent: Lines<'a>,
}

impl Versions<'_> {
    /// Where the value on `line` (0-based) of the text sent came from.
    pub fn of_sent(&self, line: usize) -> Origin {
        let Some((s, path)) = self.sent.line(line) else {
            return Origin::Unchanged;
        };
        let sent = (&self.sent.doc, *s);
        let b = self.base.find(path).map(|i| (&self.base.doc, i));
        let t = self.theirs.find(path).map(|i| (&self.theirs.doc, i));
        // A container that was there: its opening and closing lines say nothing (its members'
        // lines tell their own sides).
        if spread(sent.0, sent.1) && b.is_some() {
            return Origin::Unchanged;
        }
        let s = Some(sent);
        let m = self
            .mine
            .as_ref()
            .map(|m| m.find(path).map(|i| (&m.doc, i)));
        if same(s, t) {
            return if same(t, b) {
                Origin::Unchanged
            } else if m.is_some_and(|m| same(m, t)) {
                Origin::Both
            } else {
                Origin::Theirs
            };
        }
        match m {
            Some(m) if same(s, m) => {
                if same(m, b) {
                    Origin::Base
                } else {
                    Origin::Mine
                }
            }
            _ if same(s, b) => Origin::Base,
            None => Origin::Mine,
            Some(_) => Origin::Typed,
        }
    }

    /// Whether the value on `line` (0-based) of the server's version is a change of the
    /// server's that the write does not keep (replaced or removed): `Theirs` then, else
    /// `Unchanged` (a value kept whose line changed for layout alone is not "replaced").
    pub fn of_theirs(&self, line: usize) -> Origin {
        let Some((t, path)) = self.theirs.line(line) else {
            return Origin::Unchanged;
        };
        let theirs = (&self.theirs.doc, *t);
        let b = self.base.find(path).map(|i| (&self.base.doc, i));
        if spread(theirs.0, theirs.1) && b.is_some() {
            return Origin::Unchanged;
        }
        let s = self.sent.find(path).map(|i| (&self.sent.doc, i));
        let t = Some(theirs);
        if !same(t, b) && !same(s, t) {
            Origin::Theirs
        } else {
            Origin::Unchanged
        }
    }
}

/// Equality by meaning of two optional values (both absent: the same).
fn same(a: Option<(&Doc, usize)>, b: Option<(&Doc, usize)>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some((x, i)), Some((y, j))) => same_nodes(x, i, y, j),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{Lines, Origin, Versions};

    fn versions<'a>(
        base: &'a str,
        mine: Option<&'a str>,
        theirs: &'a str,
        sent: &'a str,
    ) -> Versions<'a> {
        Versions {
            base: Lines::of(base).unwrap(),
            mine: mine.map(|m| Lines::of(m).unwrap()),
            theirs: Lines::of(theirs).unwrap(),
            sent: Lines::of(sent).unwrap(),
        }
    }

    #[test]
    fn a_kept_change_of_theirs_that_gained_a_comma_is_not_replaced() {
        let base = "{\n  \"a\": 1\n}\n";
        let theirs = "{\n  \"a\": 2\n}\n";
        let mine = "{\n  \"a\": 1,\n  \"c\": 3\n}\n";
        let sent = "{\n  \"a\": 2,\n  \"c\": 3\n}\n";
        let v = versions(base, Some(mine), theirs, sent);
        assert_eq!(v.of_theirs(1), Origin::Unchanged, "\"a\": 2 is kept");
        assert_eq!(v.of_sent(1), Origin::Theirs);
        assert_eq!(v.of_sent(2), Origin::Mine);
        assert_eq!(v.of_sent(0), Origin::Unchanged);
        assert_eq!(v.of_sent(3), Origin::Unchanged);
    }

    #[test]
    fn sides_by_value_base_typed_and_replaced() {
        let base = "{\n  \"a\": 1,\n  \"b\": 1,\n  \"c\": 1,\n  \"d\": 1\n}";
        let mine = "{\n  \"a\": 2,\n  \"b\": 2,\n  \"c\": 1,\n  \"d\": 2\n}";
        let theirs = "{\n  \"a\": 3,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 3\n}";
        // a: mine over theirs; b: both; c: theirs kept; d: typed.
        let sent = "{\n  \"a\": 2,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 9\n}";
        let v = versions(base, Some(mine), theirs, sent);
        let got: Vec<_> = (1..5).map(|l| v.of_sent(l)).collect();
        assert_eq!(
            got,
            [Origin::Mine, Origin::Both, Origin::Theirs, Origin::Typed]
        );
        assert_eq!(v.of_theirs(1), Origin::Theirs, "theirs' a is replaced");
        assert_eq!(v.of_theirs(3), Origin::Unchanged, "theirs' c is kept");
        // Accept base: a put back.
        let sent = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 3\n}";
        let v = versions(base, Some(mine), theirs, sent);
        assert_eq!(v.of_sent(1), Origin::Base);
    }

    #[test]
    fn elements_taken_with_both_are_told_by_identity_not_position() {
        let base = "{\n  \"tags\": [\n    \"a\"\n  ]\n}\n";
        let mine = "{\n  \"tags\": [\n    \"a\",\n    \"m\"\n  ]\n}\n";
        let theirs = "{\n  \"tags\": [\n    \"a\",\n    \"t\"\n  ]\n}\n";
        let sent = "{\n  \"tags\": [\n    \"a\",\n    \"m\",\n    \"t\"\n  ]\n}\n";
        let v = versions(base, Some(mine), theirs, sent);
        assert_eq!(v.of_sent(3), Origin::Mine);
        assert_eq!(v.of_sent(4), Origin::Theirs);
        assert_eq!(v.of_sent(2), Origin::Unchanged);
        assert_eq!(v.of_theirs(3), Origin::Unchanged, "theirs' element is kept");
        let keyed_base = "[\n  {\"id\": 1, \"x\": 0}\n]";
        let keyed_theirs = "[\n  {\"id\": 2, \"x\": 0},\n  {\"id\": 1, \"x\": 5}\n]";
        let v = versions(keyed_base, None, keyed_theirs, keyed_theirs);
        assert_eq!(v.of_sent(2), Origin::Theirs, "element 1 found by its id");
    }

    #[test]
    fn a_clean_merge_counts_what_is_neither_side_as_mine() {
        let base = "{\"a\": 1,\n\"b\": 1}";
        let theirs = "{\"a\": 1,\n\"b\": 2}";
        let sent = "{\"a\": 5,\n\"b\": 2}";
        let v = versions(base, None, theirs, sent);
        assert_eq!(
            v.of_sent(0),
            Origin::Mine,
            "a member on the root's first line"
        );
        assert_eq!(v.of_sent(1), Origin::Theirs);
    }
}
