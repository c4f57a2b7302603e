//! What the conflict view shows: the four texts (base, mine, theirs, result) pretty-printed in
//! the merge's layout (theirs': `Merge::style`), the line diffs base→mine, base→theirs and base→result (`similar`), and for every conflict
//! its line range in each text.

use super::{Fill, Merge, Side};
use crate::json::print::pretty_cow_in;
use crate::json::tape::later_line_starts;
use crate::json::{pointer_tokens, Doc, Kind};
use serde::Serialize;
use std::borrow::Cow;

/// One run of a line diff (0-based line numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineOp {
    /// "equal", "delete", "insert" or "replace".
    pub tag: &'static str,
    /// First line in the old text (0-based).
    pub old_start: usize,
    /// Lines taken from the old text.
    pub old_len: usize,
    /// First line in the new text (0-based).
    pub new_start: usize,
    /// Lines taken from the new text.
    pub new_len: usize,
}

/// A conflict's line range (0-based, inclusive) in each text; None where the value is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictLines {
    /// The conflict's pointer.
    pub pointer: String,
    /// Its lines in base's pretty text.
    pub base: Option<(usize, usize)>,
    /// Its lines in mine's pretty text.
    pub mine: Option<(usize, usize)>,
    /// Its lines in theirs' pretty text.
    pub theirs: Option<(usize, usize)>,
    /// Its lines in the Result.
    pub result: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
/// What the conflict view shows: the three inputs pretty-printed, the Result, the line diffs
/// against base, and each conflict's lines in each text.
pub struct DisplayData<'a> {
    #[serde(skip)]
    /// Base, pretty-printed (borrowed when it was already).
    pub base: Cow<'a, str>,
    #[serde(skip)]
    /// Mine, pretty-printed.
    pub mine: Cow<'a, str>,
    #[serde(skip)]
    /// Theirs, pretty-printed.
    pub theirs: Cow<'a, str>,
    /// The merge with every conflict showing its base value.
    #[serde(skip)]
    pub result: String,
    /// Base → mine, by line.
    pub mine_diff: Vec<LineOp>,
    /// Base → theirs, by line.
    pub theirs_diff: Vec<LineOp>,
    /// Base → the Result, by line.
    pub result_diff: Vec<LineOp>,
    /// Each conflict's lines, in the merge's order.
    pub conflicts: Vec<ConflictLines>,
}

/// Builds the display data of `merge` (made from the three documents).
pub fn display<'a>(
    base: &Doc<'a>,
    mine: &Doc<'a>,
    theirs: &Doc<'a>,
    merge: &Merge,
) -> DisplayData<'a> {
    let (texts, lines) = std::thread::scope(|s| {
        let jobs: Vec<_> = [base, mine, theirs]
            .into_iter()
            .zip(Side::ALL)
            .map(|(doc, side)| {
                s.spawn(move || {
                    let text = pretty_cow_in(doc.text, &merge.style);
                    let lines = side_lines(doc, &text, merge, side);
                    (text, lines)
                })
            })
            .collect();
        let mut texts = vec![];
        let mut lines = vec![];
        for j in jobs {
            let (t, l) = j.join().expect("display worker");
            texts.push(t);
            lines.push(l);
        }
        (texts, lines)
    });
    let result = merge
        .render(Fill::Base)
        .expect("a base fill always renders");
    let [b, m, t]: [Cow<'a, str>; 3] = texts.try_into().expect("three texts");
    let [base_lines, mine_lines, theirs_lines]: [Vec<_>; 3] =
        lines.try_into().expect("three line lists");
    let (mine_diff, theirs_diff, result_diff) = std::thread::scope(|s| {
        let md = s.spawn(|| line_diff(&b, &m));
        let td = s.spawn(|| line_diff(&b, &t));
        let rd = line_diff(&b, &result);
        (md.join().expect("diff"), td.join().expect("diff"), rd)
    });
    let result_doc = Doc::parse(&result).ok();
    let conflicts = merge
        .conflicts
        .iter()
        .enumerate()
        .map(|(i, c)| ConflictLines {
            pointer: c.pointer.clone(),
            base: base_lines[i],
            mine: mine_lines[i],
            theirs: theirs_lines[i],
            result: result_doc
                .as_ref()
                .and_then(|d| pointer_lines(d, &c.pointer)),
        })
        .collect();
    DisplayData {
        base: b,
        mine: m,
        theirs: t,
        result,
        mine_diff,
        theirs_diff,
        result_diff,
        conflicts,
    }
}

/// Each conflict's lines in the pretty form of one input. Printing keeps the tape's structure, so
/// the conflict's node indices in the input are valid in the printed text's tape.
fn side_lines(doc: &Doc, printed: &str, merge: &Merge, side: Side) -> Vec<Option<(usize, usize)>> {
    if merge.conflicts.is_empty() {
        return vec![];
    }
    let reparsed;
    // The same bytes (borrowed: a pretty-printed input) need no comparison.
    let same = std::ptr::eq(printed, doc.text) || printed.trim_end() == doc.text.trim_end();
    let d = if same {
        doc
    } else {
        reparsed = Doc::parse(printed).expect("the printed form of a valid document parses");
        &reparsed
    };
    merge
        .conflicts
        .iter()
        .map(|c| {
            c.nodes.get(side).map(|(first, last)| {
                let n = d.node(first);
                let start = if n.key_end > 0 { n.key_start } else { n.start };
                (
                    d.line_of(start as usize),
                    d.line_of(d.node(last).end as usize - 1),
                )
            })
        })
        .collect()
}

/// The lines of the value at `pointer` (its member line included).
fn pointer_lines(d: &Doc, pointer: &str) -> Option<(usize, usize)> {
    let mut i = 0;
    for t in pointer_tokens(pointer)? {
        i = match d.kind(i) {
            Kind::Object => d.member(i, &t)?,
            Kind::Array => d.children(i).nth(t.parse().ok()?)?,
            _ => return None,
        };
    }
    let n = d.node(i);
    let start = if n.key_end > 0 { n.key_start } else { n.start };
    Some((d.line_of(start as usize), d.line_of(n.end as usize - 1)))
}

/// A line diff of two mostly identical texts. Equal runs are skipped by comparing bytes; `similar`
/// (Myers) diffs a window of lines around each difference, growing the window until the texts
/// agree again inside it. A window past 1024 lines (a change that does not end: a reversed or
/// shuffled list) would make Myers quadratic, so the rest of the texts is then matched once by
/// `seqdiff` (anchors in order; a wholesale reorder is one replace). The ops always form a valid
/// edit script of the whole texts.
pub fn line_diff(old: &str, new: &str) -> Vec<LineOp> {
    diff_lines(&Lines::new(old), &Lines::new(new))
}

/// `line_diff` of texts already split into lines.
fn diff_lines(ol: &Lines, nl: &Lines) -> Vec<LineOp> {
    let (on, nn) = (ol.len(), nl.len());
    let mut ops: Vec<LineOp> = vec![];
    let mut push = |tag: &'static str, os: usize, olen: usize, ns: usize, nlen: usize| {
        if olen == 0 && nlen == 0 {
            return;
        }
        if let Some(last) = ops.last_mut() {
            if last.tag == tag
                && last.old_start + last.old_len == os
                && last.new_start + last.new_len == ns
            {
                last.old_len += olen;
                last.new_len += nlen;
                return;
            }
        }
        ops.push(LineOp {
            tag,
            old_start: os,
            old_len: olen,
            new_start: ns,
            new_len: nlen,
        });
    };
    let (mut i, mut j) = (0, 0);
    while i < on || j < nn {
        // Fast-forward over equal lines.
        let eq = equal_lines(ol, i, nl, j);
        push("equal", i, eq, j, eq);
        i += eq;
        j += eq;
        if i == on || j == nn {
            push("delete", i, on - i, j, 0);
            push("insert", i, 0, j, nn - j);
            break;
        }
        let mut w = 32;
        loop {
            if w > 1024 {
                let (a, b) = (ol.slice(i, on), nl.slice(j, nn));
                let (mut oi, mut nj) = (0, 0);
                for (k, m) in super::seqdiff::matches(&a, &b).into_iter().enumerate() {
                    let Some(m) = m else { continue };
                    let (gap_o, gap_n) = (k - oi, m - nj);
                    let tag = match (gap_o, gap_n) {
                        (0, _) => "insert",
                        (_, 0) => "delete",
                        _ => "replace",
                    };
                    push(tag, i + oi, gap_o, j + nj, gap_n);
                    push("equal", i + k, 1, j + m, 1);
                    (oi, nj) = (k + 1, m + 1);
                }
                let (gap_o, gap_n) = (a.len() - oi, b.len() - nj);
                let tag = match (gap_o, gap_n) {
                    (0, _) => "insert",
                    (_, 0) => "delete",
                    _ => "replace",
                };
                push(tag, i + oi, gap_o, j + nj, gap_n);
                (i, j) = (on, nn);
                break;
            }
            let (ei, ej) = ((i + w).min(on), (j + w).min(nn));
            let to_end = ei == on && ej == nn;
            let (a, b) = (ol.slice(i, ei), nl.slice(j, ej));
            let window = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
            // The texts agree again at the first run of 8 or more equal lines after a change:
            // keep the ops before it and fast-forward from there. Shorter equal runs inside a
            // change are not trusted (cloned elements share lines); without such a run the
            // window grows.
            let cut = if to_end {
                Some(window.len())
            } else {
                window
                    .iter()
                    .position(|op| matches!(op, similar::DiffOp::Equal { len, .. } if *len >= 8))
                    .filter(|&p| p > 0)
            };
            if let Some(cut) = cut.filter(|&c| c > 0) {
                // Positions come from running cursors: similar's ops are in order with the
                // right lengths, but a Delete's `new_index` is not always where it stands.
                for op in &window[..cut] {
                    let (tag, o, n) = op.as_tag_tuple();
                    let tag = match tag {
                        similar::DiffTag::Equal => "equal",
                        similar::DiffTag::Delete => "delete",
                        similar::DiffTag::Insert => "insert",
                        similar::DiffTag::Replace => "replace",
                    };
                    push(tag, i, o.len(), j, n.len());
                    i += o.len();
                    j += n.len();
                }
                break;
            }
            w *= 4;
        }
    }
    ops
}

/// `old` → `new` as replacements of whole lines: (byte offsets `from..to` in `old`, the text of
/// `new` that takes their place), in order and disjoint; applied to `old` they give `new`.
pub fn line_replacements<'n>(old: &str, new: &'n str) -> Vec<(usize, usize, &'n str)> {
    let (ol, nl) = (Lines::new(old), Lines::new(new));
    diff_lines(&ol, &nl)
        .into_iter()
        .filter(|op| op.tag != "equal")
        .map(|op| {
            (
                ol.starts[op.old_start],
                ol.starts[op.old_start + op.old_len],
                nl.block(op.new_start, op.new_start + op.new_len),
            )
        })
        .collect()
}

/// A text's lines as offsets: line k is `text[starts[k]..starts[k + 1]]` (newline included).
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 24 + 2);
        starts.push(0);
        starts.extend(later_line_starts(text));
        if *starts.last().expect("never empty") != text.len() {
            starts.push(text.len());
        }
        Lines { text, starts }
    }
    fn len(&self) -> usize {
        self.starts.len() - 1
    }
    /// Lines `from..to` as one slice of bytes.
    fn block(&self, from: usize, to: usize) -> &'t str {
        &self.text[self.starts[from]..self.starts[to]]
    }
    fn line(&self, k: usize) -> &'t str {
        self.block(k, k + 1)
    }
    fn slice(&self, from: usize, to: usize) -> Vec<&'t str> {
        (from..to).map(|k| self.line(k)).collect()
    }
}

/// How many lines from `i` in `a` and from `j` in `b` are equal, compared in growing blocks of
/// bytes: most of a mostly identical text goes by in a few memcmps.
fn equal_lines(a: &Lines, i: usize, b: &Lines, j: usize) -> usize {
    let n = (a.len() - i).min(b.len() - j);
    let mut done = 0;
    let mut step = 64;
    while done < n {
        let k = step.min(n - done);
        if a.block(i + done, i + done + k) == b.block(j + done, j + done + k) {
            done += k;
            step *= 2;
        } else {
            return done
                + (0..k)
                    .take_while(|&x| a.line(i + done + x) == b.line(j + done + x))
                    .count();
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rebuilds `new` from `old` and the ops: they must cover both texts, in order, exactly.
    fn apply(old: &[&str], new: &[&str], ops: &[LineOp]) -> Vec<String> {
        let (mut oi, mut ni) = (0, 0);
        let mut out = vec![];
        for op in ops {
            assert_eq!(
                (op.old_start, op.new_start),
                (oi, ni),
                "ops are contiguous: {ops:?}"
            );
            match op.tag {
                "equal" => {
                    assert_eq!(op.old_len, op.new_len);
                    for k in 0..op.old_len {
                        assert_eq!(old[oi + k], new[ni + k], "an equal run holds equal lines");
                        out.push(old[oi + k].to_string());
                    }
                }
                "delete" => assert_eq!(op.new_len, 0),
                "insert" => assert_eq!(op.old_len, 0),
                _ => {}
            }
            if op.tag != "equal" {
                out.extend(new[ni..ni + op.new_len].iter().map(|s| s.to_string()));
            }
            oi += op.old_len;
            ni += op.new_len;
        }
        assert_eq!((oi, ni), (old.len(), new.len()), "the ops cover both texts");
        out
    }

    fn split(t: &str) -> Vec<&str> {
        t.split_inclusive('\n').collect()
    }

    #[test]
    fn a_change_that_never_ends_is_matched_once_not_by_a_growing_myers() {
        // 20k lines reversed, then shuffled in blocks: both stay valid scripts, and the
        // reversed one is one replace (it would take Myers minutes).
        let old: Vec<String> = (0..20_000).map(|i| format!("  {i},\n")).collect();
        let reversed: Vec<String> = old.iter().rev().cloned().collect();
        let mut blocks: Vec<String> = old[10_000..].to_vec();
        blocks.extend(old[..10_000].iter().cloned());
        for new in [reversed, blocks] {
            let (o, n) = (old.concat(), new.concat());
            let ops = line_diff(&o, &n);
            assert_eq!(apply(&split(&o), &split(&n), &ops), new);
            assert!(ops.len() <= 3, "{:?}", &ops[..ops.len().min(5)]);
        }
    }

    /// `old` with `line_replacements(old, new)` applied (checking they are in order, disjoint
    /// and on line starts).
    fn replaced(old: &str, new: &str) -> String {
        let mut out = String::new();
        let mut at = 0;
        for (from, to, text) in line_replacements(old, new) {
            assert!(at <= from && from <= to, "in order and disjoint");
            assert!(
                from == 0 || old.as_bytes()[from - 1] == b'\n',
                "on a line start"
            );
            out.push_str(&old[at..from]);
            out.push_str(text);
            at = to;
        }
        out.push_str(&old[at..]);
        out
    }

    #[test]
    fn ops_are_a_valid_edit_script() {
        // A small deterministic generator: texts of repetitive JSON-like lines (like cloned
        // elements) with random replacements, insertions and deletions.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..400 {
            let n = 1 + rnd(300) as usize;
            let old: Vec<String> = (0..n)
                .map(|i| format!("  \"k{}\": {},\n", i % 7, rnd(4)))
                .collect();
            let mut new = old.clone();
            for _ in 0..rnd(12) {
                let at = rnd(new.len() as u64 + 1) as usize;
                match rnd(3) {
                    0 if at < new.len() => new[at] = format!("  \"changed\": {case},\n"),
                    1 => {
                        for k in 0..rnd(80) {
                            new.insert(
                                at.min(new.len()),
                                format!("  \"k{}\": {},\n", k % 7, rnd(4)),
                            );
                        }
                    }
                    _ => {
                        let len = (rnd(60) as usize).min(new.len().saturating_sub(at));
                        new.drain(at..at + len);
                    }
                }
            }
            let (o, w) = (old.concat(), new.concat());
            let ops = line_diff(&o, &w);
            let rebuilt = apply(&split(&o), &split(&w), &ops);
            assert_eq!(rebuilt.concat(), w, "case {case}");
            assert_eq!(replaced(&o, &w), w, "case {case}: the replacements");
        }
        // Edges: empty texts, no final newline, identical texts.
        for (a, b) in [
            ("", ""),
            ("", "x\n"),
            ("x\n", ""),
            ("a\nb", "a\nc"),
            ("same\n", "same\n"),
        ] {
            let ops = line_diff(a, b);
            assert_eq!(
                apply(&split(a), &split(b), &ops).concat(),
                b,
                "{a:?} → {b:?}"
            );
            assert_eq!(replaced(a, b), b, "{a:?} → {b:?}: the replacements");
        }
    }
}
