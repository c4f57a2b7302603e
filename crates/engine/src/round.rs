//! A conflict round in the Result the user edits: where each conflict stands in the text now, and
//! whether the user *decided* it.
//!
//! The rule (the product's promise that the window never sends what nobody chose): a conflict
//! counts as resolved only by a decision about that conflict —
//! - an Accept (mine, theirs, both, base), for as long as the value it put there is still there;
//! - or a change of the conflict's own value in the Result that leaves it different from what it
//!   held when the round began.
//!
//! So clicking Edit and typing nothing, typing and undoing back, editing another line, or moving a
//! line past the conflict decide nothing: the value at the conflict is what it was. Values are
//! compared by meaning, not spelling (`75` and ` 75` are the same decision).
//!
//! Positions are read off the text every time (never tracked through keystrokes), so
//! re-formatting, pasting or undo cannot fool them. Array hunks are found again by the stable
//! elements around them, so resolving one hunk with a different length does not shift the
//! others, and conflicts inside the same array keep addressing the right element. An order
//! conflict's value is the list of its array's ids as the Result has them; its elements are found
//! again by id, so accepting an order keeps the conflicts inside the elements where they are.
//!
//! Must never: decide a conflict by itself, or report a conflict as resolved when its value is
//! the one the round started with (unless the user explicitly accepted that value, e.g. base).

use crate::edit::{self, EditError, Put};
use crate::json::print::{compact, pretty_cow_in, Style};
use crate::json::{pointer_token, pointer_tokens, Doc, JsonError, Kind};
use crate::merge::DEFAULT_ID_KEYS;
use crate::merge::{self, ConflictKind};
use crate::outcome::Version;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One conflict as the UI and the CLI show it (values as JSON text; absent is None).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictInfo {
    /// RFC 6901 pointer into the Result.
    pub pointer: String,
    /// What kind of collision.
    pub kind: ConflictKind,
    /// Whether it is a run of array elements.
    pub array_hunk: bool,
    /// For an order conflict (`kind` order, at the array's pointer): the member naming each
    /// element; the sides then hold the ids in each side's order, as a JSON array.
    #[serde(default)]
    pub order_by: Option<String>,
    /// Base's value (JSON text; None: absent).
    pub base: Option<String>,
    /// Mine's value.
    pub mine: Option<String>,
    /// Theirs' value.
    pub theirs: Option<String>,
    /// The place in words, array elements named by identity where they have one
    /// (`labels › id=Label_7 › color`).
    #[serde(default)]
    pub label: String,
    /// 1-based first and last line of each side's value in that side's text (base, mine,
    /// theirs), for scrolling the panes to it; None where that side has it absent.
    #[serde(default)]
    pub lines: SideLines,
}

/// Where one conflict is in each side's text (1-based first and last line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SideLines {
    /// In base's text.
    pub base: Option<(usize, usize)>,
    /// In mine's text.
    pub mine: Option<(usize, usize)>,
    /// In theirs' text.
    pub theirs: Option<(usize, usize)>,
}

/// A merge round waiting for the user, from the engine to the window and the draft: the server's
/// current version it merged with (its validator is what the resubmit carries), the Result it
/// started from (base's value at each conflict), the conflicts, the Accepts made so far and what
/// the merge took from each side. A round with conflicts also keeps the version the edit started
/// from and the user's text as it met the server's change (the panes show them); a clean merge
/// keeps neither. The window's view of a round is built from it and never stored; a draft
/// stores the round itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The server's current version.
    pub current: Version,
    /// The Result the round started from.
    pub start: String,
    /// The version the edit started from (conflicts only).
    #[serde(default)]
    pub base: Option<String>,
    /// The user's text as it met the server's change (conflicts only).
    #[serde(default)]
    pub mine: Option<String>,
    /// The collisions (empty: a clean merge).
    #[serde(default)]
    pub conflicts: Vec<ConflictInfo>,
    /// Per conflict, the last Accept made (None: none yet). Edits by hand need no record: they
    /// are in the Result.
    #[serde(default)]
    pub decisions: Vec<Option<Decision>>,
    /// What was taken from each side.
    pub stats: merge::Stats,
    /// Arrays merged by position (no element ids), whose pointers the user should check.
    #[serde(default)]
    pub positional_arrays: Vec<String>,
}

impl Round {
    /// The round of a merge of base → mine with base → `current` that printed `start`.
    pub fn from_merge(
        result: &merge::Merge,
        start: String,
        current: Version,
        sides: Option<(&str, &str)>,
        docs: [&Doc; 3],
    ) -> Round {
        let conflicts = if result.is_clean() {
            Vec::new()
        } else {
            conflicts_of(result, &start, docs)
        };
        let (base, mine) = match sides {
            Some((b, m)) if !conflicts.is_empty() => (Some(b.to_string()), Some(m.to_string())),
            _ => (None, None),
        };
        Round {
            decisions: vec![None; conflicts.len()],
            current,
            start,
            base,
            mine,
            conflicts,
            stats: result.stats,
            positional_arrays: result.positional_arrays.clone(),
        }
    }

    /// Whether some changes collide (else the merge was clean).
    pub fn has_conflicts(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// Every conflict as it stands in `result` (see `statuses`).
    pub fn statuses(&self, result: &str) -> Result<Vec<ConflictStatus>, JsonError> {
        statuses(&self.start, result, &self.conflicts, &self.decisions)
    }

    /// Applies `choice` to conflict `index` of `result` and remembers the decision.
    pub fn accept(
        &mut self,
        result: &str,
        index: usize,
        choice: Choice,
    ) -> Result<String, AcceptError> {
        let (text, decision) = accept(&self.start, result, &self.conflicts, index, choice)?;
        self.decisions.resize(self.conflicts.len(), None);
        self.decisions[index] = Some(decision);
        Ok(text)
    }

    /// Applies `choice` to every open conflict of `result`, remembering the decisions.
    pub fn accept_all(&mut self, result: &str, choice: Choice) -> Result<String, AcceptError> {
        self.decisions.resize(self.conflicts.len(), None);
        accept_all(
            &self.start,
            result,
            &self.conflicts,
            &mut self.decisions,
            choice,
        )
    }
}

/// Each conflict of `result` as the window and the CLI show it: the sides' values printed, the
/// place in words (labelled against `merged`, the Result printed with base's value at each
/// conflict) and each side's lines in `docs` (base, mine, theirs).
pub fn conflicts_of(result: &merge::Merge, merged: &str, docs: [&Doc; 3]) -> Vec<ConflictInfo> {
    let [b, m, t] = docs;
    // Parsed once for every conflict's label (a parse per conflict cost 25 ms each at 10 MB).
    let merged_doc = Doc::parse(merged).ok();
    result
        .conflicts
        .iter()
        .map(|c| {
            let side = |v: &Vec<&str>| -> Option<String> {
                if c.hunk || c.id_key.is_some() {
                    Some(
                        crate::json::print::pretty(&format!("[{}]", v.join(",")))
                            .trim_end()
                            .to_string(),
                    )
                } else {
                    v.first()
                        .map(|s| crate::json::print::pretty(s).trim_end().to_string())
                }
            };
            ConflictInfo {
                pointer: c.pointer.clone(),
                kind: c.kind,
                array_hunk: c.hunk,
                order_by: c.id_key.clone(),
                base: side(&c.base),
                mine: side(&c.mine),
                theirs: side(&c.theirs),
                label: match c.kind {
                    ConflictKind::Order => {
                        let l = label_in(merged_doc.as_ref(), &c.pointer, None);
                        format!("{l} › order")
                    }
                    _ => label_in(
                        merged_doc.as_ref(),
                        &c.pointer,
                        c.hunk.then_some(c.base.len()),
                    ),
                },
                lines: SideLines {
                    base: node_lines(b, c.nodes.base),
                    mine: node_lines(m, c.nodes.mine),
                    theirs: node_lines(t, c.nodes.theirs),
                },
            }
        })
        .collect()
}

/// The lines of tape nodes `first..=last` (a member's key line included).
fn node_lines(doc: &Doc, nodes: Option<(usize, usize)>) -> Option<(usize, usize)> {
    let (first, last) = nodes?;
    let a = doc.node(first);
    let from = if a.key_end > 0 { a.key_start } else { a.start } as usize;
    let to = doc.node(last).end as usize;
    Some((doc.line_of(from) + 1, doc.line_of(to.saturating_sub(1)) + 1))
}

/// Which version an Accept took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// The tab's own edit.
    Mine,
    /// The server's current version.
    Theirs,
    /// Both runs of an array hunk, mine first.
    Both,
    /// The version both started from.
    Base,
}

/// An Accept the user made: the choice and the value it put at the conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Decision {
    /// What was accepted.
    pub choice: Choice,
    /// The value put there, compact JSON text (for an array hunk, the run as an array); None
    /// when the accepted side has the member absent.
    pub value: Option<String>,
}

/// Where a conflict stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConflictState {
    /// Nobody decided it: the Result still holds what the round started with.
    Unresolved,
    /// Accepted mine, and mine's value is still there.
    Mine,
    /// Accepted theirs, and theirs' value is still there.
    Theirs,
    /// Accepted both runs, still there.
    Both,
    /// Accepted base, still there.
    Base,
    /// The user changed the value to something else than the round started with.
    Edited,
}

impl ConflictState {
    /// True unless the conflict is still open.
    pub fn is_resolved(self) -> bool {
        self != ConflictState::Unresolved
    }
}

/// One conflict as it stands in the Result now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictStatus {
    /// Decided or not, and how.
    pub state: ConflictState,
    /// The pointer that addresses the conflict in the Result now (hunks resolved earlier in the
    /// same array may have moved it).
    pub pointer: String,
    /// 1-based first and last line of the conflict in the Result (its member line included); for
    /// an absent value, the lines of the object or array it would be in.
    pub lines: Option<(usize, usize)>,
    /// The value's place in the Result as JavaScript string offsets (UTF-16 units), to put the
    /// cursor on the value itself; None when absent.
    pub range: Option<(usize, usize)>,
    /// The value there now (canonical compact JSON; an array hunk's run as an array), None when
    /// absent.
    pub value: Option<String>,
    /// The value equals neither mine nor theirs (sending it replaces both sides' change).
    pub neither_side: bool,
}

/// Where a conflict is in one text: the pointer there and, for a hunk, the run's start and length.
#[derive(Debug, Clone)]
struct Spot {
    /// Tokens of the pointer in this text (a hunk's last token is its run's start index).
    tokens: Vec<String>,
    /// For a hunk: how many elements its run has in this text.
    run: Option<usize>,
    /// For an order conflict: the member naming each element (the value is the ids' list).
    order_by: Option<String>,
}

/// `text`, which an edit printed in the canonical layout, in the layout of `like` (the Result
/// before the edit, printed in the server's layout by the merge): an Accept changes the lines
/// of its conflict, not the indentation of every other line.
fn in_layout_of(like: &str, text: String) -> String {
    let style = Style::of(like);
    if style.is_canonical() {
        return text;
    }
    match pretty_cow_in(&text, &style) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(t) => t,
    }
}

/// Canonical text of a value for comparing by meaning: compact form (numbers keep their text).
fn canon(v: &str) -> String {
    compact(v)
}

/// Same by meaning: byte-equal compact forms, else equal JSON values (so `1.0`/`1` and key order
/// differences are not "changes" either).
fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => canon(x) == canon(y) || crate::json::same_text(x, y),
        _ => false,
    }
}

/// Two id lists (JSON arrays) put the elements they share in the same order.
fn same_order(a: Option<&str>, b: Option<&str>) -> bool {
    let ids = |t: Option<&str>| -> Option<Vec<String>> {
        let d = Doc::parse(t?).ok()?;
        (d.kind(0) == Kind::Array).then(|| d.children(0).map(|c| canon(d.span(c))).collect())
    };
    match (ids(a), ids(b)) {
        (Some(x), Some(y)) => {
            let (sx, sy): (
                std::collections::HashSet<&String>,
                std::collections::HashSet<&String>,
            ) = (x.iter().collect(), y.iter().collect());
            let only =
                |l: &Vec<String>, other: &std::collections::HashSet<&String>| -> Vec<String> {
                    l.iter().filter(|i| other.contains(i)).cloned().collect()
                };
            only(&x, &sy) == only(&y, &sx)
        }
        (x, y) => x.is_none() && y.is_none(),
    }
}

/// The node a list of tokens addresses.
fn find(doc: &Doc, tokens: &[String]) -> Option<usize> {
    let mut i = 0;
    for t in tokens {
        i = match doc.kind(i) {
            Kind::Object => doc.member(i, t)?,
            Kind::Array => doc.children(i).nth(t.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(i)
}

fn pointer_of(tokens: &[String]) -> String {
    let mut p = String::new();
    for t in tokens {
        p.push('/');
        pointer_token(t, &mut p);
    }
    p
}

/// How an array of the round's start maps into the Result: stable elements by index, and each
/// hunk's run (start, length).
struct ArrayMap {
    stable: HashMap<usize, usize>,
    runs: HashMap<usize, (usize, usize)>,
}

/// Finds the hunks of one array again in the Result by the stable elements between them.
/// `hunks` are (start index, length) in the start text, sorted; `loose` are start indices of
/// elements that hold a conflict of their own (they change when it is resolved, so they match any
/// element). None when the array was changed around the hunks so much that the runs cannot be
/// told apart.
fn align(
    start: &[String],
    now: &[String],
    hunks: &[(usize, usize)],
    loose: &std::collections::HashSet<usize>,
) -> Option<ArrayMap> {
    let mut stable = HashMap::new();
    let mut runs = HashMap::new();
    // Segments of stable elements: before the first hunk, between hunks, after the last.
    let mut segments = Vec::with_capacity(hunks.len() + 1);
    let mut from = 0;
    for &(at, len) in hunks {
        segments.push(from..at);
        from = at + len;
    }
    segments.push(from..start.len());
    let eq = |s: usize, r: usize| r < now.len() && (loose.contains(&s) || start[s] == now[r]);
    // The first segment is a prefix.
    for s in segments[0].clone() {
        if !eq(s, s) {
            return None;
        }
        stable.insert(s, s);
    }
    let mut pos = segments[0].len();
    let last = segments.len() - 1;
    for (j, &(at, _)) in hunks.iter().enumerate() {
        let seg = segments[j + 1].clone();
        let found = if j + 1 == last {
            // The last segment is a suffix.
            let q = now.len().checked_sub(seg.len())?;
            (q >= pos && seg.clone().enumerate().all(|(k, s)| eq(s, q + k))).then_some(q)
        } else {
            if seg.is_empty() {
                return None;
            }
            (pos..=now.len().saturating_sub(seg.len()))
                .find(|&p| seg.clone().enumerate().all(|(k, s)| eq(s, p + k)))
        }?;
        runs.insert(at, (pos, found - pos));
        for (k, s) in seg.clone().enumerate() {
            stable.insert(s, found + k);
        }
        pos = found + seg.len();
    }
    Some(ArrayMap { stable, runs })
}

/// The conflicts of a round, found in the start text and in the Result.
struct Located<'s, 'r> {
    start: Doc<'s>,
    now: Doc<'r>,
    /// Per conflict: its spot in the start text and in the Result (None: not there any more).
    spots: Vec<(Spot, Option<Spot>)>,
}

fn elements(doc: &Doc, array: usize) -> Vec<String> {
    doc.children(array).map(|c| canon(doc.span(c))).collect()
}

/// An element's id by value (as the merge matches ids), None without one.
fn element_id(doc: &Doc, element: usize, key: &str) -> Option<String> {
    if doc.kind(element) != Kind::Object {
        return None;
    }
    let v = doc.member(element, key)?;
    Some(crate::json::scalar_identity(doc.kind(v), doc.span(v)).into_owned())
}

/// The member every element of an array is identified by: the first of the merge's default id
/// keys that each element holds as a string or a number, with no id twice. None for an empty
/// array or one without ids.
fn id_key(doc: &Doc, array: usize) -> Option<String> {
    let elements: Vec<usize> = doc.children(array).collect();
    if elements.is_empty() {
        return None;
    }
    DEFAULT_ID_KEYS.iter().find_map(|key| {
        let mut ids = std::collections::HashSet::with_capacity(elements.len());
        elements
            .iter()
            .all(|&e| {
                doc.kind(e) == Kind::Object
                    && doc
                        .member(e, key)
                        .filter(|&v| matches!(doc.kind(v), Kind::String | Kind::Number))
                        .is_some_and(|v| {
                            ids.insert(crate::json::scalar_identity(doc.kind(v), doc.span(v)))
                        })
            })
            .then(|| key.to_string())
    })
}

/// How an array whose order is in conflict maps into the Result: each start element to the
/// element with the same id now.
fn by_id(start: &Doc, s: usize, now: &Doc, r: usize, key: &str) -> ArrayMap {
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, c) in now.children(r).enumerate() {
        if let Some(id) = element_id(now, c, key) {
            at.entry(id).or_insert(i);
        }
    }
    // An element that is gone (removed through its own conflict) maps past the end: its
    // conflicts then read as absent there, which is what deciding "delete" leaves.
    let stable = start
        .children(s)
        .enumerate()
        .map(|(i, c)| {
            let now_at = element_id(start, c, key).and_then(|id| at.get(&id).copied());
            (i, now_at.unwrap_or(usize::MAX))
        })
        .collect();
    ArrayMap {
        stable,
        runs: HashMap::new(),
    }
}

fn locate<'s, 'r>(
    start_text: &'s str,
    now_text: &'r str,
    conflicts: &[ConflictInfo],
) -> Result<Located<'s, 'r>, JsonError> {
    let start = Doc::parse(start_text)?;
    // The Result as the round began (a round just shown, a restored draft): parsed once.
    let now = match start.for_same_text(now_text) {
        Some(same) => same,
        None => Doc::parse(now_text)?,
    };
    let start_spots: Vec<Spot> = conflicts
        .iter()
        .map(|c| Spot {
            tokens: pointer_tokens(&c.pointer).unwrap_or_default(),
            run: c.array_hunk.then(|| {
                c.base
                    .as_deref()
                    .and_then(|b| Doc::parse(b).ok().map(|d| d.children(0).count()))
                    .unwrap_or(0)
            }),
            order_by: c.order_by.clone(),
        })
        .collect();
    // Arrays holding hunks, by their pointer in the start text; shallow ones first, so a nested
    // array's own place is translated through its parents' maps. Arrays whose order is in
    // conflict map their elements by id.
    let mut groups: BTreeMap<(usize, String), Vec<(usize, usize)>> = BTreeMap::new();
    let mut ordered: HashMap<String, String> = HashMap::new();
    for s in &start_spots {
        if let (Some(len), Some((last, parent))) = (s.run, s.tokens.split_last()) {
            if let Ok(at) = last.parse::<usize>() {
                groups
                    .entry((parent.len(), pointer_of(parent)))
                    .or_default()
                    .push((at, len));
            }
        }
        if let Some(key) = &s.order_by {
            let p = pointer_of(&s.tokens);
            groups.entry((s.tokens.len(), p.clone())).or_default();
            ordered.insert(p, key.clone());
        }
    }
    // Arrays whose elements have ids (as the merge matched them) and hold a conflict at or
    // below an element map their elements by id too: an Accept that removes an element, or a
    // hand edit that moves one, must not shift the later conflicts onto its neighbours.
    let mut seen = std::collections::HashSet::new();
    for s in &start_spots {
        for d in 0..s.tokens.len() {
            // Only a prefix followed by an index can be an array.
            if s.tokens[d].parse::<usize>().is_err() {
                continue;
            }
            let parent = pointer_of(&s.tokens[..d]);
            if ordered.contains_key(&parent) || !seen.insert(parent.clone()) {
                continue;
            }
            let keyed = find(&start, &s.tokens[..d])
                .filter(|&a| start.kind(a) == Kind::Array)
                .and_then(|a| id_key(&start, a));
            if let Some(key) = keyed {
                groups.entry((d, parent.clone())).or_default();
                ordered.insert(parent, key);
            }
        }
    }
    let mut maps: HashMap<String, Option<ArrayMap>> = HashMap::new();
    for ((depth, parent), mut hunks) in groups {
        if let Some(key) = ordered.get(&parent).filter(|_| hunks.is_empty()) {
            let tokens = pointer_tokens(&parent).unwrap_or_default();
            let map = (|| {
                let s = find(&start, &tokens)?;
                let r = find(&now, &translate(&tokens, &maps)?)?;
                (now.kind(r) == Kind::Array).then(|| by_id(&start, s, &now, r, key))
            })();
            maps.insert(parent, map);
            continue;
        }
        hunks.sort_unstable();
        hunks.dedup();
        let tokens = pointer_tokens(&parent).unwrap_or_default();
        // Elements of this array that hold a conflict below them.
        let loose: std::collections::HashSet<usize> = start_spots
            .iter()
            .filter(|s| s.tokens.len() > depth + 1 && s.tokens[..depth] == tokens[..])
            .filter_map(|s| s.tokens[depth].parse().ok())
            .collect();
        let map = (|| {
            let s = find(&start, &tokens)?;
            let r = find(&now, &translate(&tokens, &maps)?)?;
            if now.kind(r) != Kind::Array {
                return None;
            }
            align(&elements(&start, s), &elements(&now, r), &hunks, &loose)
        })();
        maps.insert(parent, map);
    }
    let spots = start_spots
        .into_iter()
        .map(|s| {
            let here = match (s.run, s.tokens.split_last()) {
                (Some(_), Some((last, parent))) => (|| {
                    let map = maps.get(&pointer_of(parent))?.as_ref()?;
                    let (at, len) = *map.runs.get(&last.parse::<usize>().ok()?)?;
                    let mut tokens = translate(parent, &maps)?;
                    tokens.push(at.to_string());
                    Some(Spot {
                        tokens,
                        run: Some(len),
                        order_by: None,
                    })
                })(),
                _ => translate(&s.tokens, &maps).map(|tokens| Spot {
                    tokens,
                    run: None,
                    order_by: s.order_by.clone(),
                }),
            };
            (s, here)
        })
        .collect();
    Ok(Located { start, now, spots })
}

/// A start-text pointer's tokens in the Result: indices into arrays with hunks go through the
/// array's map. None when the element is not there any more.
fn translate(tokens: &[String], maps: &HashMap<String, Option<ArrayMap>>) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(tokens.len());
    for (k, t) in tokens.iter().enumerate() {
        match maps.get(&pointer_of(&tokens[..k])) {
            Some(map) => {
                let i: usize = t.parse().ok()?;
                out.push(map.as_ref()?.stable.get(&i)?.to_string());
            }
            None => out.push(t.clone()),
        }
    }
    Some(out)
}

/// The value at a spot: the node's compact text, or the run as an array, or for an order
/// conflict its array's ids in order; None when absent.
fn value_at(doc: &Doc, spot: &Spot) -> Option<String> {
    if let Some(key) = &spot.order_by {
        let array = find(doc, &spot.tokens).filter(|&a| doc.kind(a) == Kind::Array)?;
        let ids: Vec<String> = doc
            .children(array)
            .map(|c| {
                (doc.kind(c) == Kind::Object)
                    .then(|| doc.member(c, key))
                    .flatten()
                    .map_or_else(|| "null".to_string(), |v| canon(doc.span(v)))
            })
            .collect();
        return Some(format!("[{}]", ids.join(",")));
    }
    match spot.run {
        Some(len) => {
            let (last, parent) = spot.tokens.split_last()?;
            let array = find(doc, parent)?;
            let at: usize = last.parse().ok()?;
            let run: Vec<String> = doc
                .children(array)
                .skip(at)
                .take(len)
                .map(|c| canon(doc.span(c)))
                .collect();
            Some(format!("[{}]", run.join(",")))
        }
        None => find(doc, &spot.tokens).map(|i| canon(doc.span(i))),
    }
}

/// A range of byte offsets in the Result.
type ByteRange = Option<(usize, usize)>;

/// A spot's place in the Result, as byte offsets: its lines (the first byte of its first line's
/// member or value, and its last byte) and its value's range (`statuses` turns them into lines
/// and UTF-16 offsets in one pass).
fn place(doc: &Doc, spot: &Spot) -> (ByteRange, ByteRange) {
    let lines_of = |first: usize, last: usize| {
        let a = doc.node(first);
        let from = if a.key_end > 0 { a.key_start } else { a.start } as usize;
        let to = doc.node(last).end as usize;
        (from, to.saturating_sub(1))
    };
    match spot.run {
        Some(len) => {
            let Some((last, parent)) = spot.tokens.split_last() else {
                return (None, None);
            };
            let Some(array) = find(doc, parent) else {
                return (None, None);
            };
            let at: usize = last.parse().unwrap_or(0);
            let run: Vec<usize> = doc.children(array).skip(at).take(len).collect();
            match (run.first(), run.last()) {
                (Some(&a), Some(&b)) => (
                    Some(lines_of(a, b)),
                    Some((doc.node(a).start as usize, doc.node(b).end as usize)),
                ),
                _ => (Some(lines_of(array, array)), None),
            }
        }
        None => match find(doc, &spot.tokens) {
            Some(i) => (
                Some(lines_of(i, i)),
                Some((doc.node(i).start as usize, doc.node(i).end as usize)),
            ),
            None => {
                // Absent: show where it would be (the nearest container that is there).
                let mut tokens = spot.tokens.clone();
                while tokens.pop().is_some() {
                    if let Some(i) = find(doc, &tokens) {
                        return (Some(lines_of(i, i)), None);
                    }
                }
                (None, None)
            }
        },
    }
}

/// Every conflict of a round as it stands in `result`: decided or not (see the module's rule),
/// where it is, and whether its value equals neither side's. `start` is the Result the round began
/// with; `decisions[i]` the last Accept made on conflict `i`. An error when `result` is not JSON
/// (the caller keeps the last answer until it is).
pub fn statuses(
    start: &str,
    result: &str,
    conflicts: &[ConflictInfo],
    decisions: &[Option<Decision>],
) -> Result<Vec<ConflictStatus>, JsonError> {
    let located = locate(start, result, conflicts)?;
    let places: Vec<(ByteRange, ByteRange)> = located
        .spots
        .iter()
        .map(|(_, here)| {
            here.as_ref()
                .map_or((None, None), |s| place(&located.now, s))
        })
        .collect();
    // Lines and UTF-16 offsets of every place, counted in one pass over the Result (counting
    // from the start for each conflict made a status refresh cost conflicts × size).
    let offsets: Vec<usize> = places
        .iter()
        .flat_map(|(l, r)| [l, r])
        .flat_map(|x| x.map_or([None, None], |(a, b)| [Some(a), Some(b)]))
        .flatten()
        .collect();
    let mut at = positions(result, &offsets).into_iter();
    let mut next =
        |x: ByteRange| x.map(|_| (at.next().unwrap_or_default(), at.next().unwrap_or_default()));
    Ok(conflicts
        .iter()
        .zip(&located.spots)
        .zip(places)
        .enumerate()
        .map(|(i, ((c, (then, here)), (lines, range)))| {
            let (state, value) = state_of(&located, i, then, here.as_ref(), decisions);
            let lines = next(lines).map(|(a, b)| (a.0 + 1, b.0 + 1));
            let range = next(range).map(|(a, b)| (a.1, b.1));
            let pointer = here
                .as_ref()
                .map_or_else(|| c.pointer.clone(), |s| pointer_of(&s.tokens));
            let side = |v: &Option<String>| v.as_deref().map(canon);
            let same = |a: Option<&str>, b: Option<&str>| same_as(then, a, b);
            let neither_side = !same(value.as_deref(), side(&c.mine).as_deref())
                && !same(value.as_deref(), side(&c.theirs).as_deref());
            ConflictStatus {
                state,
                pointer,
                lines,
                range,
                value,
                neither_side,
            }
        })
        .collect())
}

/// Two values of a conflict compared: an order conflict's value is its ids in order, compared
/// as an order of the elements both lists hold, so resolving another conflict that removes or
/// adds an element of that array decides nothing about the order.
fn same_as(then: &Spot, a: Option<&str>, b: Option<&str>) -> bool {
    if then.order_by.is_some() {
        same_order(a, b)
    } else {
        same(a, b)
    }
}

/// Conflict `i`'s state in the located Result (see the module's rule), and its value there.
fn state_of(
    located: &Located,
    i: usize,
    then: &Spot,
    here: Option<&Spot>,
    decisions: &[Option<Decision>],
) -> (ConflictState, Option<String>) {
    let was = value_at(&located.start, then);
    let value = here.and_then(|s| value_at(&located.now, s));
    let same = |a: Option<&str>, b: Option<&str>| same_as(then, a, b);
    let state = match decisions.get(i).and_then(|d| d.as_ref()) {
        Some(d) if here.is_some() && same(value.as_deref(), d.value.as_deref()) => match d.choice {
            Choice::Mine => ConflictState::Mine,
            Choice::Theirs => ConflictState::Theirs,
            Choice::Both => ConflictState::Both,
            Choice::Base => ConflictState::Base,
        },
        _ if here.is_some() && !same(value.as_deref(), was.as_deref()) => ConflictState::Edited,
        _ => ConflictState::Unresolved,
    };
    (state, value)
}

/// Every conflict still open in `result` accepted to `choice`, in order, each as a single
/// Accept would (an Accept that decides a later conflict too leaves that one alone); the
/// decisions are recorded in `decisions`. Values put in places apart from each other (the common
/// case) are put in one pass: one parse and one print of the Result for them all, where one
/// Accept after another parsed the two texts six times and printed the Result once per
/// conflict (3.3 s for eight conflicts at 10 MB).
pub fn accept_all(
    start: &str,
    result: &str,
    conflicts: &[ConflictInfo],
    decisions: &mut [Option<Decision>],
    choice: Choice,
) -> Result<String, AcceptError> {
    if let Some(text) = accept_all_at_once(start, result, conflicts, decisions, choice)? {
        return Ok(text);
    }
    accept_one_by_one(start, result, conflicts, decisions, choice)
}

/// `accept_all` in one pass, when every open conflict is a value (no array run, no order) and
/// their places are apart; None otherwise (nothing recorded then).
fn accept_all_at_once(
    start: &str,
    result: &str,
    conflicts: &[ConflictInfo],
    decisions: &mut [Option<Decision>],
    choice: Choice,
) -> Result<Option<String>, AcceptError> {
    if choice == Choice::Both {
        return Ok(None);
    }
    let located =
        locate(start, result, conflicts).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    let mut puts = vec![];
    let mut accepted = vec![];
    for (i, c) in conflicts.iter().enumerate() {
        let (then, here) = &located.spots[i];
        if state_of(&located, i, then, here.as_ref(), decisions)
            .0
            .is_resolved()
        {
            continue;
        }
        let Some(here) = here
            .as_ref()
            .filter(|h| h.run.is_none() && h.order_by.is_none())
        else {
            return Ok(None);
        };
        let value = match choice {
            Choice::Mine => &c.mine,
            Choice::Theirs => &c.theirs,
            Choice::Base | Choice::Both => &c.base,
        };
        puts.push((
            pointer_of(&here.tokens),
            match value {
                Some(v) => Put::Value(v),
                None => Put::Remove,
            },
        ));
        accepted.push(i);
    }
    if accepted.is_empty() {
        return Ok(Some(result.to_string()));
    }
    let Some(text) = edit::put_many(result, puts)? else {
        return Ok(None);
    };
    let text = in_layout_of(result, text);
    // What is there now is what each decision holds (read back, as a single Accept does).
    let after = locate(start, &text, conflicts).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    for i in accepted {
        let value = after.spots[i]
            .1
            .as_ref()
            .and_then(|s| value_at(&after.now, s));
        if let Some(d) = decisions.get_mut(i) {
            *d = Some(Decision { choice, value });
        }
    }
    Ok(Some(text))
}

/// `accept_all` as one Accept after another, each on the text the last one left.
fn accept_one_by_one(
    start: &str,
    result: &str,
    conflicts: &[ConflictInfo],
    decisions: &mut [Option<Decision>],
    choice: Choice,
) -> Result<String, AcceptError> {
    let mut text = result.to_string();
    for i in 0..conflicts.len() {
        let open = {
            let located =
                locate(start, &text, conflicts).map_err(|e| AcceptError::Invalid(e.to_string()))?;
            let (then, here) = &located.spots[i];
            !state_of(&located, i, then, here.as_ref(), decisions)
                .0
                .is_resolved()
        };
        if !open {
            continue;
        }
        let (next, decision) = accept(start, &text, conflicts, i, choice)?;
        text = next;
        if let Some(d) = decisions.get_mut(i) {
            *d = Some(decision);
        }
    }
    Ok(text)
}

/// For each byte offset of `text` (in any order), its 0-based line and its offset in UTF-16
/// code units (what the window's editor counts in), found in one pass.
fn positions(text: &str, offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_unstable_by_key(|&k| offsets[k]);
    let bytes = text.as_bytes();
    let mut out = vec![(0, 0); offsets.len()];
    let (mut pos, mut line, mut units) = (0usize, 0usize, 0usize);
    for k in order {
        let target = offsets[k].min(bytes.len());
        for &b in &bytes[pos..target.max(pos)] {
            line += usize::from(b == b'\n');
            // One unit per character (a lead byte), two for a 4-byte one.
            units += usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0);
        }
        pos = target.max(pos);
        out[k] = (line, units);
    }
    out
}

/// Why an Accept could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// No conflict with that number in this round.
    #[error("there is no conflict number {0} in this round")]
    NoSuchConflict(usize),
    /// "Both" on a single value.
    #[error("\"Both\" keeps two versions side by side, which only an array can hold. Choose mine or theirs, or edit the Result")]
    BothNeedsArray,
    /// "Both" on an order conflict.
    #[error("an array has one order: choose mine's, theirs' or base's, or move the elements in the Result yourself")]
    BothOrders,
    /// The Result is not JSON now.
    #[error("the Result is not valid JSON ({0}); fix it first")]
    Invalid(String),
    /// The conflict's place is gone from the Result (the user removed it by hand).
    #[error("the place of {0:?} is no longer in the Result (was it removed by hand?); edit it there, or reload")]
    Gone(String),
    /// Applying the value failed.
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// Applies one side's value for conflict `index` to `result`: returns the new Result and the
/// decision to remember. Hunks are found where they are now, so the order of Accepts does not
/// matter.
pub fn accept(
    start: &str,
    result: &str,
    conflicts: &[ConflictInfo],
    index: usize,
    choice: Choice,
) -> Result<(String, Decision), AcceptError> {
    let c = conflicts
        .get(index)
        .ok_or(AcceptError::NoSuchConflict(index))?;
    let located =
        locate(start, result, conflicts).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    let here = located.spots[index]
        .1
        .clone()
        .ok_or_else(|| AcceptError::Gone(c.pointer.clone()))?;
    let pick = |ch: Choice| match ch {
        Choice::Mine => &c.mine,
        Choice::Theirs => &c.theirs,
        Choice::Base | Choice::Both => &c.base,
    };
    let pointer = pointer_of(&here.tokens);
    let text = match (&here.order_by, here.run) {
        (Some(key), _) => {
            if choice == Choice::Both {
                return Err(AcceptError::BothOrders);
            }
            reorder(
                result,
                &here.tokens,
                key,
                pick(choice).as_deref().unwrap_or("[]"),
            )?
        }
        (None, run) => match run {
            Some(count) => {
                let elems = |v: &Option<String>| -> Vec<String> {
                    let t = v.clone().unwrap_or_else(|| "[]".into());
                    Doc::parse(&t)
                        .map(|d| d.children(0).map(|i| d.span(i).to_string()).collect())
                        .unwrap_or_default()
                };
                let chosen: Vec<String> = match choice {
                    Choice::Both => elems(&c.mine).into_iter().chain(elems(&c.theirs)).collect(),
                    other => elems(pick(other)),
                };
                edit::put_at(
                    result,
                    &pointer,
                    Put::Run {
                        count,
                        elements: chosen.iter().map(String::as_str).collect(),
                    },
                )?
            }
            None => {
                if choice == Choice::Both {
                    return Err(AcceptError::BothNeedsArray);
                }
                match pick(choice) {
                    Some(v) => edit::put_at(result, &pointer, Put::Value(v))?,
                    None => edit::put_at(result, &pointer, Put::Remove)?,
                }
            }
        },
    };
    let text = in_layout_of(result, text);
    // What is there now is what the decision holds (read back, so it compares exactly).
    let after = locate(start, &text, conflicts).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    let value = after.spots[index]
        .1
        .as_ref()
        .and_then(|s| value_at(&after.now, s));
    Ok((text, Decision { choice, value }))
}

/// The Result with the array at `tokens` put in the order of `ids` (a JSON array of ids): each
/// element keeps its text as the Result has it (resolved conflicts inside it stay resolved);
/// elements the list does not name stay after the named ones, in their order.
fn reorder(result: &str, tokens: &[String], key: &str, ids: &str) -> Result<String, AcceptError> {
    let doc = Doc::parse(result).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    let pointer = pointer_of(tokens);
    let array = find(&doc, tokens)
        .filter(|&a| doc.kind(a) == Kind::Array)
        .ok_or_else(|| AcceptError::Gone(pointer.clone()))?;
    let wanted = Doc::parse(ids).map_err(|e| AcceptError::Invalid(e.to_string()))?;
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    let elements: Vec<usize> = doc.children(array).collect();
    for (i, &e) in elements.iter().enumerate() {
        if let Some(id) = element_id(&doc, e, key) {
            by_id.entry(id).or_default().push(i);
        }
    }
    let mut taken = vec![false; elements.len()];
    let mut order = Vec::with_capacity(elements.len());
    for w in wanted.children(0) {
        let id = crate::json::scalar_identity(wanted.kind(w), wanted.span(w));
        if let Some(list) = by_id.get_mut(id.as_ref()) {
            if !list.is_empty() {
                let i = list.remove(0);
                taken[i] = true;
                order.push(i);
            }
        }
    }
    order.extend((0..elements.len()).filter(|&i| !taken[i]));
    let spans: Vec<&str> = order.iter().map(|&i| doc.span(elements[i])).collect();
    Ok(edit::put_at(
        result,
        &pointer,
        Put::Value(&format!("[{}]", spans.join(","))),
    )?)
}

/// A conflict's place in words, naming array elements by identity where they have one:
/// `labels › id=Label_7 › color`. `doc` is the round's Result, parsed once for all its labels
/// (`None`: not valid JSON, so the pointer's own words).
pub fn label_in(doc: Option<&Doc>, pointer: &str, hunk_len: Option<usize>) -> String {
    let Some(tokens) = pointer_tokens(pointer) else {
        return pointer.to_string();
    };
    if tokens.is_empty() {
        return "(whole document)".into();
    }
    let mut parts = Vec::with_capacity(tokens.len());
    let mut at = doc.as_ref().map(|_| 0usize);
    let last = tokens.len() - 1;
    for (k, t) in tokens.iter().enumerate() {
        let (d, i) = match (&doc, at) {
            (Some(d), Some(i)) => (d, i),
            _ => {
                parts.push(t.clone());
                continue;
            }
        };
        match d.kind(i) {
            Kind::Array => {
                let idx: usize = t.parse().unwrap_or(usize::MAX);
                let el = d.children(i).nth(idx);
                let hunk = if k == last { hunk_len } else { None };
                let word = match (hunk, el) {
                    (Some(0), _) => format!("insertion at [{idx}]"),
                    (Some(n), _) if n > 1 => format!("[{idx}…{}]", idx + n - 1),
                    (_, Some(e)) => identity(d, e).unwrap_or_else(|| format!("[{idx}]")),
                    _ => format!("[{idx}]"),
                };
                parts.push(word);
                at = el;
            }
            Kind::Object => {
                parts.push(t.clone());
                at = d.member(i, t);
            }
            _ => {
                parts.push(t.clone());
                at = None;
            }
        }
    }
    parts.join(" › ")
}

/// `id=value` for an object element with an identity key holding a string or a number.
fn identity(doc: &Doc, element: usize) -> Option<String> {
    if doc.kind(element) != Kind::Object {
        return None;
    }
    DEFAULT_ID_KEYS.iter().find_map(|k| {
        let v = doc.member(element, k)?;
        match doc.kind(v) {
            Kind::String => {
                let s = doc.span(v);
                Some(format!(
                    "{k}={}",
                    crate::json::tape::unescape(&s[1..s.len() - 1])
                ))
            }
            Kind::Number => Some(format!("{k}={}", doc.span(v))),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::Options;
    use crate::session::{merge_with, SaveResult, Version};

    /// The round as one value: made by the merge with base and mine kept, Accepts recorded in
    /// it, statuses read from it, and stored and read back whole (a draft).
    #[test]
    fn a_round_is_one_value_from_the_merge_to_the_draft() {
        let base = Version {
            text: r#"{"a": 1, "b": 1, "c": 1}"#.into(),
            validator: None,
        };
        let theirs = Version {
            text: r#"{"a": 3, "b": 3, "c": 1}"#.into(),
            validator: None,
        };
        let mine = r#"{"a": 2, "b": 2, "c": 2}"#;
        let SaveResult::Conflicts { round: mut r } =
            merge_with(&base, mine, theirs.clone(), &Options::default())
        else {
            panic!("two conflicts expected")
        };
        assert_eq!(r.conflicts.len(), 2);
        assert_eq!(r.decisions, vec![None, None]);
        assert_eq!(r.base.as_deref(), Some(base.text.as_str()));
        assert_eq!(r.mine.as_deref(), Some(mine));
        assert_eq!(r.current, theirs);
        assert_eq!(r.stats.from_mine, 1, "c is mine alone");
        let open = r.statuses(&r.start).unwrap();
        assert!(open.iter().all(|s| !s.state.is_resolved()), "{open:?}");
        let start = r.start.clone();
        let one = r.accept(&start, 0, Choice::Mine).unwrap();
        assert!(r.decisions[0].is_some() && r.decisions[1].is_none());
        let now = r.statuses(&one).unwrap();
        assert!(now[0].state.is_resolved() && !now[1].state.is_resolved());
        let all = r.accept_all(&one, Choice::Theirs).unwrap();
        assert!(r.decisions.iter().all(Option::is_some));
        assert!(r
            .statuses(&all)
            .unwrap()
            .iter()
            .all(|s| s.state.is_resolved()));
        let stored = serde_json::to_string(&r).unwrap();
        let back: Round = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, r);
        // A clean merge keeps neither base nor mine.
        let SaveResult::Merged { round: clean } = merge_with(
            &base,
            r#"{"a": 1, "b": 1, "c": 2}"#,
            theirs,
            &Options::default(),
        ) else {
            panic!("a clean merge expected")
        };
        assert!(!clean.has_conflicts() && clean.base.is_none() && clean.mine.is_none());
    }

    /// A round from three texts, as the save loop makes it.
    fn round(base: &str, mine: &str, theirs: &str) -> (String, Vec<ConflictInfo>) {
        let b = Version {
            text: base.into(),
            validator: None,
        };
        let c = Version {
            text: theirs.into(),
            validator: None,
        };
        match merge_with(&b, mine, c, &Options::default()) {
            SaveResult::Conflicts { round } => (round.start, round.conflicts),
            other => panic!("expected conflicts: {other:?}"),
        }
    }

    #[test]
    fn positions_count_lines_and_utf16_units_in_one_pass() {
        let text = "a\n\u{e9}\n\u{1F600}x\n";
        // Offsets in any order: "é" at byte 2, the emoji at 5, "x" at 9, the end at 11.
        let offsets = [9, 2, 11, 5, 0];
        let got = positions(text, &offsets);
        assert_eq!(got, vec![(2, 6), (1, 2), (3, 8), (2, 4), (0, 0)]);
        for (k, &(line, units)) in got.iter().enumerate() {
            let b = offsets[k];
            assert_eq!(line, text[..b].matches('\n').count());
            assert_eq!(units, text[..b].encode_utf16().count());
        }
    }

    #[test]
    fn accept_all_takes_every_open_conflict_and_leaves_decided_ones() {
        let (merged, conflicts) = round(B, M, T);
        let mut decisions = vec![None; conflicts.len()];
        // The first decided by hand for theirs, then all mine: only the second becomes mine.
        let (one, d) = accept(&merged, &merged, &conflicts, 0, Choice::Theirs).unwrap();
        decisions[0] = Some(d);
        let all = accept_all(&merged, &one, &conflicts, &mut decisions, Choice::Mine).unwrap();
        assert_eq!(
            states(&merged, &all, &conflicts, &decisions),
            vec![ConflictState::Theirs, ConflictState::Mine]
        );
        let v: serde_json::Value = serde_json::from_str(&all).unwrap();
        assert_eq!(v["siteName"], "Theirs");
        assert_eq!(v["limits"]["max"], 100);
    }

    /// Accept all in one pass gives what one Accept after another gives (text and decisions),
    /// on rounds whose conflicts are edits against edits, edits against removals of a member or
    /// of a whole element, in arrays of objects with ids, some decided by hand first; and it
    /// takes that pass unless two places touch.
    #[test]
    fn accept_all_at_once_is_one_accept_after_another() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut at_once = 0;
        for case in 0..40 {
            let n = 3 + next(12) as usize;
            let (mut b, mut m, mut t) = (vec![], vec![], vec![]);
            for k in 0..n {
                let base =
                    format!(r#"{{"id": "e{k}", "x": {k}, "y": [1, 2], "z": {{"q": "s{k}"}}}}"#);
                let (mut mine, mut theirs) = (base.clone(), base.clone());
                match if k == 0 { 0 } else { next(7) } {
                    0 => {
                        (mine, theirs) = (
                            base.replace(r#""x": "#, r#""x": 1"#),
                            base.replace(r#""x": "#, r#""x": 2"#),
                        )
                    }
                    1 => {
                        (mine, theirs) = (
                            base.replace(r#""s"#, r#""m"#),
                            base.replace(r#""s"#, r#""t"#),
                        )
                    }
                    2 => {
                        (mine, theirs) = (
                            base.replace(r#", "y": [1, 2]"#, ""),
                            base.replace("[1, 2]", "[1, 2, 3]"),
                        )
                    }
                    3 => theirs = base.replace(r#""x": "#, r#""x": 9"#),
                    // Mine removes the element, theirs edits it.
                    4 => (mine, theirs) = (String::new(), base.replace(r#""x": "#, r#""x": 3"#)),
                    _ => {}
                }
                b.push(base);
                if !mine.is_empty() {
                    m.push(mine);
                }
                t.push(theirs);
            }
            let doc = |v: &[String]| format!(r#"{{"list": [{}], "top": {case}}}"#, v.join(", "));
            let (merged, conflicts) = round(&doc(&b), &doc(&m), &doc(&t));
            let mut first = vec![None; conflicts.len()];
            let mut result = merged.clone();
            if next(2) == 0 {
                let (r, d) = accept(&merged, &merged, &conflicts, 0, Choice::Theirs).unwrap();
                (result, first[0]) = (r, Some(d));
            }
            for choice in [Choice::Mine, Choice::Theirs, Choice::Base] {
                let (mut one, mut all) = (first.clone(), first.clone());
                let slow =
                    accept_one_by_one(&merged, &result, &conflicts, &mut one, choice).unwrap();
                // Two removed elements side by side share a comma: those go one by one.
                let Some(fast) =
                    accept_all_at_once(&merged, &result, &conflicts, &mut all, choice).unwrap()
                else {
                    continue;
                };
                at_once += 1;
                assert_eq!(fast, slow, "case {case}, {choice:?}");
                assert_eq!(all, one, "case {case}, {choice:?}");
                assert!(states(&merged, &fast, &conflicts, &all)
                    .iter()
                    .all(|s| s.is_resolved()));
            }
        }
        eprintln!("at once: {at_once} of 120");
        assert!(
            at_once >= 60,
            "the one pass is the common case: {at_once} of 120"
        );
    }

    /// Accepting the removal of an element with an id leaves the later conflicts in that array
    /// on their own elements (they were read by position, so the next element's conflict read
    /// its neighbour's value, or nothing past the end).
    #[test]
    fn an_accepted_removal_does_not_shift_the_next_conflicts() {
        let el = |id: &str, x: i32| format!(r#"{{"id": "{id}", "x": {x}}}"#);
        let doc = |v: &[String]| format!(r#"{{"list": [{}]}}"#, v.join(", "));
        let base = doc(&[el("a", 0), el("b", 1), el("c", 2)]);
        let mine = doc(&[el("a", 0), el("c", 20)]);
        let theirs = doc(&[el("a", 0), el("b", 11), el("c", 21)]);
        let (start, conflicts) = round(&base, &mine, &theirs);
        let pointers: Vec<&str> = conflicts.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/list/1", "/list/2/x"]);
        let mut decisions = vec![None; 2];
        let (one, d) = accept(&start, &start, &conflicts, 0, Choice::Mine).unwrap();
        decisions[0] = Some(d);
        assert_eq!(
            states(&start, &one, &conflicts, &decisions),
            vec![ConflictState::Mine, ConflictState::Unresolved]
        );
        let (two, d) = accept(&start, &one, &conflicts, 1, Choice::Theirs).unwrap();
        decisions[1] = Some(d);
        let v: serde_json::Value = serde_json::from_str(&two).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"list": [{"id": "a", "x": 0}, {"id": "c", "x": 21}]})
        );
        assert_eq!(
            states(&start, &two, &conflicts, &decisions),
            vec![ConflictState::Mine, ConflictState::Theirs]
        );
    }

    #[test]
    fn puts_whose_places_touch_are_left_to_one_by_one() {
        let t = "{\"a\": [1, 2, 3], \"b\": {}}";
        let many = |p: &[(&str, Put)]| {
            edit::put_many(
                t,
                p.iter().map(|(a, b)| (a.to_string(), b.clone())).collect(),
            )
            .unwrap()
        };
        // The last two elements removed: each removal takes a comma beside the other.
        assert_eq!(many(&[("/a/1", Put::Remove), ("/a/2", Put::Remove)]), None);
        // Two members added to one object: both at its end, in an order that matters.
        assert_eq!(
            many(&[("/b/x", Put::Value("1")), ("/b/y", Put::Value("2"))]),
            None
        );
        assert_eq!(many(&[("", Put::Value("1"))]), None);
        let apart = many(&[("/a/0", Put::Value("7")), ("/b/x", Put::Value("1"))]).unwrap();
        assert_eq!(
            apart,
            edit::put_at(
                &edit::put_at(t, "/a/0", Put::Value("7")).unwrap(),
                "/b/x",
                Put::Value("1")
            )
            .unwrap()
        );
    }

    const B: &str = r#"{"siteName": "Acme", "limits": {"max": 25}, "other": 1}"#;
    const M: &str = r#"{"siteName": "Mine", "limits": {"max": 100}, "other": 1}"#;
    const T: &str = r#"{"siteName": "Theirs", "limits": {"max": 50}, "other": 1}"#;

    fn states(
        start: &str,
        now: &str,
        c: &[ConflictInfo],
        d: &[Option<Decision>],
    ) -> Vec<ConflictState> {
        statuses(start, now, c, d)
            .unwrap()
            .into_iter()
            .map(|s| s.state)
            .collect()
    }

    #[test]
    fn an_order_conflict_is_decided_by_an_order_and_keeps_the_elements_own_conflicts() {
        // Mine moves c first and turns b off; theirs moves b first and sets b to "maybe".
        let b = r#"{"rules": [{"id": "a", "on": true}, {"id": "b", "on": true}, {"id": "c", "on": true}]}"#;
        let m = r#"{"rules": [{"id": "c", "on": true}, {"id": "a", "on": true}, {"id": "b", "on": false}]}"#;
        let t = r#"{"rules": [{"id": "b", "on": "maybe"}, {"id": "a", "on": true}, {"id": "c", "on": true}]}"#;
        let (start, c) = round(b, m, t);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].kind, crate::merge::ConflictKind::Order);
        assert_eq!(c[0].order_by.as_deref(), Some("id"));
        assert_eq!(c[0].label, "rules › order");
        assert_eq!(c[1].pointer, "/rules/1/on");
        let none = vec![None, None];
        assert_eq!(
            states(&start, &start, &c, &none),
            vec![ConflictState::Unresolved; 2]
        );
        // Decide b's value first, then take mine's order: b's decision stays where b went.
        let (t1, d1) = accept(&start, &start, &c, 1, Choice::Theirs).unwrap();
        let (t2, d0) = accept(&start, &t1, &c, 0, Choice::Mine).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t2).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"rules": [{"id": "c", "on": true}, {"id": "a", "on": true}, {"id": "b", "on": "maybe"}]})
        );
        let decisions = vec![Some(d0), Some(d1)];
        let now = statuses(&start, &t2, &c, &decisions).unwrap();
        assert_eq!(now[0].state, ConflictState::Mine);
        assert_eq!(now[1].state, ConflictState::Theirs);
        assert_eq!(now[1].pointer, "/rules/2/on");
        assert_eq!(now[0].value.as_deref(), Some(r#"["c","a","b"]"#));
        // Moving the elements by hand into an order of one's own is an edit of that conflict.
        let own = r#"{"rules": [{"id": "b", "on": "maybe"}, {"id": "c", "on": true}, {"id": "a", "on": true}]}"#;
        let s = statuses(&start, own, &c, &decisions).unwrap();
        assert_eq!(s[0].state, ConflictState::Edited);
        assert!(s[0].neither_side);
        assert_eq!(s[1].state, ConflictState::Theirs);
        assert_eq!(
            accept(&start, &start, &c, 0, Choice::Both).unwrap_err(),
            AcceptError::BothOrders
        );
    }

    #[test]
    fn removing_an_element_through_its_own_conflict_decides_no_order() {
        // Both reorder differently; mine also deletes b, which theirs edited.
        let b = r#"{"r": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}"#;
        let m = r#"{"r": [{"id": "d"}, {"id": "a"}, {"id": "c"}]}"#;
        let t = r#"{"r": [{"id": "a"}, {"id": "b", "x": 1}, {"id": "d"}, {"id": "c"}]}"#;
        let (start, c) = round(b, m, t);
        let kinds: Vec<_> = c.iter().map(|k| k.kind).collect();
        use crate::merge::ConflictKind::*;
        assert_eq!(kinds, vec![Order, DeleteModify], "{c:?}");
        let (text, d1) = accept(&start, &start, &c, 1, Choice::Mine).unwrap();
        assert!(!text.contains("\"b\""), "{text}");
        let s = statuses(&start, &text, &c, &[None, Some(d1)]).unwrap();
        assert_eq!(
            s[0].state,
            ConflictState::Unresolved,
            "the order is still open"
        );
        assert_eq!(s[1].state, ConflictState::Mine);
        // Mine's order accepted afterwards holds.
        let (text, d0) = accept(&start, &text, &c, 0, Choice::Mine).unwrap();
        let d1 = Decision {
            choice: Choice::Mine,
            value: None,
        };
        let s = statuses(&start, &text, &c, &[Some(d0), Some(d1)]).unwrap();
        assert_eq!(s[0].state, ConflictState::Mine, "{text} {:?}", s[0]);
    }

    #[test]
    fn nothing_decided_at_the_start_nor_after_unrelated_edits() {
        let (start, c) = round(B, M, T);
        let none = vec![None, None];
        assert_eq!(
            states(&start, &start, &c, &none),
            vec![ConflictState::Unresolved; 2]
        );
        // Re-spacing, an edit elsewhere, a new member: still nobody decided.
        let respaced = start
            .replace("\"Acme\"", " \"Acme\" ")
            .replace('\n', "\n\n");
        let elsewhere = start.replace("\"other\": 1", "\"other\": 2");
        let moved = edit::put_at(&start, "/added", Put::Value("true")).unwrap();
        for t in [respaced, elsewhere, moved] {
            assert_eq!(
                states(&start, &t, &c, &none),
                vec![ConflictState::Unresolved; 2],
                "{t}"
            );
        }
    }

    #[test]
    fn editing_the_value_decides_and_undoing_takes_it_back() {
        let (start, c) = round(B, M, T);
        let none = vec![None, None];
        let typed = start.replace("25", "75");
        assert_eq!(
            states(&start, &typed, &c, &none),
            vec![ConflictState::Unresolved, ConflictState::Edited]
        );
        let s = &statuses(&start, &typed, &c, &none).unwrap()[1];
        assert!(s.neither_side, "75 is neither 100 nor 50");
        assert_eq!(s.value.as_deref(), Some("75"));
        let (a, b) = s.range.unwrap();
        assert_eq!(&typed[a..b], "75");
        // Typed then undone: the text is the start again.
        assert_eq!(
            states(&start, &start, &c, &none),
            vec![ConflictState::Unresolved; 2]
        );
    }

    #[test]
    fn accepts_hold_while_their_value_is_there() {
        let (start, c) = round(B, M, T);
        let (t1, d1) = accept(&start, &start, &c, 0, Choice::Mine).unwrap();
        assert!(t1.contains("\"Mine\""));
        let mut d = vec![Some(d1), None];
        assert_eq!(
            states(&start, &t1, &c, &d),
            vec![ConflictState::Mine, ConflictState::Unresolved]
        );
        assert!(!statuses(&start, &t1, &c, &d).unwrap()[0].neither_side);
        // Accept base: the text does not change, but it is a decision.
        let (t2, d2) = accept(&start, &t1, &c, 1, Choice::Base).unwrap();
        d[1] = Some(d2);
        assert_eq!(
            states(&start, &t2, &c, &d),
            vec![ConflictState::Mine, ConflictState::Base]
        );
        assert!(statuses(&start, &t2, &c, &d).unwrap()[1].neither_side);
        // Undo of the Accept (back to the start text): open again.
        assert_eq!(
            states(&start, &start, &c, &d),
            vec![ConflictState::Unresolved, ConflictState::Base]
        );
        // Accepted, then changed by hand: edited.
        let changed = t2.replace("\"Mine\"", "\"Other\"");
        assert_eq!(states(&start, &changed, &c, &d)[0], ConflictState::Edited);
    }

    #[test]
    fn deletions_are_values_too() {
        let b = r#"{"a": 1, "b": 2}"#;
        let m = r#"{"b": 2}"#;
        let t = r#"{"a": 5, "b": 2}"#;
        let (start, c) = round(b, m, t);
        assert_eq!(c[0].kind, crate::merge::ConflictKind::DeleteModify);
        let (t1, d1) = accept(&start, &start, &c, 0, Choice::Mine).unwrap();
        assert!(!t1.contains("\"a\""));
        let st = statuses(&start, &t1, &c, &[Some(d1)]).unwrap();
        assert_eq!(st[0].state, ConflictState::Mine);
        assert_eq!(st[0].value, None);
        assert!(
            st[0].lines.is_some(),
            "an absent value points at its object"
        );
    }

    #[test]
    fn hunks_are_found_again_whatever_the_order_of_accepts() {
        let b = r#"{"l": ["a", "x", "b", "y", "c"]}"#;
        let m = r#"{"l": ["a", "x1", "x2", "b", "y1", "c"]}"#;
        let t = r#"{"l": ["a", "x3", "b", "y3", "y4", "c"]}"#;
        let (start, c) = round(b, m, t);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c.iter().all(|k| k.array_hunk));
        // First hunk gets both (longer), then the second is still found and replaced right.
        let (t1, d1) = accept(&start, &start, &c, 0, Choice::Both).unwrap();
        let (t2, d2) = accept(&start, &t1, &c, 1, Choice::Theirs).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t2).unwrap();
        assert_eq!(
            v["l"],
            serde_json::json!(["a", "x1", "x2", "x3", "b", "y3", "y4", "c"])
        );
        let st = statuses(&start, &t2, &c, &[Some(d1.clone()), Some(d2.clone())]).unwrap();
        assert_eq!(st[0].state, ConflictState::Both);
        assert_eq!(st[1].state, ConflictState::Theirs);
        assert_eq!(st[1].pointer, "/l/5");
        // The other order gives the same document.
        let (u1, _) = accept(&start, &start, &c, 1, Choice::Theirs).unwrap();
        let (u2, _) = accept(&start, &u1, &c, 0, Choice::Both).unwrap();
        assert_eq!(u2, t2);
    }

    #[test]
    fn conflicts_inside_a_shifted_array_keep_their_element() {
        // A hunk before an element-level conflict in the same array.
        let b = r#"{"l": ["a", "b", "s", {"id": 1, "v": 0}]}"#;
        let m = r#"{"l": ["a", "m1", "m2", "s", {"id": 1, "v": 1}]}"#;
        let t = r#"{"l": ["a", "t1", "s", {"id": 1, "v": 2}]}"#;
        let (start, c) = round(b, m, t);
        let shape: Vec<(&str, bool)> = c
            .iter()
            .map(|k| (k.pointer.as_str(), k.array_hunk))
            .collect();
        assert_eq!(shape, vec![("/l/1", true), ("/l/3/v", false)], "{c:?}");
        let (t1, d1) = accept(&start, &start, &c, 0, Choice::Both).unwrap();
        let st = statuses(&start, &t1, &c, &[Some(d1), None]).unwrap();
        assert_eq!(st[1].pointer, "/l/5/v");
        assert_eq!(st[1].state, ConflictState::Unresolved);
        let (t2, d2) = accept(&start, &t1, &c, 1, Choice::Theirs).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t2).unwrap();
        assert_eq!(
            v["l"],
            serde_json::json!(["a", "m1", "m2", "t1", "s", {"id": 1, "v": 2}])
        );
        assert_eq!(d2.value.as_deref(), Some("2"));
    }

    #[test]
    fn id_keyed_conflicts_name_and_find_the_element_by_identity() {
        // Theirs inserts an element first, so positions differ between the sides.
        let b = "{\"services\": [\n{\"id\": \"a\", \"port\": 1},\n{\"id\": \"b\", \"port\": 1}\n]}";
        let m = "{\"services\": [\n{\"id\": \"a\", \"port\": 1},\n{\"id\": \"b\", \"port\": 2}\n]}";
        let t = "{\"services\": [\n{\"id\": \"z\", \"port\": 9},\n{\"id\": \"a\", \"port\": 1},\n{\"id\": \"b\", \"port\": 3}\n]}";
        let (start, c) = round(b, m, t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].label, "services › id=b › port");
        // Each side's lines are that side's own: b is on line 3 of mine, line 4 of theirs.
        assert_eq!(c[0].lines.mine, Some((3, 3)));
        assert_eq!(c[0].lines.theirs, Some((4, 4)));
        assert_eq!(c[0].lines.base, Some((3, 3)));
        // In the Result the pointer addresses b, wherever it is.
        let st = statuses(&start, &start, &c, &[None]).unwrap();
        let (from, to) = st[0].lines.unwrap();
        let shown: Vec<&str> = start.lines().skip(from - 1).take(to - from + 1).collect();
        let element_line = start.lines().nth(from - 2).unwrap_or_default();
        assert!(
            shown.iter().any(|l| l.contains("\"port\": 1")) && element_line.contains("\"b\""),
            "{start}\n{shown:?}"
        );
    }

    #[test]
    fn invalid_result_is_an_error_not_a_verdict() {
        let (start, c) = round(B, M, T);
        assert!(statuses(&start, "{\"siteName\": ", &c, &[None, None]).is_err());
    }

    #[test]
    fn labels_name_elements_by_identity() {
        let text = r#"{"labels": [{"id": "Label_7", "color": "red"}], "tags": ["a", "b", "c"]}"#;
        let parsed = Doc::parse(text).unwrap();
        let label = |pointer: &str, hunk| label_in(Some(&parsed), pointer, hunk);
        assert_eq!(
            label("/labels/0/color", None),
            "labels › id=Label_7 › color"
        );
        assert_eq!(label("/tags/1", Some(2)), "tags › [1…2]");
        assert_eq!(label("/tags/1", Some(0)), "tags › insertion at [1]");
        assert_eq!(label("/tags/1", None), "tags › [1]");
        assert_eq!(label("", None), "(whole document)");
    }

    /// The lines of `a` and `b` that differ (same line count expected).
    fn changed_lines(a: &str, b: &str) -> Vec<usize> {
        let (la, lb): (Vec<_>, Vec<_>) = (a.split('\n').collect(), b.split('\n').collect());
        assert_eq!(la.len(), lb.len(), "{a}\n---\n{b}");
        (0..la.len()).filter(|&i| la[i] != lb[i]).collect()
    }

    #[test]
    fn a_round_and_its_accepts_keep_the_servers_layout() {
        // The server's document: four spaces, CRLF, no final newline; base and mine as the tab
        // had them (two spaces).
        let base = "{\n  \"replicas\": 3,\n  \"image\": \"app:1\",\n  \"env\": {\n    \"A\": \"1\"\n  },\n  \"tags\": [\n    \"x\"\n  ]\n}\n";
        let mine = base
            .replace("\"replicas\": 3", "\"replicas\": 9")
            .replace("\"A\": \"1\"", "\"A\": \"2\"");
        let theirs = "{\r\n    \"replicas\": 7,\r\n    \"image\": \"app:2\",\r\n    \"env\": {\r\n        \"A\": \"1\"\r\n    },\r\n    \"tags\": [\r\n        \"x\"\r\n    ]\r\n}";
        let (merged, conflicts) = round(base, &mine, theirs);
        assert_eq!(conflicts.len(), 1);
        // The Result is the server's text but for mine's clean change (env.A) — the conflict
        // shows base's value (3) until decided.
        assert_eq!(changed_lines(theirs, &merged), vec![1, 4], "{merged}");
        assert!(!merged.ends_with('\n') || merged.ends_with("\r\n"));
        let (after, _) = accept(base, &merged, &conflicts, 0, Choice::Mine).unwrap();
        assert_eq!(changed_lines(theirs, &after), vec![1, 4], "{after}");
        assert!(after.contains("\r\n    \"replicas\": 9,\r\n"), "{after}");
        assert!(!after.ends_with('\n'));
        let mut decisions = vec![None];
        let all = accept_all(base, &merged, &conflicts, &mut decisions, Choice::Theirs).unwrap();
        assert_eq!(changed_lines(theirs, &all), vec![4], "{all}");
    }
}
