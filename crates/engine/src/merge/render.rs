//! Printing a merge: the merged tree pretty-printed in the layout of theirs (the server's
//! document: its indentation, line ends, final newline; `Merge::style`), so a merge sent back
//! changes only the lines whose values changed, with each conflict filled in one of several ways — the base value (the conflict view's starting Result), one side (`--prefer`),
//! git-style markers (the CLI's output when conflicts remain), or the user's resolutions.

use super::{Conflict, Merge, Node};
use crate::json::print::{reformat, reformat_in, Style};
use crate::json::{Doc, Kind};
use std::borrow::Cow;

/// How conflicts are filled in when printing.
#[derive(Debug, Clone, Copy)]
pub enum Fill<'r> {
    /// Each conflict shows base's value.
    Base,
    /// Each conflict shows mine's value.
    Mine,
    /// Each conflict shows theirs' value.
    Theirs,
    /// `<<<<<<< mine` / `||||||| base` / `=======` / `>>>>>>> theirs` around the conflicting
    /// lines. The output is then deliberately not JSON, so it cannot be used by accident.
    Markers,
    /// One resolution per conflict, by index.
    Resolved(&'r [Resolution]),
}

/// The user's choice for one conflict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "choice", content = "value", rename_all = "snake_case")]
pub enum Resolution {
    /// Mine's value.
    Mine,
    /// Theirs' value.
    Theirs,
    /// Base's value (as if neither side had changed it).
    Base,
    /// Mine's elements then theirs' (array hunks only).
    Both,
    /// A JSON value typed by the user (for an array hunk: an array whose elements replace it).
    Custom(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
/// Why resolutions cannot be applied to a merge.
pub enum ResolveError {
    /// Some conflicts have no resolution.
    #[error("{count} conflict(s) have no resolution (first at {pointer:?})")]
    Unresolved {
        /// How many conflicts have none.
        count: usize,
        /// The first one's pointer.
        pointer: String,
    },
    /// The number of resolutions is not the number of conflicts.
    #[error("the resolutions are for {got} conflicts, the merge has {want}")]
    WrongCount {
        /// Resolutions given.
        got: usize,
        /// Conflicts in the merge.
        want: usize,
    },
    /// "Both" was chosen for a single value.
    #[error("\"both\" keeps two versions side by side, which only an array can hold; the conflict at {pointer:?} is a single value: choose mine, theirs, base or edit it")]
    BothNotPossible {
        /// The conflict's pointer.
        pointer: String,
    },
    /// A typed value does not parse.
    #[error("the value typed for {pointer:?} is not valid JSON: {error}")]
    InvalidCustom {
        /// The conflict's pointer.
        pointer: String,
        /// The parser's words.
        error: String,
    },
    /// A typed value for an array hunk is not an array.
    #[error("the value typed for {pointer:?} must be a JSON array: it replaces a run of elements")]
    CustomNotArray {
        /// The conflict's pointer.
        pointer: String,
    },
    /// "Both" was chosen for an order conflict.
    #[error("an array has one order: for the order conflict at {pointer:?} choose mine's, theirs' or base's order, or type the ids in the order you want")]
    BothOrders {
        /// The conflict's pointer.
        pointer: String,
    },
    /// A typed order is not the array's ids, each once.
    #[error("the order typed for {pointer:?} {problem}; type a JSON array holding each element's id once, e.g. [\"b\", \"a\"]")]
    BadOrder {
        /// The conflict's pointer.
        pointer: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl<'a> Merge<'a> {
    /// The merged document, printed in `self.style` (theirs' layout; a final newline when
    /// theirs has one).
    pub fn render(&self, fill: Fill<'_>) -> Result<String, ResolveError> {
        self.render_in(fill, &self.style)
    }

    /// `render` in the layout `style` (`Style::default()`: the canonical pretty form).
    pub fn render_in(&self, fill: Fill<'_>, style: &Style) -> Result<String, ResolveError> {
        if let Fill::Resolved(r) = fill {
            if r.len() != self.conflicts.len() {
                return Err(ResolveError::WrongCount {
                    got: r.len(),
                    want: self.conflicts.len(),
                });
            }
        }
        // Custom values become owned pieces, checked once.
        let customs = self.custom_pieces(fill)?;
        let mut out = String::with_capacity(self.root_size_hint());
        let w = Writer {
            merge: self,
            fill,
            customs: &customs,
            style,
        };
        match &self.root {
            Node::Conflict(i) => w.root_conflict(*i, &mut out)?,
            n => w.node(n, 0, &mut out)?,
        }
        if style.final_newline {
            out.push_str(style.eol());
        }
        Ok(out)
    }

    fn root_size_hint(&self) -> usize {
        match &self.root {
            Node::Raw(s) => s.len() + s.len() / 4,
            _ => 4096,
        }
    }

    /// The merge with every conflict resolved by `resolutions` (one per conflict).
    pub fn resolve(&self, resolutions: &[Resolution]) -> Result<String, ResolveError> {
        self.render(Fill::Resolved(resolutions))
    }

    fn custom_pieces(&self, fill: Fill<'_>) -> Result<Vec<Option<Vec<String>>>, ResolveError> {
        let Fill::Resolved(rs) = fill else {
            return Ok(vec![]);
        };
        rs.iter()
            .zip(&self.conflicts)
            .map(|(r, c)| {
                let Resolution::Custom(text) = r else {
                    return Ok(None);
                };
                if c.kind == super::ConflictKind::Order {
                    // Typed orders are read where the array's ids are known (`Writer::order`).
                    return Ok(None);
                }
                let doc = Doc::parse(text).map_err(|e| ResolveError::InvalidCustom {
                    pointer: c.pointer.clone(),
                    error: e.to_string(),
                })?;
                if c.hunk {
                    if doc.kind(0) != Kind::Array {
                        return Err(ResolveError::CustomNotArray {
                            pointer: c.pointer.clone(),
                        });
                    }
                    Ok(Some(
                        doc.children(0).map(|i| doc.span(i).to_string()).collect(),
                    ))
                } else {
                    Ok(Some(vec![doc.span(0).to_string()]))
                }
            })
            .collect()
    }
}

struct Writer<'m, 'a, 'r> {
    merge: &'m Merge<'a>,
    fill: Fill<'r>,
    customs: &'m [Option<Vec<String>>],
    style: &'m Style,
}

/// What one child of a container prints as.
enum Item<'m, 'a> {
    Node(&'m Node<'a>),
    Pieces(Vec<Cow<'m, str>>),
    Markers(&'m Conflict<'a>),
    /// An order conflict's three orders, before the elements (in base's order).
    OrderMarkers(&'m Conflict<'a>),
}

impl<'m, 'a> Writer<'m, 'a, '_> {
    /// The values a conflict is filled with (zero or more pieces), or None for markers.
    fn pieces(&self, i: usize) -> Result<Option<Vec<Cow<'m, str>>>, ResolveError> {
        let c = &self.merge.conflicts[i];
        let side = |v: &'m Vec<&'a str>| v.iter().map(|s| Cow::Borrowed(*s)).collect::<Vec<_>>();
        Ok(Some(match self.fill {
            Fill::Base => side(&c.base),
            Fill::Mine => side(&c.mine),
            Fill::Theirs => side(&c.theirs),
            Fill::Markers => return Ok(None),
            Fill::Resolved(rs) => match &rs[i] {
                Resolution::Mine => side(&c.mine),
                Resolution::Theirs => side(&c.theirs),
                Resolution::Base => side(&c.base),
                Resolution::Both => {
                    if !c.hunk {
                        return Err(ResolveError::BothNotPossible {
                            pointer: c.pointer.clone(),
                        });
                    }
                    side(&c.mine).into_iter().chain(side(&c.theirs)).collect()
                }
                Resolution::Custom(_) => self.customs[i]
                    .as_ref()
                    .expect("custom pieces were prepared")
                    .iter()
                    .map(|s| Cow::Borrowed(s.as_str()))
                    .collect(),
            },
        }))
    }

    fn item(&self, n: &'m Node<'a>) -> Result<Item<'m, 'a>, ResolveError> {
        Ok(match n {
            Node::Conflict(i) => match self.pieces(*i)? {
                Some(p) => Item::Pieces(p),
                None => Item::Markers(&self.merge.conflicts[*i]),
            },
            n => Item::Node(n),
        })
    }

    fn node(&self, n: &'m Node<'a>, depth: usize, out: &mut String) -> Result<(), ResolveError> {
        match n {
            Node::Raw(s) => reformat_in(s, depth, self.style, out),
            Node::Conflict(_) => unreachable!("conflicts are printed by their container"),
            Node::Object(members) => {
                let items = members
                    .iter()
                    .map(|(k, n)| Ok((Some(*k), self.item(n)?)))
                    .collect::<Result<Vec<_>, _>>()?;
                self.container('{', '}', items, depth, out)?;
            }
            Node::Array(elems) => {
                let items = elems
                    .iter()
                    .map(|n| Ok((None, self.item(n)?)))
                    .collect::<Result<Vec<_>, _>>()?;
                self.container('[', ']', items, depth, out)?;
            }
            Node::Ordered(o) => {
                let super::Ordered {
                    conflict,
                    elems,
                    ids,
                    orders,
                } = &**o;
                let c = &self.merge.conflicts[*conflict];
                let order = self.order(*conflict, ids, orders)?;
                let mut items = Vec::with_capacity(elems.len() + 1);
                if matches!(self.fill, Fill::Markers) {
                    items.push((None, Item::OrderMarkers(c)));
                }
                for &i in order.iter() {
                    items.push((None, self.item(&elems[i])?));
                }
                self.container('[', ']', items, depth, out)?;
            }
        }
        Ok(())
    }

    /// The order an order conflict is printed in under this fill (indices into its elements).
    fn order<'o>(
        &self,
        conflict: usize,
        ids: &[String],
        orders: &'o super::Sides<Vec<usize>>,
    ) -> Result<Cow<'o, [usize]>, ResolveError> {
        let c = &self.merge.conflicts[conflict];
        let resolution = match self.fill {
            Fill::Base | Fill::Markers => Resolution::Base,
            Fill::Mine => Resolution::Mine,
            Fill::Theirs => Resolution::Theirs,
            Fill::Resolved(rs) => rs[conflict].clone(),
        };
        Ok(Cow::Borrowed(match resolution {
            Resolution::Base => &orders.base,
            Resolution::Mine => &orders.mine,
            Resolution::Theirs => &orders.theirs,
            Resolution::Both => {
                return Err(ResolveError::BothOrders {
                    pointer: c.pointer.clone(),
                })
            }
            Resolution::Custom(text) => {
                return typed_order(&text, ids).map(Cow::Owned).map_err(|problem| {
                    ResolveError::BadOrder {
                        pointer: c.pointer.clone(),
                        problem,
                    }
                })
            }
        }))
    }

    fn container(
        &self,
        open: char,
        close: char,
        items: Vec<(Option<&'a str>, Item<'m, 'a>)>,
        depth: usize,
        out: &mut String,
    ) -> Result<(), ResolveError> {
        let items: Vec<_> = items
            .into_iter()
            .filter(|(_, it)| !matches!(it, Item::Pieces(p) if p.is_empty()))
            .collect();
        out.push(open);
        if items.is_empty() {
            out.push(close);
            return Ok(());
        }
        let inner = depth + 1;
        let count = items.len();
        let st = self.style;
        let eol = st.eol();
        let entry = |key: Option<&str>, value: &str, comma: bool, out: &mut String| {
            st.newline(out, inner);
            if let Some(k) = key {
                out.push_str(k);
                out.push_str(st.colon());
            }
            reformat_in(value, inner, st, out);
            if comma {
                out.push(',');
            }
        };
        for (idx, (key, it)) in items.iter().enumerate() {
            let last = idx + 1 == count;
            match it {
                Item::Node(n) => {
                    st.newline(out, inner);
                    if let Some(k) = key {
                        out.push_str(k);
                        out.push_str(st.colon());
                    }
                    self.node(n, inner, out)?;
                    if !last {
                        out.push(',');
                    }
                }
                Item::Pieces(ps) => {
                    for (pj, p) in ps.iter().enumerate() {
                        entry(*key, p, !(last && pj + 1 == ps.len()), out);
                    }
                }
                Item::OrderMarkers(c) => {
                    let by = c.id_key.as_deref().unwrap_or("id");
                    for (label, side) in [
                        (
                            format!("<<<<<<< mine (order of the elements by {by:?})"),
                            &c.mine,
                        ),
                        ("||||||| base".to_string(), &c.base),
                        ("=======".to_string(), &c.theirs),
                    ] {
                        out.push_str(eol);
                        out.push_str(&label);
                        st.newline(out, inner);
                        out.push_str(&side.join(", "));
                    }
                    out.push_str(eol);
                    out.push_str(">>>>>>> theirs");
                }
                Item::Markers(c) => {
                    let key = c.key.or(*key);
                    for (label, side) in [
                        ("<<<<<<< mine", &c.mine),
                        ("||||||| base", &c.base),
                        ("=======", &c.theirs),
                    ] {
                        out.push_str(eol);
                        out.push_str(label);
                        for (pj, p) in side.iter().enumerate() {
                            entry(key, p, !(last && pj + 1 == side.len()), out);
                        }
                    }
                    out.push_str(eol);
                    out.push_str(">>>>>>> theirs");
                }
            }
        }
        st.newline(out, depth);
        out.push(close);
        Ok(())
    }

    fn root_conflict(&self, i: usize, out: &mut String) -> Result<(), ResolveError> {
        let c = &self.merge.conflicts[i];
        match self.pieces(i)? {
            Some(p) if p.len() == 1 => reformat_in(&p[0], 0, self.style, out),
            Some(_) => {
                return Err(ResolveError::BothNotPossible {
                    pointer: c.pointer.clone(),
                })
            }
            None => {
                for (label, side) in [
                    ("<<<<<<< mine", &c.mine),
                    ("||||||| base", &c.base),
                    ("=======", &c.theirs),
                ] {
                    out.push_str(label);
                    out.push_str(self.style.eol());
                    for p in side {
                        reformat_in(p, 0, self.style, out);
                        out.push_str(self.style.eol());
                    }
                }
                out.push_str(">>>>>>> theirs");
            }
        }
        Ok(())
    }
}

/// A typed order: a JSON array naming each element once by its id (matched by value, as the
/// merge matches ids). `ids` are the elements' identity texts; the result indexes them.
fn typed_order(text: &str, ids: &[String]) -> Result<Vec<usize>, String> {
    let doc = Doc::parse(text).map_err(|e| format!("is not valid JSON ({e})"))?;
    if doc.kind(0) != Kind::Array {
        return Err("is not a JSON array".into());
    }
    let index: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut seen = vec![false; ids.len()];
    let mut order = Vec::with_capacity(ids.len());
    for c in doc.children(0) {
        let span = doc.span(c);
        let name = crate::json::scalar_identity(doc.kind(c), span);
        let Some(&i) = index.get(name.as_ref()) else {
            return Err(format!("names {span}, which no element of the array has"));
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(format!("names {span} twice"));
        }
        order.push(i);
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("leaves out {}", ids[missing]));
    }
    Ok(order)
}

impl Merge<'_> {
    /// `{"merged": …, "conflicts": [{"pointer", "kind", "base", "mine", "theirs"}…], "stats": …,
    /// "positional_arrays": […]}` — values as text (numbers keep their spelling); an absent side
    /// is left out of its conflict (absent is not null); a hunk's sides are arrays of elements.
    pub fn report_json(&self, merged: &str) -> String {
        let mut out = String::with_capacity(merged.len() + 1024);
        out.push_str("{\n  \"merged\": ");
        reformat(merged, 1, &mut out);
        out.push_str(",\n  \"conflicts\": [");
        for (i, c) in self.conflicts.iter().enumerate() {
            out.push_str(if i == 0 { "\n    {" } else { ",\n    {" });
            out.push_str("\n      \"pointer\": ");
            out.push_str(&serde_json::to_string(&c.pointer).expect("a string serialises"));
            out.push_str(",\n      \"kind\": \"");
            out.push_str(c.kind.as_str());
            out.push('"');
            if c.hunk {
                out.push_str(",\n      \"array_hunk\": true");
            }
            if let Some(by) = &c.id_key {
                out.push_str(",\n      \"order_by\": ");
                out.push_str(&serde_json::to_string(by).expect("a string serialises"));
            }
            for (name, side) in [("base", &c.base), ("mine", &c.mine), ("theirs", &c.theirs)] {
                if c.hunk || c.kind == super::ConflictKind::Order {
                    out.push_str(&format!(",\n      \"{name}\": "));
                    let arr = format!("[{}]", side.join(","));
                    reformat(&arr, 3, &mut out);
                } else if let Some(v) = side.first() {
                    out.push_str(&format!(",\n      \"{name}\": "));
                    reformat(v, 3, &mut out);
                }
            }
            out.push_str("\n    }");
        }
        if !self.conflicts.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str("],\n  \"stats\": ");
        let stats = serde_json::to_string(&self.stats).expect("stats serialise");
        reformat(&stats, 1, &mut out);
        out.push_str(",\n  \"positional_arrays\": ");
        let pa = serde_json::to_string(&self.positional_arrays).expect("strings serialise");
        reformat(&pa, 1, &mut out);
        out.push_str("\n}\n");
        out
    }
}
