//! The three-way JSON merge: base / mine / theirs → merged document + conflicts + statistics.
//!
//! Owns the merge semantics of docs/architecture.md:
//! - per JSON path: mine == theirs → take it (both made the same change, both deleted included);
//!   mine == base → take theirs; theirs == base → take mine; all objects → key by key; all arrays
//!   → array merge; otherwise a conflict {RFC 6901 pointer, kind, the three values}. Absent is not
//!   null: a deleted member is absent, and `null` is a value.
//! - arrays of objects with an identity key (`id`, `_id`, `key`, `name`, `uid`: the first present
//!   and unique in all three versions, or the caller's choice) merge as keyed lists: elements by
//!   id, and their order like any other change (`order`: a reorder made on one side is kept,
//!   different reorders on both sides are an order conflict); other arrays merge as sequences
//!   (diff3 over elements) and are reported in `positional_arrays`.
//!
//! Must never: copy a subtree it does not need to look into (identical bytes are taken as they
//! are), reformat a number or a string (text is copied verbatim), or decide a conflict by itself.
//!
//! The result borrows the input texts: `Node::Raw` points into them; nothing is parsed into owned
//! values. `render` prints it in canonical pretty form.

pub mod display;
mod order;
pub mod patches;
pub mod render;
mod seqdiff;

use crate::json::print::compact;
use crate::json::FastHash;
use crate::json::{pointer_token, scalar_identity, Doc, Kind};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

pub use render::{Fill, Resolution};

/// The identity keys tried, in order, for arrays of objects.
pub const DEFAULT_ID_KEYS: &[&str] = &["id", "_id", "key", "name", "uid"];

#[derive(Debug, Clone)]
/// Merge options.
pub struct Options {
    /// Identity keys to try for arrays of objects, in order.
    pub id_keys: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            id_keys: DEFAULT_ID_KEYS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// One of the three versions a merge reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The version both edits started from.
    Base,
    /// The user's edit.
    Mine,
    /// The server's current version.
    Theirs,
}

impl Side {
    /// The three sides, in the order base, mine, theirs.
    pub const ALL: [Side; 3] = [Side::Base, Side::Mine, Side::Theirs];
}

/// One value for each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sides<T> {
    /// Base's value.
    pub base: T,
    /// Mine's value.
    pub mine: T,
    /// Theirs' value.
    pub theirs: T,
}

impl<T> Sides<T> {
    /// The value of one side.
    pub fn get(&self, side: Side) -> &T {
        match side {
            Side::Base => &self.base,
            Side::Mine => &self.mine,
            Side::Theirs => &self.theirs,
        }
    }
}

/// What kind of collision a conflict is (serialised in the words the CLI and the window show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConflictKind {
    /// Both changed the value, differently.
    #[serde(rename = "modify/modify")]
    ModifyModify,
    /// One deleted it, the other changed it.
    #[serde(rename = "delete/modify")]
    DeleteModify,
    /// Both added it (or inserted at the same place), differently.
    #[serde(rename = "add/add")]
    AddAdd,
    /// The sides disagree on the kind of value (object vs string, ...).
    #[serde(rename = "type change")]
    TypeChange,
    /// Both reordered the elements of a keyed array, differently (the sides hold the ids in
    /// each order).
    #[serde(rename = "order")]
    Order,
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ConflictKind {
    /// The kind in the words the CLI and the window show (`modify/modify`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::ModifyModify => "modify/modify",
            ConflictKind::DeleteModify => "delete/modify",
            ConflictKind::AddAdd => "add/add",
            ConflictKind::TypeChange => "type change",
            ConflictKind::Order => "order",
        }
    }
}

/// One collision. For a member or an element, each side holds zero values (absent) or one; for
/// an array hunk (`hunk`), each side holds the run of elements it has there; for an order
/// conflict (`kind` `Order`, at the array's pointer), each side holds the elements' ids in its
/// order.
#[derive(Debug, Clone)]
pub struct Conflict<'a> {
    /// RFC 6901 pointer into the merged document as rendered with `Fill::Base` (each conflict
    /// showing its base value, as the conflict view's Result starts).
    pub pointer: String,
    /// What kind of collision.
    pub kind: ConflictKind,
    /// Base's value(s) there (JSON texts; empty: absent).
    pub base: Vec<&'a str>,
    /// Mine's value(s) there.
    pub mine: Vec<&'a str>,
    /// Theirs' value(s) there.
    pub theirs: Vec<&'a str>,
    /// Whether this is a run of array elements rather than one value.
    pub hunk: bool,
    /// The member's key as written (quotes included), for members of objects.
    pub key: Option<&'a str>,
    /// Tape nodes of each side's values, (first, last), for mapping the conflict to lines in any
    /// printed form of the inputs.
    pub nodes: Sides<Option<(usize, usize)>>,
    /// For an order conflict: the member whose value names each element (`id`, ...).
    pub id_key: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// How many changes a merge took from each side, and how many collided.
pub struct Stats {
    /// Changes only mine made, taken.
    pub from_mine: usize,
    /// Changes only theirs made, taken.
    pub from_theirs: usize,
    /// The same change on both sides, taken once.
    pub same_both: usize,
    /// Changes that collide: the user decides.
    pub conflicts: usize,
}

/// The merged tree. Untouched and taken subtrees are slices of the inputs.
#[derive(Debug, Clone)]
pub enum Node<'a> {
    /// A value taken whole from one input (its text as written).
    Raw(&'a str),
    /// An object built by the merge: members as (key text, value).
    Object(Vec<(&'a str, Node<'a>)>),
    /// An array built by the merge.
    Array(Vec<Node<'a>>),
    /// An index into `Merge::conflicts`.
    Conflict(usize),
    /// A keyed array whose order is in conflict (boxed: rare, and five times the size of the
    /// other variants, which every member and element of a merged tree would carry).
    Ordered(Box<Ordered<'a>>),
}

// Every member and element of a merged tree is one: kept small.
const _: () = assert!(std::mem::size_of::<Node>() <= 32);

/// A keyed array whose order is in conflict: its merged elements (in base's arranged order)
/// and, per side, the order of `elems` that side asks for.
#[derive(Debug, Clone)]
pub struct Ordered<'a> {
    /// The order conflict's index into `Merge::conflicts`.
    pub conflict: usize,
    /// The merged elements, in base's arranged order.
    pub elems: Vec<Node<'a>>,
    /// Each element's identity text (as `json::scalar_identity` gives it), for typed orders.
    pub ids: Vec<String>,
    /// Indices into `elems` in mine's order and theirs'.
    pub orders: Sides<Vec<usize>>,
}

#[derive(Debug, Clone)]
/// A three-way merge: the merged tree (with conflicts as placeholders), the conflicts, the
/// counts.
pub struct Merge<'a> {
    /// The merged value.
    pub root: Node<'a>,
    /// The collisions, in document order.
    pub conflicts: Vec<Conflict<'a>>,
    /// What was taken from each side.
    pub stats: Stats,
    /// Pointers of arrays that had no usable identity key and were merged by position.
    pub positional_arrays: Vec<String>,
    /// The layout `render` prints in: theirs' (the server's), so that what is sent back differs
    /// from the server's text only where values changed.
    pub style: crate::json::print::Style,
}

impl Merge<'_> {
    /// Whether nothing collided.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }
}

/// Merges `mine` and `theirs`, both descended from `base`.
pub fn three_way<'a>(
    base: &Doc<'a>,
    mine: &Doc<'a>,
    theirs: &Doc<'a>,
    opts: &Options,
) -> Merge<'a> {
    let mut m: Merger<'_, 'a> = Merger {
        opts,
        conflicts: vec![],
        stats: Stats::default(),
        positional: vec![],
        ptr: String::new(),
    };
    let root = m
        .val(
            None,
            Some(V { d: base, i: 0 }),
            Some(V { d: mine, i: 0 }),
            Some(V { d: theirs, i: 0 }),
        )
        .expect("both sides have a root, so the merge has one");
    m.stats.conflicts = m.conflicts.len();
    Merge {
        root,
        conflicts: m.conflicts,
        stats: m.stats,
        positional_arrays: m.positional,
        style: crate::json::print::Style::of(theirs.text),
    }
}

/// A value in one of the inputs.
#[derive(Clone, Copy)]
struct V<'d, 'a> {
    d: &'d Doc<'a>,
    i: usize,
}

impl<'d, 'a> V<'d, 'a> {
    fn span(self) -> &'a str {
        self.d.span(self.i)
    }
    fn kind(self) -> Kind {
        self.d.kind(self.i)
    }
    fn children(self) -> impl Iterator<Item = V<'d, 'a>> {
        let d = self.d;
        d.children(self.i).map(move |i| V { d, i })
    }
    fn key(self) -> Cow<'a, str> {
        self.d.key(self.i)
    }
    fn raw_key(self) -> &'a str {
        self.d.raw_key(self.i)
    }
    fn member(self, key: &str) -> Option<V<'d, 'a>> {
        self.d.member(self.i, key).map(|i| V { d: self.d, i })
    }
}

fn is_container(k: Kind) -> bool {
    matches!(k, Kind::Object | Kind::Array)
}

/// Cheap equality: identical bytes, or equal scalars written differently (string escapes).
/// Containers with different bytes are "not known equal" here; the merge looks inside them.
fn same(x: Option<V>, y: Option<V>) -> bool {
    match (x, y) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (sa, sb) = (a.span(), b.span());
            if sa == sb {
                return true;
            }
            if a.kind() != b.kind() {
                return false;
            }
            match a.kind() {
                Kind::String => {
                    let ea = a.d.node(a.i).value_escaped;
                    let eb = b.d.node(b.i).value_escaped;
                    (ea || eb)
                        && crate::json::tape::unescape(&sa[1..sa.len() - 1])
                            == crate::json::tape::unescape(&sb[1..sb.len() - 1])
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Full equality (member order matters; whitespace does not).
fn deep_eq(x: Option<V>, y: Option<V>) -> bool {
    if same(x, y) {
        return true;
    }
    let (Some(a), Some(b)) = (x, y) else {
        return false;
    };
    if a.kind() == Kind::Number && b.kind() == Kind::Number {
        // A server that prints numbers its own way (`1.50` stored, `1.5` served) has not
        // changed them. Decided here, after the byte checks, so a respelling one side made is
        // still taken as that side's text when the other side kept base's bytes.
        return crate::json::same_number(a.span(), b.span());
    }
    if a.kind() != b.kind() || !is_container(a.kind()) {
        return false;
    }
    let mut ca = a.children();
    let mut cb = b.children();
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) => {
                if a.kind() == Kind::Object && p.key() != q.key() {
                    return false;
                }
                if !deep_eq(Some(p), Some(q)) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Some of an object's members with a lookup by decoded key.
struct Members<'l, 'd, 'a> {
    list: &'l [(Cow<'a, str>, V<'d, 'a>)],
    index: Option<HashMap<&'l str, usize, FastHash>>,
}

impl<'l, 'd, 'a> Members<'l, 'd, 'a> {
    fn of(list: &'l [(Cow<'a, str>, V<'d, 'a>)]) -> Self {
        let index = (list.len() > 12).then(|| {
            list.iter()
                .enumerate()
                .map(|(i, (k, _))| (k.as_ref(), i))
                .collect()
        });
        Members { list, index }
    }
    fn get(&self, key: &str) -> Option<V<'d, 'a>> {
        match &self.index {
            Some(ix) => ix.get(key).map(|&i| self.list[i].1),
            None => self.list.iter().find(|(k, _)| k == key).map(|(_, v)| *v),
        }
    }
}

/// A keyed array's elements named by interned ids: ids by value, not spelling (`"id": 1` and
/// `"id": 1.0` are the same element).
struct Interned<'d, 'a> {
    /// Each id's identity text.
    names: Vec<Cow<'a, str>>,
    /// Per id, each side's element with it (base, mine, theirs).
    slots: Vec<[Option<V<'d, 'a>>; 3]>,
    /// Each side's ids in its order.
    seqs: [Vec<u32>; 3],
}

impl<'d, 'a> Interned<'d, 'a> {
    /// None when an id occurs twice in one side (the key does not identify the elements).
    fn of(key: &str, lists: [&[V<'d, 'a>]; 3]) -> Option<Self> {
        let most = lists.iter().map(|l| l.len()).max().unwrap_or(0);
        let mut intern: HashMap<Cow<'a, str>, u32, FastHash> =
            HashMap::with_capacity_and_hasher(most + most / 8, FastHash::default());
        let mut names: Vec<Cow<'a, str>> = Vec::with_capacity(most);
        let mut slots: Vec<[Option<V<'d, 'a>>; 3]> = Vec::with_capacity(most);
        let mut seqs: [Vec<u32>; 3] = Default::default();
        // Base's ids are its positions (its elements are interned first, each a new id unless
        // repeated, which ends the interning). Mine and theirs mostly keep base's order, or run
        // it backwards: an element whose id is next to the last base id seen (after it, or
        // before it) is found by comparing with that one, without a probe of the table (a
        // cache miss per element on big arrays).
        let base_len = lists[0].len();
        for (side, list) in lists.iter().enumerate() {
            seqs[side].reserve(list.len());
            // The last base id seen on this side, plus one (0: none yet).
            let mut after = 0;
            for v in list.iter() {
                let name = v
                    .member(key)
                    .map(|x| scalar_identity(x.kind(), x.span()))
                    .unwrap_or_default();
                let id = if side > 0 && after < base_len && names[after] == name {
                    after as u32
                } else if side > 0 && after >= 2 && names[after - 2] == name {
                    (after - 2) as u32
                } else {
                    *intern.entry(name).or_insert_with_key(|name| {
                        names.push(name.clone());
                        slots.push([None; 3]);
                        (names.len() - 1) as u32
                    })
                };
                if (id as usize) < base_len {
                    after = id as usize + 1;
                }
                let slot = &mut slots[id as usize][side];
                if slot.is_some() {
                    return None;
                }
                *slot = Some(*v);
                seqs[side].push(id);
            }
        }
        Some(Interned { names, slots, seqs })
    }
}

struct Merger<'o, 'a> {
    opts: &'o Options,
    conflicts: Vec<Conflict<'a>>,
    stats: Stats,
    positional: Vec<String>,
    /// The pointer of the value being merged.
    ptr: String,
}

impl<'a> Merger<'_, 'a> {
    fn push_key(&mut self, key: &str) -> usize {
        let len = self.ptr.len();
        self.ptr.push('/');
        pointer_token(key, &mut self.ptr);
        len
    }

    fn push_index(&mut self, i: usize) -> usize {
        let len = self.ptr.len();
        self.ptr.push('/');
        self.ptr.push_str(&i.to_string());
        len
    }

    /// How many elements one merged element stands for once conflicts are filled with base (the
    /// merged document the pointers address): an array hunk's conflict stands for base's run.
    /// Callers keep a running count, so a pointer costs O(1), not a pass over the array so far.
    fn base_len(&self, n: &Node<'a>) -> usize {
        match n {
            Node::Conflict(i) => self.conflicts[*i].base.len(),
            _ => 1,
        }
    }

    /// Merges one value; None means absent in the result.
    fn val<'d>(
        &mut self,
        key: Option<&'a str>,
        b: Option<V<'d, 'a>>,
        m: Option<V<'d, 'a>>,
        t: Option<V<'d, 'a>>,
    ) -> Option<Node<'a>> {
        if same(m, t) {
            if !same(b, m) {
                self.stats.same_both += 1;
            }
            return m.map(|v| Node::Raw(v.span()));
        }
        if same(b, m) {
            self.stats.from_theirs += 1;
            return t.map(|v| Node::Raw(v.span()));
        }
        if same(b, t) {
            self.stats.from_mine += 1;
            return m.map(|v| Node::Raw(v.span()));
        }
        if let (Some(mv), Some(tv)) = (m, t) {
            match (mv.kind(), tv.kind(), b.map(|v| v.kind())) {
                (Kind::Object, Kind::Object, Some(Kind::Object) | None) => {
                    return Some(self.object(b, mv, tv));
                }
                (Kind::Array, Kind::Array, Some(Kind::Array))
                    // Written differently but equal: no array merge (and no position warning).
                    if !deep_eq(m, t) && !deep_eq(b, m) && !deep_eq(b, t) =>
                {
                    return Some(self.array(b.expect("matched Some"), mv, tv));
                }
                _ => {}
            }
        }
        // Not recursable: decide on full equality (values may be written differently).
        if deep_eq(m, t) {
            self.stats.same_both += 1;
            return m.map(|v| Node::Raw(v.span()));
        }
        if deep_eq(b, m) {
            self.stats.from_theirs += 1;
            return t.map(|v| Node::Raw(v.span()));
        }
        if deep_eq(b, t) {
            self.stats.from_mine += 1;
            return m.map(|v| Node::Raw(v.span()));
        }
        let kind = match (b, m, t) {
            (None, Some(mv), Some(tv)) if mv.kind() != tv.kind() => ConflictKind::TypeChange,
            (None, Some(_), Some(_)) => ConflictKind::AddAdd,
            (_, None, _) | (_, _, None) => ConflictKind::DeleteModify,
            (Some(bv), Some(mv), Some(tv)) => {
                if mv.kind() == tv.kind() && mv.kind() == bv.kind() {
                    ConflictKind::ModifyModify
                } else {
                    ConflictKind::TypeChange
                }
            }
        };
        let one = |v: Option<V<'d, 'a>>| v.map(|v| v.span()).into_iter().collect();
        let node = |v: Option<V<'d, 'a>>| v.map(|v| (v.i, v.i));
        self.conflicts.push(Conflict {
            pointer: self.ptr.clone(),
            kind,
            base: one(b),
            mine: one(m),
            theirs: one(t),
            hunk: false,
            key,
            nodes: Sides {
                base: node(b),
                mine: node(m),
                theirs: node(t),
            },
            id_key: None,
        });
        Some(Node::Conflict(self.conflicts.len() - 1))
    }

    fn object<'d>(&mut self, b: Option<V<'d, 'a>>, m: V<'d, 'a>, t: V<'d, 'a>) -> Node<'a> {
        let list = |v: Option<V<'d, 'a>>| -> Vec<V<'d, 'a>> {
            v.map(|v| v.children().collect()).unwrap_or_default()
        };
        let (bl, ml, tl) = (list(b), list(Some(m)), list(Some(t)));
        // Members at the same place with the same key (as written) in all three need no lookup:
        // usually all but a few (one wide object costs a pass, not three hash maps).
        let aligned = |i: usize, j: usize, k: usize| {
            let raw = bl[i].raw_key();
            raw == ml[j].raw_key() && raw == tl[k].raw_key()
        };
        let n = bl.len().min(ml.len()).min(tl.len());
        let mut pre = 0;
        while pre < n && aligned(pre, pre, pre) {
            pre += 1;
        }
        let mut suf = 0;
        while suf < n - pre && aligned(bl.len() - 1 - suf, ml.len() - 1 - suf, tl.len() - 1 - suf) {
            suf += 1;
        }
        let mut out = Vec::with_capacity(tl.len().max(ml.len()));
        let lockstep = |me: &mut Self, i: usize, j: usize, k: usize, out: &mut Vec<_>| {
            let saved = me.push_key(&tl[k].key());
            let raw = tl[k].raw_key();
            let merged = me.val(Some(raw), Some(bl[i]), Some(ml[j]), Some(tl[k]));
            me.ptr.truncate(saved);
            out.extend(merged.map(|n| (raw, n)));
        };
        for i in 0..pre {
            lockstep(self, i, i, i, &mut out);
        }
        // Only the members between are looked up by name (their keys decoded once here).
        let named = |l: &[V<'d, 'a>]| -> Vec<(Cow<'a, str>, V<'d, 'a>)> {
            l.iter().map(|&c| (c.key(), c)).collect()
        };
        let (bm, mm, tm) = (
            named(&bl[pre..bl.len() - suf]),
            named(&ml[pre..ml.len() - suf]),
            named(&tl[pre..tl.len() - suf]),
        );
        self.members(
            &Members::of(&bm),
            &Members::of(&mm),
            &Members::of(&tm),
            &mut out,
        );
        for s in (0..suf).rev() {
            let (i, j, k) = (bl.len() - 1 - s, ml.len() - 1 - s, tl.len() - 1 - s);
            lockstep(self, i, j, k, &mut out);
        }
        // Documents whose keys are sorted stay sorted (the common case for generated config).
        let sorted = |l: &[V<'d, 'a>]| l.windows(2).all(|w| w[0].key() <= w[1].key());
        if sorted(&bl) && sorted(&ml) && sorted(&tl) {
            out.sort_by(|x, y| key_text(x.0).cmp(&key_text(y.0)));
        }
        Node::Object(out)
    }

    /// Members that are not aligned in all three: theirs' order, with members only mine has
    /// right after their preceding neighbour in mine.
    fn members<'d>(
        &mut self,
        bm: &Members<'_, 'd, 'a>,
        mm: &Members<'_, 'd, 'a>,
        tm: &Members<'_, 'd, 'a>,
        out: &mut Vec<(&'a str, Node<'a>)>,
    ) {
        // buckets[0]: before theirs' first member; buckets[j + 1]: right after theirs' member j.
        let mut theirs_out: Vec<Option<(&'a str, Node<'a>)>> = Vec::with_capacity(tm.list.len());
        for (k, tv) in tm.list {
            let saved = self.push_key(k);
            let raw = tv.raw_key();
            let merged = self.val(Some(raw), bm.get(k), mm.get(k), Some(*tv));
            self.ptr.truncate(saved);
            theirs_out.push(merged.map(|n| (raw, n)));
        }
        let mut buckets: Vec<Vec<(&'a str, Node<'a>)>> = vec![Vec::new(); tm.list.len() + 1];
        let t_index: HashMap<&str, usize, FastHash> =
            if mm.list.len() > tm.list.len() || tm.list.len() > 12 {
                tm.list
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.as_ref(), i))
                    .collect()
            } else {
                HashMap::default()
            };
        let t_pos = |k: &str| -> Option<usize> {
            if t_index.is_empty() {
                tm.list.iter().position(|(tk, _)| tk == k)
            } else {
                t_index.get(k).copied()
            }
        };
        // The bucket mine's preceding member (or the one it follows) landed in.
        let mut last_landed = 0;
        for (k, mv) in mm.list {
            if let Some(tj) = t_pos(k) {
                last_landed = tj + 1;
                continue;
            }
            let saved = self.push_key(k);
            let raw = mv.raw_key();
            let merged = self.val(Some(raw), bm.get(k), Some(*mv), None);
            self.ptr.truncate(saved);
            if let Some(n) = merged {
                buckets[last_landed].push((raw, n));
            }
        }
        let mut buckets = buckets.into_iter();
        out.extend(buckets.next().into_iter().flatten());
        for (member, bucket) in theirs_out.into_iter().zip(buckets) {
            out.extend(member);
            out.extend(bucket);
        }
    }

    fn array<'d>(&mut self, b: V<'d, 'a>, m: V<'d, 'a>, t: V<'d, 'a>) -> Node<'a> {
        let be: Vec<V> = b.children().collect();
        let me: Vec<V> = m.children().collect();
        let te: Vec<V> = t.children().collect();
        if let Some((key, interned)) = self.identity_key([&be, &me, &te]) {
            let arrays = Sides {
                base: b.i,
                mine: m.i,
                theirs: t.i,
            };
            return self.keyed(&key, arrays, interned);
        }
        self.positional.push(self.ptr.clone());
        self.sequence(&be, &me, &te)
    }

    /// The first identity key present in every element of all three versions, with unique
    /// scalar values in each, and the elements interned by it (uniqueness is checked while
    /// interning: one hashing pass, not two).
    fn identity_key<'d>(&self, lists: [&[V<'d, 'a>]; 3]) -> Option<(String, Interned<'d, 'a>)> {
        if lists.iter().all(|l| l.is_empty()) {
            return None;
        }
        let scalar = |key: &str, list: &[V]| {
            list.iter().all(|e| {
                e.kind() == Kind::Object
                    && e.member(key)
                        .is_some_and(|v| matches!(v.kind(), Kind::String | Kind::Number))
            })
        };
        self.opts
            .id_keys
            .iter()
            .filter(|k| lists.iter().all(|l| scalar(k, l)))
            .find_map(|k| Interned::of(k, lists).map(|i| (k.clone(), i)))
    }

    /// A keyed array: elements merged by id, their order merged by `order` (one side's
    /// reorder kept, the same on both taken once, different ones an order conflict).
    fn keyed<'d>(
        &mut self,
        key: &str,
        arrays: Sides<usize>,
        interned: Interned<'d, 'a>,
    ) -> Node<'a> {
        let Interned { names, slots, seqs } = interned;
        let cmp = |a: u32, b: u32| names[a as usize].cmp(&names[b as usize]);
        let merged_order = order::merge(&seqs[0], &seqs[1], &seqs[2], names.len(), &cmp);
        // Base's arranged order addresses the elements when the order is in conflict (pointers
        // are into the base-filled document); the conflict goes before the elements' own.
        let (walk, disagree) = match merged_order {
            order::Order::One(o, from) => {
                match from {
                    order::From::Nobody => {}
                    order::From::Mine => self.stats.from_mine += 1,
                    order::From::Theirs => self.stats.from_theirs += 1,
                    order::From::Both => self.stats.same_both += 1,
                }
                (o, None)
            }
            order::Order::Disagree { base, mine, theirs } => {
                self.conflicts.push(Conflict {
                    pointer: self.ptr.clone(),
                    kind: ConflictKind::Order,
                    base: vec![],
                    mine: vec![],
                    theirs: vec![],
                    hunk: false,
                    key: None,
                    nodes: Sides {
                        base: Some((arrays.base, arrays.base)),
                        mine: Some((arrays.mine, arrays.mine)),
                        theirs: Some((arrays.theirs, arrays.theirs)),
                    },
                    id_key: Some(key.to_string()),
                });
                (base, Some((self.conflicts.len() - 1, mine, theirs)))
            }
        };
        let mut out = Vec::with_capacity(walk.len());
        let mut kept: Vec<u32> = Vec::with_capacity(walk.len());
        let mut at = 0;
        for &id in &walk {
            let [b, m, t] = slots[id as usize];
            let saved = self.push_index(at);
            let merged = self.val(None, b, m, t);
            self.ptr.truncate(saved);
            if let Some(n) = merged {
                at += self.base_len(&n);
                out.push(n);
                kept.push(id);
            }
        }
        let Some((ci, mine, theirs)) = disagree else {
            return Node::Array(out);
        };
        // Each side's order as indices into the merged elements (elements that did not survive
        // drop out), and the conflict's sides as the ids in each order.
        const GONE: usize = usize::MAX;
        let mut index = vec![GONE; names.len()];
        for (i, &id) in kept.iter().enumerate() {
            index[id as usize] = i;
        }
        let indices = |o: &[u32]| -> Vec<usize> {
            o.iter()
                .map(|&id| index[id as usize])
                .filter(|&i| i != GONE)
                .collect()
        };
        let (mine, theirs) = (indices(&mine), indices(&theirs));
        // An id as the side that orders it wrote it (else as another side did).
        let id_text = |i: usize, prefer: usize| -> &'a str {
            let slot = &slots[kept[i] as usize];
            [prefer, 0, 1, 2]
                .iter()
                .find_map(|&s| slot[s].and_then(|v| v.member(key)).map(|x| x.span()))
                .unwrap_or("null")
        };
        let c = &mut self.conflicts[ci];
        c.base = (0..kept.len()).map(|i| id_text(i, 0)).collect();
        c.mine = mine.iter().map(|&i| id_text(i, 1)).collect();
        c.theirs = theirs.iter().map(|&i| id_text(i, 2)).collect();
        Node::Ordered(Box::new(Ordered {
            conflict: ci,
            elems: out,
            ids: kept
                .iter()
                .map(|&id| names[id as usize].to_string())
                .collect(),
            orders: Sides {
                base: (0..kept.len()).collect(),
                mine,
                theirs,
            },
        }))
    }

    /// diff3 over elements: regions unchanged on both sides anchor the hunks between them.
    fn sequence<'d>(&mut self, be: &[V<'d, 'a>], me: &[V<'d, 'a>], te: &[V<'d, 'a>]) -> Node<'a> {
        let canon = |list: &[V<'d, 'a>]| -> Vec<Cow<'a, str>> {
            list.iter()
                .map(|v| {
                    if is_container(v.kind()) {
                        Cow::Owned(compact(v.span()))
                    } else {
                        Cow::Borrowed(v.span())
                    }
                })
                .collect()
        };
        let (cb, cm, ct) = (canon(be), canon(me), canon(te));
        let bm = seqdiff::matches(&cb, &cm);
        let bt = seqdiff::matches(&cb, &ct);
        let mut out: Vec<Node<'a>> = Vec::with_capacity(te.len().max(me.len()));
        // Elements of `out` counted as the base-filled document has them (pointers use it).
        let mut at = 0;
        let (mut bi, mut mi, mut ti) = (0, 0, 0);
        loop {
            let sync = (bi..be.len()).find_map(|j| match (bm[j], bt[j]) {
                (Some(mj), Some(tj)) if mj >= mi && tj >= ti => Some((j, mj, tj)),
                _ => None,
            });
            let (bj, mj, tj) = sync.unwrap_or((be.len(), me.len(), te.len()));
            if bi < bj || mi < mj || ti < tj {
                self.hunk(
                    (be, bi..bj, &cb),
                    (me, mi..mj, &cm),
                    (te, ti..tj, &ct),
                    (&mut out, &mut at),
                );
            }
            let Some(_) = sync else { break };
            out.push(Node::Raw(te[tj].span()));
            at += 1;
            (bi, mi, ti) = (bj + 1, mj + 1, tj + 1);
        }
        Node::Array(out)
    }

    #[allow(clippy::type_complexity)]
    fn hunk<'d>(
        &mut self,
        (be, br, cb): (&[V<'d, 'a>], std::ops::Range<usize>, &[Cow<'a, str>]),
        (me, mr, cm): (&[V<'d, 'a>], std::ops::Range<usize>, &[Cow<'a, str>]),
        (te, tr, ct): (&[V<'d, 'a>], std::ops::Range<usize>, &[Cow<'a, str>]),
        (out, at): (&mut Vec<Node<'a>>, &mut usize),
    ) {
        let mut raw = |l: &[V<'d, 'a>], r: std::ops::Range<usize>| {
            *at += r.len();
            out.extend(l[r].iter().map(|v| Node::Raw(v.span())));
        };
        let (sb, sm, st) = (&cb[br.clone()], &cm[mr.clone()], &ct[tr.clone()]);
        if sm == st {
            if sb != sm {
                self.stats.same_both += 1;
            }
            raw(me, mr);
            return;
        }
        if sb == sm {
            self.stats.from_theirs += 1;
            raw(te, tr);
            return;
        }
        if sb == st {
            self.stats.from_mine += 1;
            raw(me, mr);
            return;
        }
        if br.len() == mr.len() && mr.len() == tr.len() {
            // Element-wise edits on both sides: merge each element (edits inside one object merge).
            for k in 0..br.len() {
                let saved = self.push_index(*at);
                let merged = self.val(
                    None,
                    Some(be[br.start + k]),
                    Some(me[mr.start + k]),
                    Some(te[tr.start + k]),
                );
                self.ptr.truncate(saved);
                *at += merged.as_ref().map_or(0, |n| self.base_len(n));
                out.extend(merged);
            }
            return;
        }
        let kind = if br.is_empty() {
            ConflictKind::AddAdd
        } else if mr.is_empty() || tr.is_empty() {
            ConflictKind::DeleteModify
        } else {
            ConflictKind::ModifyModify
        };
        let spans = |l: &[V<'d, 'a>], r: std::ops::Range<usize>| -> Vec<&'a str> {
            l[r].iter().map(|v| v.span()).collect()
        };
        let range = |l: &[V<'d, 'a>], r: &std::ops::Range<usize>| {
            (!r.is_empty()).then(|| (l[r.start].i, l[r.end - 1].i))
        };
        let nodes = Sides {
            base: range(be, &br),
            mine: range(me, &mr),
            theirs: range(te, &tr),
        };
        let saved = self.push_index(*at);
        *at += br.len();
        self.conflicts.push(Conflict {
            pointer: self.ptr.clone(),
            kind,
            base: spans(be, br),
            mine: spans(me, mr),
            theirs: spans(te, tr),
            hunk: true,
            key: None,
            nodes,
            id_key: None,
        });
        self.ptr.truncate(saved);
        out.push(Node::Conflict(self.conflicts.len() - 1));
    }
}

/// The decoded text of a raw key (quotes included).
fn key_text(raw: &str) -> Cow<'_, str> {
    let inner = &raw[1..raw.len() - 1];
    if inner.contains('\\') {
        Cow::Owned(crate::json::tape::unescape(inner))
    } else {
        Cow::Borrowed(inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(b: &str, m: &str, t: &str) -> (String, Vec<String>) {
        let (b, m, t) = (
            Doc::parse(b).unwrap(),
            Doc::parse(m).unwrap(),
            Doc::parse(t).unwrap(),
        );
        let r = three_way(&b, &m, &t, &Options::default());
        let text = r.render(Fill::Base).unwrap();
        (compact(&text), r.positional_arrays)
    }

    /// Ids found by their neighbour in base (forwards or backwards) still count as repeats: a
    /// side that names an id twice is merged by position.
    #[test]
    fn ids_found_by_base_order_are_still_checked_for_repeats() {
        let base = r#"[{"id":1},{"id":2},{"id":3},{"id":4}]"#;
        let theirs = r#"[{"id":1,"x":0},{"id":2},{"id":3},{"id":4}]"#;
        // Backwards, then 3 again: found as the id before 4, then after 2.
        for mine in [
            r#"[{"id":4},{"id":3},{"id":2},{"id":3}]"#,
            r#"[{"id":1},{"id":2},{"id":1},{"id":2}]"#,
            r#"[{"id":4},{"id":3},{"id":4},{"id":1}]"#,
        ] {
            let (_, positional) = merged(base, mine, theirs);
            assert_eq!(positional, vec![String::new()], "{mine}");
        }
        // Backwards without a repeat: merged by id, mine's order kept, theirs' edit in it.
        let (text, positional) = merged(base, r#"[{"id":4},{"id":3},{"id":2},{"id":1}]"#, theirs);
        assert!(positional.is_empty());
        assert_eq!(text, r#"[{"id":4},{"id":3},{"id":2},{"id":1,"x":0}]"#);
    }
}
