//! Every type that crosses to the window, in one module at the bottom of the shell's imports
//! (it imports nothing from the shell). TypeScript twins are generated from these (ts-rs) into
//! ui/src/bindings/, and `bindings.rs` fails the tests when a committed file is stale.

use ifmatch_engine::merge::Stats;
use ifmatch_engine::provenance;
use ifmatch_engine::round::ConflictStatus;
use ifmatch_engine::session::{ConflictInfo, Round, SaveReport, SaveResult, WriteMethod};
use ifmatch_store::secrets::Backend;
pub use ifmatch_store::settings::AuthInput;
use serde::{Deserialize, Serialize};

/// The result of a save, as the window sees it: one variant per way a save ends.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SaveView {
    /// Written: the server's version and its validator are the tab's new base.
    Saved {
        message: String,
        text: String,
        validator: Option<String>,
        /// How many write rounds the save took (automatic resubmission counts).
        rounds: usize,
    },
    /// The server had changed; the merge is clean and waits for review and a resubmit.
    Merged { round: RoundView, rounds: usize },
    /// The server had changed and some changes collide: the conflict view.
    Conflicts {
        round: RoundView,
        rounds: usize,
        /// Where each conflict stands in the round's starting Result (all unresolved, with their
        /// lines), so the window need not send the Result back to ask.
        #[serde(default)]
        statuses: Vec<ConflictStatus>,
    },
    /// Nothing was overwritten; the text is kept. `code` says what the window can offer.
    Failed { message: String, code: ProblemCode },
    /// The text is not valid JSON: nothing was sent.
    Invalid { message: String },
}

/// A merge round waiting for the user as the window shows it: built from the engine's `Round`
/// (`RoundView::of`) for an answer or a restored tab, never stored.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct RoundView {
    /// The summary in words.
    pub message: String,
    /// The merged Result to start from (each conflict showing its base value).
    pub text: String,
    /// The server version's validator: what a resubmit carries.
    pub validator: Option<String>,
    /// The round's name (`round_key`): the window's draft writes say which round their text is
    /// the Result of. (Absent from a stored shape older than it.)
    #[serde(default)]
    pub key: String,
    /// The version the edit started from (conflicts only).
    pub base_text: Option<String>,
    /// The user's text that met the server's change (conflicts only).
    pub mine_text: Option<String>,
    /// The server's current version.
    pub theirs_text: String,
    pub conflicts: Vec<ConflictInfo>,
    pub stats: Stats,
    pub positional_arrays: Vec<String>,
    /// Base → mine by line, the changed runs only (conflicts only): what the Mine pane marks.
    /// Computed here because a diff of two 10 MB texts in the window freezes it for seconds.
    #[serde(default)]
    pub mine_hunks: Vec<LineHunk>,
    /// Base → theirs by line, the changed runs only (conflicts only).
    #[serde(default)]
    pub theirs_hunks: Vec<LineHunk>,
    /// `mine_text` was left out of this answer because it is exactly the text the window sent
    /// with the save: the window fills it in. Never true in a stored round.
    #[serde(default)]
    pub mine_is_sent: bool,
    /// `base_text` was left out because it is exactly the tab's loaded version (the window's
    /// saved text). Never true in a stored round.
    #[serde(default)]
    pub base_is_loaded: bool,
    /// `text` was left out: the window builds it from the text it sent with the save, with these
    /// replacements. Never set in a stored round.
    #[serde(default)]
    pub text_edits: Option<Vec<TextEdit>>,
    /// `theirs_text` was left out: the window builds it from the tab's loaded version, with
    /// these replacements. Never set in a stored round.
    #[serde(default)]
    pub theirs_edits: Option<Vec<TextEdit>>,
}

/// One replacement in a text the window holds: its UTF-16 offsets `from..to` (a JavaScript
/// string's and the editor's) become `insert`. Replacements come in order and do not overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TextEdit {
    pub from: usize,
    pub to: usize,
    pub insert: String,
}

impl TextEdit {
    /// `old` → `new` as replacements of whole lines, or None when they would not be much
    /// smaller than `new` (over half its size), or when a text holds a carriage return (the
    /// editor keeps lines without them, so its offsets would differ from the text's).
    pub fn between(old: &str, new: &str) -> Option<Vec<TextEdit>> {
        if old.contains('\r') || new.contains('\r') {
            return None;
        }
        let found = ifmatch_engine::merge::display::line_replacements(old, new);
        if found.iter().map(|r| r.2.len()).sum::<usize>() > new.len() / 2 {
            return None;
        }
        Some(Self::utf16(old, found))
    }

    /// `old` → `new` as replacements of whole lines, however many, carriage returns left out
    /// (the editor holds lines without them): how a server's change is put into the text the
    /// user is editing, where the user's own typing must be carried through it.
    pub fn lines(old: &str, new: &str) -> Vec<TextEdit> {
        let (old, new) = (old.replace('\r', ""), new.replace('\r', ""));
        let found = ifmatch_engine::merge::display::line_replacements(&old, &new);
        Self::utf16(&old, found)
    }

    fn utf16(old: &str, found: Vec<(usize, usize, &str)>) -> Vec<TextEdit> {
        // Byte offsets to UTF-16 ones, counted in one pass (ASCII: the same numbers).
        let ascii = old.is_ascii();
        let (mut byte, mut unit) = (0, 0);
        let mut utf16 = |b: usize| {
            if !ascii {
                unit += old[byte..b].chars().map(char::len_utf16).sum::<usize>();
                byte = b;
                unit
            } else {
                b
            }
        };
        found
            .into_iter()
            .map(|(from, to, insert)| TextEdit {
                from: utf16(from),
                to: utf16(to),
                insert: insert.to_string(),
            })
            .collect()
    }
}

/// A round's name: a hash of the server version its Result stands on (its text: the same
/// document under a new validator is the same round).
pub fn round_key(round: &Round) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    round.current.text.hash(&mut h);
    format!("{:016x}", h.finish())
}

impl RoundView {
    /// The window's view of `round`: its texts whole (`omit_known` then leaves out what the
    /// window holds), the panes' line hunks, the summary in words. Built for an answer or a
    /// restored tab, never stored (a draft stores the round).
    pub fn of(round: &Round) -> RoundView {
        let stats = &round.stats;
        let message = if round.has_conflicts() {
            format!(
                "{}, {} you.",
                merged_words(stats),
                match round.conflicts.len() {
                    1 => "1 needs".to_string(),
                    n => format!("{n} need"),
                }
            )
        } else {
            format!(
                "{}, nothing collides. Review and resubmit.",
                merged_words(stats)
            )
        };
        RoundView {
            message,
            text: round.start.clone(),
            validator: round.current.validator.as_ref().map(|x| x.display()),
            key: round_key(round),
            base_text: round.base.clone(),
            mine_text: round.mine.clone(),
            theirs_text: round.current.text.clone(),
            conflicts: round.conflicts.clone(),
            stats: *stats,
            positional_arrays: round.positional_arrays.clone(),
            mine_hunks: Vec::new(),
            theirs_hunks: Vec::new(),
            mine_is_sent: false,
            base_is_loaded: false,
            text_edits: None,
            theirs_edits: None,
        }
        .with_hunks()
    }

    /// Leaves out of the answer to the window the texts it already holds: mine when it is
    /// `sent` (what the window saved), base when it is `loaded` (the tab's version).
    pub fn omit_known(&mut self, sent: &str, loaded: &str) {
        if self.mine_text.as_deref() == Some(sent) {
            self.mine_text = None;
            self.mine_is_sent = true;
        }
        if self.base_text.as_deref() == Some(loaded) {
            self.base_text = None;
            self.base_is_loaded = true;
        }
        // The Result and theirs differ from what the window holds only where the round
        // changed something: send those changes, not the two texts (10 MB each at size; the
        // bridge took about 250 ms per 10 MB each way).
        let (text, theirs) = std::thread::scope(|s| {
            let t = s.spawn(|| TextEdit::between(loaded, &self.theirs_text));
            let r = TextEdit::between(sent, &self.text);
            (r, t.join().expect("the line diff does not panic"))
        });
        if let Some(e) = text {
            self.text = String::new();
            self.text_edits = Some(e);
        }
        if let Some(e) = theirs {
            self.theirs_text = String::new();
            self.theirs_edits = Some(e);
        }
    }

    /// Fills the line hunks the panes mark (a round with conflicts only), both sides at once.
    pub fn with_hunks(mut self) -> RoundView {
        if let (Some(base), Some(mine)) = (&self.base_text, &self.mine_text) {
            let theirs = &self.theirs_text;
            (self.mine_hunks, self.theirs_hunks) = std::thread::scope(|s| {
                let m = s.spawn(|| LineHunk::between(base, mine));
                let t = LineHunk::between(base, theirs);
                (m.join().expect("the line diff does not panic"), t)
            });
        }
        self
    }
}

/// A changed run of lines between base and one side (0-based; `old_len` 0: lines inserted,
/// `new_len` 0: lines deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LineHunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
}

/// What a write will change on the server, line by line: the server's version (the one the
/// write is conditional on) → what will be sent, with a little context.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReviewView {
    /// Which version the diff starts from, in words.
    pub against: String,
    pub lines: Vec<DiffLine>,
    /// Lines added / removed in all.
    pub added: usize,
    pub removed: usize,
    /// Changed lines left out of `lines` (a very large change is shown in part).
    pub left_out: usize,
}

/// One line of a review.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
    /// Where the line comes from (see `Sides`).
    pub side: LineSide,
}

/// What happened to a review's line (sent as the diff mark the window prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub enum LineKind {
    /// Unchanged.
    #[serde(rename = " ")]
    Same,
    /// Removed.
    #[serde(rename = "-")]
    Removed,
    /// Added.
    #[serde(rename = "+")]
    Added,
    /// Lines skipped.
    #[serde(rename = "…")]
    Skipped,
}

#[cfg(test)]
impl LineKind {
    /// The diff mark, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Same => " ",
            LineKind::Removed => "-",
            LineKind::Added => "+",
            LineKind::Skipped => "…",
        }
    }
}

/// Where a review's line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum LineSide {
    /// Nothing to say: unchanged everywhere (and skipped lines).
    #[serde(rename = "")]
    Unsaid,
    /// Your change.
    Mine,
    /// The server's change: kept on an unchanged line, replaced on a removed one.
    Theirs,
    /// The same change on both sides.
    Both,
    /// Put back as it was in the version you started from.
    Base,
    /// Written in the Result, on neither side.
    Typed,
}

#[cfg(test)]
impl LineSide {
    /// The name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            LineSide::Unsaid => "",
            LineSide::Mine => "mine",
            LineSide::Theirs => "theirs",
            LineSide::Both => "both",
            LineSide::Base => "base",
            LineSide::Typed => "typed",
        }
    }
}

/// The texts a resubmit's review tells the lines' sides by: the version the edit started from
/// and, when the round kept it, the user's own text as it met the server's change.
pub struct Sides<'a> {
    pub base: &'a str,
    /// None for a clean merge (the round keeps no copy): then every sent line that is neither
    /// the server's nor base's counts as the user's.
    pub mine: Option<&'a str>,
}

/// For each line of `new`, the line of `old` it is matched with as equal (None: changed).
fn aligned(old: &str, new: &str) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    let mut o = 0;
    for h in LineHunk::between(old, new) {
        while out.len() < h.new_start {
            out.push(Some(o));
            o += 1;
        }
        out.extend(std::iter::repeat_n(None, h.new_len));
        o = h.old_start + h.old_len;
    }
    let n = new.lines().count();
    while out.len() < n {
        out.push(Some(o));
        o += 1;
    }
    out
}

/// `text` with one trailing comma taken off each line (the same lines, for telling sides).
fn without_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for l in text.split_inclusive('\n') {
        let (body, end) = match l.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (l, ""),
        };
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push_str(body.strip_suffix(',').unwrap_or(body));
        out.push_str(end);
    }
    out
}

/// For each line of `side`, whether it is part of a change against `base`.
fn changed(base: &str, side: &str) -> Vec<bool> {
    aligned(base, side).iter().map(Option::is_none).collect()
}

impl ReviewView {
    /// Lines of context around each change, and the most changed lines shown.
    const CONTEXT: usize = 2;
    const MAX_LINES: usize = 4000;

    /// The review of `old` → `new`, no line's side told (comparing with a kept version).
    pub fn between(against: String, old: &str, new: &str) -> ReviewView {
        Self::build(against, old, new, |_, _, _| LineSide::Unsaid)
    }

    /// The review of a save: the loaded version → what will be sent; every added line is the
    /// user's.
    pub fn of_save(against: String, loaded: &str, sent: &str) -> ReviewView {
        Self::build(against, loaded, sent, |kind, _, _| {
            if kind == LineKind::Added {
                LineSide::Mine
            } else {
                LineSide::Unsaid
            }
        })
    }

    /// The review of a resubmit: the server's current version (`theirs`) → what will be sent,
    /// each line told by its side: a change of the user's, the server's change kept (or, on a
    /// removed line, replaced), the same change on both, base put back, or typed in the Result.
    pub fn of_resubmit(against: String, theirs: &str, sent: &str, sides: Sides) -> ReviewView {
        // By JSON path where every text is JSON and small enough (a lookup walks one path; the
        // lines shown are at most MAX_LINES): each value is found in each version however its
        // lines moved, so a kept change of theirs whose line only gained a comma is not
        // "replaced". Otherwise, by lines.
        const BY_PATH_LIMIT: usize = 4 << 20;
        let small = [sides.base, theirs, sent]
            .iter()
            .chain(sides.mine.as_ref())
            .all(|t| t.len() <= BY_PATH_LIMIT);
        let parsed = small
            .then(|| {
                Some(provenance::Versions {
                    base: provenance::Lines::of(sides.base)?,
                    mine: match sides.mine {
                        Some(m) => Some(provenance::Lines::of(m)?),
                        None => None,
                    },
                    theirs: provenance::Lines::of(theirs)?,
                    sent: provenance::Lines::of(sent)?,
                })
            })
            .flatten();
        if let Some(v) = parsed {
            return Self::build(against, theirs, sent, |kind, old, new| {
                let origin = match (kind, old, new) {
                    (LineKind::Removed, Some(o), _) => v.of_theirs(o),
                    (_, _, Some(n)) => v.of_sent(n),
                    _ => provenance::Origin::Unchanged,
                };
                match origin {
                    provenance::Origin::Unchanged => LineSide::Unsaid,
                    provenance::Origin::Mine => LineSide::Mine,
                    provenance::Origin::Theirs => LineSide::Theirs,
                    provenance::Origin::Both => LineSide::Both,
                    provenance::Origin::Base => LineSide::Base,
                    provenance::Origin::Typed => LineSide::Typed,
                }
            });
        }
        // Sides are told on lines without their trailing comma: an element or member that moved
        // next to another (elements taken with Both, a member added after it) is still the same
        // value from the same side, not a line "typed" in the Result.
        let (base_n, theirs_n, sent_n) = (
            without_commas(sides.base),
            without_commas(theirs),
            without_commas(sent),
        );
        let theirs_changed = changed(&base_n, &theirs_n);
        let from_base = aligned(&base_n, &sent_n);
        let mine = sides.mine.map(|m| {
            let m = without_commas(m);
            (changed(&base_n, &m), aligned(&m, &sent_n))
        });
        Self::build(against, theirs, sent, |kind, old, new| {
            let theirs_change = old.is_some_and(|t| theirs_changed.get(t) == Some(&true));
            if kind == LineKind::Removed {
                return if theirs_change {
                    LineSide::Theirs
                } else {
                    LineSide::Unsaid
                };
            }
            let Some(j) = new else {
                return LineSide::Unsaid;
            };
            let mine_change = match &mine {
                Some((mine_changed, to_mine)) => to_mine
                    .get(j)
                    .copied()
                    .flatten()
                    .is_some_and(|m| mine_changed.get(m) == Some(&true)),
                // A clean merge: whatever differs from the server and from base is the user's.
                None => kind == LineKind::Added && from_base.get(j).copied().flatten().is_none(),
            };
            match (mine_change, theirs_change) {
                (true, true) => LineSide::Both,
                (true, false) => LineSide::Mine,
                (false, true) => LineSide::Theirs,
                (false, false) if kind == LineKind::Added => {
                    if from_base.get(j).copied().flatten().is_some() {
                        LineSide::Base
                    } else {
                        LineSide::Typed
                    }
                }
                _ => LineSide::Unsaid,
            }
        })
    }

    /// The lines of `old` → `new` around each change; `side(kind, old line, new line)` tells
    /// each shown line's side (0-based line numbers; a " " line has both).
    fn build(
        against: String,
        old: &str,
        new: &str,
        side: impl Fn(LineKind, Option<usize>, Option<usize>) -> LineSide,
    ) -> ReviewView {
        let o: Vec<&str> = old.lines().collect();
        let n: Vec<&str> = new.lines().collect();
        let hunks = LineHunk::between(old, new);
        let mut lines = vec![];
        let (mut added, mut removed, mut left_out) = (0, 0, 0);
        let mut next = 0; // the first old line not printed yet
        let line =
            |kind: LineKind, text: &str, at_old: Option<usize>, at_new: Option<usize>| DiffLine {
                kind,
                text: text.into(),
                side: if kind == LineKind::Skipped {
                    LineSide::Unsaid
                } else {
                    side(kind, at_old, at_new)
                },
            };
        // An unchanged old line's new line number: shifted by the changes before it.
        let moved = |i: usize, shift: isize| Some(i.saturating_add_signed(shift));
        for (i, h) in hunks.iter().enumerate() {
            added += h.new_len;
            removed += h.old_len;
            if lines.len() >= Self::MAX_LINES {
                left_out += h.new_len + h.old_len;
                continue;
            }
            let from = h.old_start.saturating_sub(Self::CONTEXT).max(next);
            if from > next || (i == 0 && from > 0) {
                lines.push(line(LineKind::Skipped, "", None, None));
            }
            let before = h.new_start as isize - h.old_start as isize;
            for (k, t) in o
                .iter()
                .enumerate()
                .take(h.old_start.min(o.len()))
                .skip(from)
            {
                lines.push(line(LineKind::Same, t, Some(k), moved(k, before)));
            }
            for (k, t) in o.iter().enumerate().skip(h.old_start).take(h.old_len) {
                lines.push(line(LineKind::Removed, t, Some(k), None));
            }
            for (k, t) in n.iter().enumerate().skip(h.new_start).take(h.new_len) {
                lines.push(line(LineKind::Added, t, None, Some(k)));
            }
            next = h.old_start + h.old_len;
            let after = (h.new_start + h.new_len) as isize - next as isize;
            let until = hunks
                .get(i + 1)
                .map(|x| x.old_start)
                .unwrap_or(o.len())
                .min(next + Self::CONTEXT)
                .min(o.len());
            for (k, t) in o.iter().enumerate().take(until).skip(next) {
                lines.push(line(LineKind::Same, t, Some(k), moved(k, after)));
            }
            next = until.max(next);
        }
        if next < o.len() && !hunks.is_empty() {
            lines.push(line(LineKind::Skipped, "", None, None));
        }
        ReviewView {
            against,
            lines,
            added,
            removed,
            left_out,
        }
    }
}

impl LineHunk {
    /// The changed runs of `old` → `new` (the engine's bounded line diff).
    pub fn between(old: &str, new: &str) -> Vec<LineHunk> {
        ifmatch_engine::merge::display::line_diff(old, new)
            .into_iter()
            .filter(|op| op.tag != "equal")
            .map(|op| LineHunk {
                old_start: op.old_start,
                old_len: op.old_len,
                new_start: op.new_start,
                new_len: op.new_len,
            })
            .collect()
    }
}

/// What a merge round did, in words for people: "Someone changed this on the server since you
/// opened it — their 3 changes and your 2 changes merged" (the validators are in the header's
/// version details).
fn merged_words(stats: &Stats) -> String {
    let n = |k: usize| format!("{k} change{}", if k == 1 { "" } else { "s" });
    let mut parts = vec![];
    if stats.from_theirs > 0 {
        parts.push(format!("their {}", n(stats.from_theirs)));
    }
    if stats.from_mine > 0 {
        parts.push(format!("your {}", n(stats.from_mine)));
    }
    if stats.same_both > 0 {
        parts.push(format!("{} you both made (kept once)", n(stats.same_both)));
    }
    let merged = match parts.len() {
        0 => "nothing else to merge".to_string(),
        1 => format!("{} merged", parts[0]),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last} merged", parts.join(", "))
        }
    };
    format!("Someone changed this on the server since you opened it — {merged}")
}

/// The words of a save that ended saved: what the loop did on the way, and (from the report's
/// fact, as the CLI says it) whether the write was made under the server's own write lock.
fn saved_words(report: &SaveReport) -> String {
    let rounds = report.rounds;
    let said = if !report.notes.is_empty() {
        format!("Saved. {}", report.notes.join(" "))
    } else if rounds > 1 && report.merged_from_theirs > 0 {
        format!(
            "Saved after merging {} of the server's concurrent changes ({rounds} rounds).",
            report.merged_from_theirs
        )
    } else if rounds > 1 {
        format!(
            "Saved ({rounds} rounds): an earlier write did not land and nothing had changed on \
             the server, so the same write was sent again."
        )
    } else {
        "Saved.".into()
    };
    if report.under_lock {
        format!(
            "{said} Written under the server's write lock: read, compared and written while every \
             writer that honours the server's locks was held off."
        )
    } else {
        said
    }
}

impl SaveView {
    /// The window's view of how a save ended (its last round started from `report.base` and
    /// tried to write `report.mine`).
    pub fn of(report: &SaveReport) -> SaveView {
        let rounds = report.rounds;
        match &report.result {
            SaveResult::Saved { base: nb, .. } => SaveView::Saved {
                message: saved_words(report),
                text: nb.text.clone(),
                validator: nb.validator.as_ref().map(|x| x.display()),
                rounds,
            },
            SaveResult::Merged { round } => SaveView::Merged {
                round: RoundView::of(round),
                rounds,
            },
            SaveResult::Conflicts { round } => SaveView::Conflicts {
                round: RoundView::of(round),
                rounds,
                statuses: round.statuses(&round.start).unwrap_or_default(),
            },
            SaveResult::Failed { outcome, message } => SaveView::Failed {
                message: message.clone(),
                code: ProblemCode::of_outcome(outcome),
            },
            SaveResult::Invalid { message } => SaveView::Invalid {
                message: message.clone(),
            },
        }
    }
}

#[derive(Serialize, ts_rs::TS)]
pub struct TabView {
    pub id: String,
    pub connection_id: String,
    pub url: String,
    pub text: String,
    pub validator: Option<String>,
    pub warnings: Vec<String>,
    /// When the resource is a collection: its items' ids (open them as URL + "/" + id).
    pub collection_items: Vec<String>,
}

/// What the window does differently for a problem: exactly the cases it branches on (add a
/// variant only when the window uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemCode {
    /// The text is not valid JSON: nothing was sent, the editor marks the place.
    InvalidJson,
    /// The server refused the credentials, or wants some and none were sent: the window offers
    /// to edit the connection.
    Credentials,
    /// A request went out and no whole answer came back: a write may have landed; the window
    /// offers to reload before anything else is written.
    MayHaveLanded,
    /// A draft could not be written to disk: the warning stays up until a write works.
    DraftNotSaved,
    /// A draft write for a round this side no longer holds (made again while the write was on
    /// its way): the draft on disk stands, and the window writes again shortly.
    DraftWaits,
    /// Anything else: the message says what happened and what to do.
    Other,
}

impl ProblemCode {
    /// The code for an outcome a command could not go on from.
    pub fn of_outcome(o: &ifmatch_engine::Outcome) -> ProblemCode {
        use ifmatch_engine::Outcome;
        match o {
            Outcome::Unauthorized { .. } | Outcome::Forbidden => ProblemCode::Credentials,
            // Written, not confirmed: the same offer — read the server before writing again.
            Outcome::NetworkAfterSend { .. }
            | Outcome::Unconfirmed { .. }
            | Outcome::ServerError {
                may_have_landed: true,
                ..
            } => ProblemCode::MayHaveLanded,
            _ => ProblemCode::Other,
        }
    }
}

/// Every command's error: a code the window branches on and the words to show.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
}

impl Problem {
    pub fn new(code: ProblemCode, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
        }
    }

    /// A problem the window only shows.
    pub fn other(message: impl Into<String>) -> Problem {
        Problem::new(ProblemCode::Other, message)
    }
}

#[derive(Serialize, ts_rs::TS)]
pub struct StaleCheck {
    /// The server has a newer version than the one the tab loaded.
    pub stale: bool,
    /// The server's current validator.
    pub validator: Option<String>,
    /// The overwrite watch: the first newer version after a save no longer holds the change
    /// saved at these pointers, and it was written over (a server not known to refuse stale
    /// writes, or a version that puts back what was saved): "Reapply my change" is offered.
    /// Empty otherwise.
    pub overwritten: Vec<String>,
    /// What the newer version did at each saved place it changed (written over, or changed
    /// after the save by a write that saw it): the value saved and the value now.
    pub later: Vec<LaterChangeView>,
    /// On a server that refuses stale writes, the newer version changed the saved places by a
    /// write that saw the save (`later` says how): to be told, not alarmed about.
    pub changed_after: bool,
    /// What the watch saw, in words (None: nothing to say).
    pub message: Option<String>,
}

/// One saved place a later version changed: `saved` → `now` (compact JSON; None: absent).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LaterChangeView {
    pub pointer: String,
    pub saved: Option<String>,
    pub now: Option<String>,
}

impl From<ifmatch_engine::overwrite::LaterChange> for LaterChangeView {
    fn from(c: ifmatch_engine::overwrite::LaterChange) -> LaterChangeView {
        LaterChangeView {
            pointer: c.pointer,
            saved: c.saved,
            now: c.now,
        }
    }
}

/// What an Accept did: the new Result and where every conflict stands in it. The draft holding
/// the decision is on disk before this returns.
#[derive(Serialize, ts_rs::TS)]
pub struct Accepted {
    /// The new Result; empty when it comes as `text_edits`.
    pub text: String,
    /// The new Result as replacements of the text the window sent, when that is much smaller
    /// (an Accept changes a few lines of a text that is 10 MB at size).
    pub text_edits: Option<Vec<TextEdit>>,
    pub statuses: Vec<ConflictStatus>,
}

impl Accepted {
    /// The answer to an Accept made on `sent`, whose Result is now `text`.
    pub fn new(sent: &str, text: String, statuses: Vec<ConflictStatus>) -> Accepted {
        match TextEdit::between(sent, &text) {
            Some(edits) => Accepted {
                text: String::new(),
                text_edits: Some(edits),
                statuses,
            },
            None => Accepted {
                text,
                text_edits: None,
                statuses,
            },
        }
    }
}

#[derive(Serialize, ts_rs::TS)]
pub struct RequestPreview {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Serialize, ts_rs::TS)]
pub struct JsonProblem {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// What the drafts brought back at start.
#[derive(Serialize, ts_rs::TS)]
pub struct RestoredDrafts {
    pub tabs: Vec<RestoredTab>,
    /// Drafts that could not be read, where each was set aside (kept, not restored).
    pub unreadable: Vec<String>,
}

/// A tab brought back from its draft.
#[derive(Serialize, ts_rs::TS)]
pub struct RestoredTab {
    pub tab: TabView,
    /// The text the tab had loaded (its base).
    pub saved_text: String,
    /// A conflict or merge round that was in progress.
    pub round: Option<RoundView>,
    /// Where each conflict of that round stands in the restored text.
    pub statuses: Vec<ConflictStatus>,
}

#[derive(Serialize, ts_rs::TS)]
pub struct Connections {
    pub connections: Vec<ConnectionView>,
    /// The one to select at start.
    pub default_id: String,
    /// The demo server's URL once it runs (it starts on first use).
    pub demo_url: Option<String>,
    /// Where secrets are kept, and in words.
    pub secret_storage: Backend,
    pub secret_storage_words: String,
    /// Recently opened resources, newest first.
    pub recent: Vec<String>,
    /// The dialects a connection can speak: (name, what it means).
    pub dialects: Vec<(String, String)>,
}

/// What a test of a connection found.
#[derive(Serialize, ts_rs::TS)]
pub struct ConnectionTest {
    /// The server answered, and not with a refusal of the credentials.
    pub ok: bool,
    /// What came back, in words.
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnectionInput {
    pub id: Option<String>,
    pub name: String,
    pub base_url: String,
    pub auth: AuthInput,
    pub method: WriteMethod,
    pub auto_resubmit: bool,
    /// A PEM certificate to trust for this connection only (self-signed servers).
    pub trusted_cert_pem: Option<String>,
    /// Check the server (does it refuse stale writes?) before the first write.
    pub check_server: bool,
    /// How the server spells its version: one of `Connections::dialects`.
    pub dialect: String,
}

/// What the window sees of a connection: never a secret.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConnectionView {
    /// The secret could not be found again (no keyring kept it): enter it again.
    pub secret_missing: bool,
    pub id: String,
    pub name: String,
    pub base_url: String,
    /// "none", "bearer", "basic" or "header (X-Api-Key)".
    pub auth: String,
    /// "none", "bearer", "basic" or "header" (for the edit form).
    pub auth_kind: String,
    /// The basic-auth user name (not a secret).
    pub basic_user: Option<String>,
    /// The custom header's name (not a secret).
    pub header_name: Option<String>,
    pub method: WriteMethod,
    pub auto_resubmit: bool,
    pub is_demo: bool,
    pub trusts_custom_cert: bool,
    /// The server check runs before the first write (see `ConnectionInput`).
    pub check_server: bool,
    /// How the server spells its version ("generic": the ETag header).
    pub dialect: String,
}

/// What is known about whether a tab's server refuses stale writes (`ifmatch check`).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SafetyView {
    /// "unchecked", "protected", "caveats", "unprotected", "unknown", or "dialect" (the
    /// connection speaks an API's own version dialect; see `dialect_view`).
    pub verdict: String,
    /// The verdict in words, for the tab's toolbar.
    pub words: String,
    /// The whole report with its evidence, when the check just ran.
    pub report: Option<String>,
    /// The dialect the check found the document shaped for (the connection may use it).
    pub proposed_dialect: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer leaves out only the texts the window holds exactly, and the stored shape
    /// (hunks included) reads back; hunks come from the engine's line diff.
    #[test]
    fn the_answer_leaves_out_only_what_the_window_holds() {
        let old = r#"{"message":"m","text":"{}","validator":null,"base_text":"{\n  \"a\": 1\n}","mine_text":"{\n  \"a\": 2\n}","theirs_text":"{\n  \"a\": 3\n}","conflicts":[],"stats":{"from_mine":0,"from_theirs":0,"same_both":0,"conflicts":1},"positional_arrays":[]}"#;
        let r: RoundView = serde_json::from_str(old).unwrap();
        let r = r.with_hunks();
        assert_eq!(
            r.mine_hunks,
            vec![LineHunk {
                old_start: 1,
                old_len: 1,
                new_start: 1,
                new_len: 1
            }]
        );
        assert_eq!(r.theirs_hunks.len(), 1);
        let mut same = r.clone();
        same.omit_known("{\n  \"a\": 2\n}", "{\n  \"a\": 1\n}");
        assert!(same.mine_is_sent && same.mine_text.is_none());
        assert!(same.base_is_loaded && same.base_text.is_none());
        let mut other = r.clone();
        other.omit_known("{\"a\": 2}", "{\"a\": 9}");
        assert!(!other.mine_is_sent && other.mine_text.is_some());
        assert!(!other.base_is_loaded && other.base_text.is_some());
    }

    /// What `edits` make of `old`, applied on UTF-16 offsets as the window does.
    fn applied(old: &str, edits: &[TextEdit]) -> String {
        let mut units: Vec<u16> = old.encode_utf16().collect();
        for e in edits.iter().rev() {
            units.splice(e.from..e.to, e.insert.encode_utf16());
        }
        String::from_utf16(&units).unwrap()
    }

    /// The Result and theirs go as replacements in the texts the window holds when that is
    /// much smaller, on UTF-16 offsets past non-ASCII text, and whole otherwise.
    #[test]
    fn the_answer_sends_the_result_and_theirs_as_changes_when_smaller() {
        let lines = |n: usize, at: usize, v: &str| -> String {
            let body: Vec<String> = (0..n)
                .map(|i| {
                    let v = if i == at {
                        v.to_string()
                    } else {
                        format!("\"é{i}\"")
                    };
                    format!("  \"k{i}\": {v}")
                })
                .collect();
            format!("{{\n{}\n}}\n", body.join(",\n"))
        };
        let base = lines(200, 999, "");
        let mine = lines(200, 10, "\"mine 😀\"");
        let theirs = lines(200, 150, "\"theirs\"");
        let result = lines(200, 150, "\"theirs\"").replace("\"é10\"", "\"mine 😀\"");
        let blank = RoundView {
            message: String::new(),
            text: String::new(),
            validator: None,
            key: String::new(),
            base_text: None,
            mine_text: None,
            theirs_text: String::new(),
            conflicts: vec![],
            stats: Stats::default(),
            positional_arrays: vec![],
            mine_hunks: vec![],
            theirs_hunks: vec![],
            mine_is_sent: false,
            base_is_loaded: false,
            text_edits: None,
            theirs_edits: None,
        };
        let mut r = RoundView {
            text: result.clone(),
            theirs_text: theirs.clone(),
            ..blank.clone()
        };
        r.omit_known(&mine, &base);
        assert_eq!(r.text, "");
        assert_eq!(r.theirs_text, "");
        let (te, he) = (r.text_edits.unwrap(), r.theirs_edits.unwrap());
        assert_eq!((te.len(), he.len()), (1, 1), "one changed line each");
        assert_eq!(applied(&mine, &te), result);
        assert_eq!(applied(&base, &he), theirs);
        // Everything changed: the text goes whole.
        let mut whole = RoundView {
            text: "[1]\n".into(),
            theirs_text: "[2]\n".into(),
            ..blank
        };
        whole.omit_known(&mine, &base);
        assert_eq!(
            (whole.text.as_str(), whole.theirs_text.as_str()),
            ("[1]\n", "[2]\n")
        );
        assert!(whole.text_edits.is_none() && whole.theirs_edits.is_none());
        // An Accept's answer: the new Result as changes to the text the window sent.
        let accepted = Accepted::new(&result, mine.clone(), vec![]);
        assert_eq!(accepted.text, "");
        assert_eq!(applied(&result, &accepted.text_edits.unwrap()), mine);
        let accepted = Accepted::new(&result, "[1]\n".into(), vec![]);
        assert_eq!(
            (accepted.text.as_str(), accepted.text_edits),
            ("[1]\n", None)
        );
    }

    /// A write that may have landed offers "reload" whichever way it ended ambiguously.
    #[test]
    fn may_have_landed_is_one_code() {
        use ifmatch_engine::Outcome;
        let server = |may_have_landed| Outcome::ServerError {
            status: 500,
            detail: String::new(),
            may_have_landed,
        };
        assert_eq!(
            ProblemCode::of_outcome(&server(true)),
            ProblemCode::MayHaveLanded
        );
        assert_eq!(ProblemCode::of_outcome(&server(false)), ProblemCode::Other);
        // Acknowledged and the confirming read failed: reload before anything else is written.
        assert_eq!(
            ProblemCode::of_outcome(&Outcome::Unconfirmed {
                status: 204,
                detail: "the server answered 500".into()
            }),
            ProblemCode::MayHaveLanded
        );
    }
}

#[cfg(test)]
mod words_tests {
    use super::merged_words;
    use ifmatch_engine::merge::Stats;

    fn stats(from_theirs: usize, from_mine: usize, same_both: usize) -> Stats {
        Stats {
            from_mine,
            from_theirs,
            same_both,
            conflicts: 0,
        }
    }

    #[test]
    fn a_round_is_said_in_words_for_people() {
        assert_eq!(
            merged_words(&stats(3, 2, 0)),
            "Someone changed this on the server since you opened it — their 3 changes and your \
             2 changes merged"
        );
        assert!(merged_words(&stats(1, 1, 0)).ends_with("their 1 change and your 1 change merged"));
        assert!(merged_words(&stats(1, 0, 2))
            .ends_with("their 1 change and 2 changes you both made (kept once) merged"));
        assert!(merged_words(&stats(0, 0, 0)).ends_with("nothing else to merge"));
    }
}

#[cfg(test)]
mod review_tests {
    use super::ReviewView;

    fn kinds(r: &ReviewView) -> String {
        r.lines.iter().map(|l| l.kind.as_str()).collect()
    }

    #[test]
    fn a_review_shows_each_change_with_two_lines_around_it() {
        let old: String = (0..20).map(|i| format!("l{i}\n")).collect();
        let new = old
            .replace("l5\n", "L5\n")
            .replace("l7\n", "")
            .replace("l15\n", "l15\nnew\n");
        let r = ReviewView::between("x".into(), &old, &new);
        assert_eq!((r.added, r.removed, r.left_out), (2, 2, 0));
        // … l3 l4 -l5 +L5 l6 -l7 l8 l9 … l14 l15 +new l16 l17 …
        assert_eq!(kinds(&r), "…  -+ -  …  +  …", "{:?}", r.lines);
        let texts: Vec<&str> = r.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "", "l3", "l4", "l5", "L5", "l6", "l7", "l8", "l9", "", "l14", "l15", "new", "l16",
                "l17", ""
            ]
        );
    }

    fn sides(r: &ReviewView) -> Vec<(String, String, String)> {
        r.lines
            .iter()
            .map(|l| {
                (
                    l.kind.as_str().into(),
                    l.text.clone(),
                    l.side.as_str().into(),
                )
            })
            .collect()
    }

    fn row(kind: &str, text: &str, side: &str) -> (String, String, String) {
        (kind.into(), text.into(), side.into())
    }

    #[test]
    fn a_resubmit_tells_each_line_by_its_side() {
        let base = "a\nb\nc\nd\ne\nf\ng\n";
        // Mine changes b and e (and d, the same as theirs); theirs changes c and d.
        let mine = "a\nB-mine\nc\nD\nE-mine\nf\ng\n";
        let theirs = "a\nb\nC-theirs\nD\ne\nf\ng\n";
        // The Result: both sides merged, and a line typed in the Result.
        let sent = "a\nB-mine\nC-theirs\nD\nE-mine\nF-typed\ng\n";
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            sent,
            super::Sides {
                base,
                mine: Some(mine),
            },
        );
        assert_eq!(
            sides(&r),
            vec![
                row(" ", "a", ""),
                row("-", "b", ""),
                row("+", "B-mine", "mine"),
                row(" ", "C-theirs", "theirs"),
                row(" ", "D", "both"),
                row("-", "e", ""),
                row("-", "f", ""),
                row("+", "E-mine", "mine"),
                row("+", "F-typed", "typed"),
                row(" ", "g", ""),
            ]
        );
    }

    #[test]
    fn a_resubmit_that_replaces_the_servers_change_says_so() {
        let base = "a\nb\nc\n";
        let mine = "a\nB-mine\nc\n";
        let theirs = "a\nB-theirs\nc\n";
        // Accept mine: the server's change is replaced; accept base: base's line put back.
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            mine,
            super::Sides {
                base,
                mine: Some(mine),
            },
        );
        assert_eq!(
            sides(&r),
            vec![
                row(" ", "a", ""),
                row("-", "B-theirs", "theirs"),
                row("+", "B-mine", "mine"),
                row(" ", "c", ""),
            ]
        );
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            base,
            super::Sides {
                base,
                mine: Some(mine),
            },
        );
        assert_eq!(sides(&r)[2], row("+", "b", "base"));
    }

    #[test]
    fn elements_taken_with_both_are_mine_and_theirs_not_typed() {
        let base = "{\n  \"tags\": [\n    \"a\"\n  ]\n}\n";
        let mine = "{\n  \"tags\": [\n    \"a\",\n    \"m\"\n  ]\n}\n";
        let theirs = "{\n  \"tags\": [\n    \"a\",\n    \"t\"\n  ]\n}\n";
        // Both: mine's run, then theirs' ("m" now carries a comma it did not have in mine).
        let sent = "{\n  \"tags\": [\n    \"a\",\n    \"m\",\n    \"t\"\n  ]\n}\n";
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            sent,
            super::Sides {
                base,
                mine: Some(mine),
            },
        );
        let got = sides(&r);
        assert!(got.contains(&row("+", "    \"m\",", "mine")), "{got:?}");
        assert!(got.contains(&row(" ", "    \"t\"", "theirs")), "{got:?}");
        assert!(got.iter().all(|l| l.2 != "typed"), "{got:?}");
    }

    #[test]
    fn a_clean_merge_counts_what_is_neither_the_servers_nor_base_as_mine() {
        let base = "a\nb\nc\n";
        let theirs = "a\nb\nC-theirs\n";
        let sent = "a\nB-mine\nC-theirs\n";
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            sent,
            super::Sides { base, mine: None },
        );
        assert_eq!(
            sides(&r),
            vec![
                row(" ", "a", ""),
                row("-", "b", ""),
                row("+", "B-mine", "mine"),
                row(" ", "C-theirs", "theirs"),
            ]
        );
        let save = super::ReviewView::of_save("x".into(), base, sent);
        assert!(save
            .lines
            .iter()
            .all(|l| (l.kind == super::LineKind::Added) == (l.side == super::LineSide::Mine)));
    }

    #[test]
    fn a_kept_change_of_theirs_is_not_called_replaced_when_its_line_gains_a_comma() {
        let base = "{\n  \"a\": 1,\n  \"b\": 1\n}\n";
        let theirs = "{\n  \"a\": 1,\n  \"b\": 2\n}\n";
        let mine = "{\n  \"a\": 5,\n  \"b\": 1,\n  \"c\": 3\n}\n";
        let sent = "{\n  \"a\": 5,\n  \"b\": 2,\n  \"c\": 3\n}\n";
        let r = super::ReviewView::of_resubmit(
            "x".into(),
            theirs,
            sent,
            super::Sides {
                base,
                mine: Some(mine),
            },
        );
        let got = sides(&r);
        assert!(got.contains(&row("-", "  \"b\": 2", "")), "{got:?}");
        assert!(got.contains(&row("+", "  \"b\": 2,", "theirs")), "{got:?}");
        assert!(got.contains(&row("+", "  \"c\": 3", "mine")), "{got:?}");
        assert!(got.contains(&row("+", "  \"a\": 5,", "mine")), "{got:?}");
    }

    #[test]
    fn nothing_changed_is_an_empty_review() {
        let r = ReviewView::between("x".into(), "a\nb\n", "a\nb\n");
        assert!(r.lines.is_empty());
        assert_eq!((r.added, r.removed), (0, 0));
    }
}

/// A watch's signal to the window: the resource (connection, URL) has a newer version
/// (`arrived`) or something new to say about how it is watched. The window asks `live_update`
/// for each tab showing it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LiveSignal {
    pub connection_id: String,
    pub url: String,
    pub arrived: bool,
}

/// How a tab's resource is watched, in words, and what the watch has cost.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LiveStatusView {
    /// "live: server-sent events", "polling every 10 s, 304 when unchanged", "not watched".
    pub how: String,
    /// The last thing to tell about the watch (a dropped stream, a server that answers every
    /// poll with the whole document), None when all is well.
    pub problem: Option<String>,
    /// A matching If-None-Match was answered with the whole document: every poll costs it.
    pub full_body_polls: bool,
    /// Body bytes the watch received.
    #[ts(type = "number")]
    pub bytes: u64,
    /// What plain polling (a full read every interval) would have received meanwhile.
    #[ts(type = "number")]
    pub plain_polling_bytes: u64,
    #[ts(type = "number")]
    pub requests: u64,
    /// Polls answered 304 Not Modified.
    #[ts(type = "number")]
    pub not_modified: u64,
    /// Tabs sharing this watch.
    pub tabs: usize,
}

/// A place where the server's newer version collides with the user's unsaved edit.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LiveCollision {
    pub pointer: String,
    pub label: String,
    /// 1-based first and last line in the user's text (None: not in it, e.g. removed there).
    pub lines: Option<(usize, usize)>,
}

/// What the newest version a watch saw did to a tab.
#[derive(Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveUpdate {
    /// Nothing newer than what the tab stands on.
    Current,
    /// A save is on its way: asked again after it.
    Busy,
    /// The same document under a new validator (server-owned fields moved): what a write now
    /// carries.
    Revalidated { validator: Option<String> },
    /// The tab had no unsaved edits: it now shows the newer version (its new base).
    Replaced {
        message: String,
        text: String,
        validator: Option<String>,
        /// The text as replacements of the text the window sent (or of the loaded version).
        edits: Vec<TextEdit>,
        /// Pointers the server changed.
        changed: Vec<String>,
    },
    /// The server's change was merged into the unsaved edit: `text` is the edit with it; the
    /// tab's base is the newer version (a save is a plain conditional write on it).
    Merged {
        message: String,
        text: String,
        /// The newer version (the tab's new loaded version).
        saved_text: String,
        validator: Option<String>,
        /// `text` as replacements of the text the window sent.
        edits: Vec<TextEdit>,
        changed: Vec<String>,
    },
    /// The server changed places the edit changed too: nothing was applied; the places.
    Collides {
        message: String,
        conflicts: Vec<LiveCollision>,
    },
    /// The newer version waits (the text is not JSON now, or the round could not take it).
    Waiting { message: String },
    /// The newer version does not look like the document (a status object sent for it): not
    /// applied, said; the next version that does is taken as usual.
    Unlike { message: String },
    /// A conflict or merge round: shown as a save's round would be (made again against the
    /// newer version, or opened for a collision).
    Round {
        view: Box<SaveView>,
        /// The Result as replacements of the text the window sent.
        edits: Vec<TextEdit>,
    },
    /// The first newer version after a save, judged by the overwrite watch, then `then`.
    AfterSave {
        check: StaleCheck,
        then: Box<LiveUpdate>,
    },
}
