//! Live: what a newer version of an open tab's resource does to the tab (the watches themselves
//! are in `crate::watches`).
//!
//! A watch only says that a newer version exists (a signal to the window, which asks
//! `live_update` for each tab with the text it holds). What the version does to a tab is decided
//! here, by the engine's merge: a clean tab shows it; a tab with unsaved edits gets it merged
//! into the edit when nothing collides (the base moves forward, so the later Save is a plain
//! conditional write); a change that collides is only marked, and becomes the conflict list when
//! the user asks (or saves); a round in progress is merged again against it, keeping every
//! decision. Nothing here writes to the server.

use crate::state::{AppState, Tab};
use crate::view::{LiveCollision, LiveStatusView, LiveUpdate, Problem, SaveView, TextEdit};
use crate::watches::Seen;
use ifmatch_engine::live::Arrival;
use ifmatch_engine::merge::Options;
use ifmatch_engine::session::{self, Remerged, SaveResult, Version};

/// Where a version stands for a tab.
enum Standing {
    Same,
    /// The same document under a new validator: the tab's answer (`LiveUpdate::Revalidated`).
    Revalidated(Option<String>),
    Newer,
}

/// A version of the watch as the tab's kind of version.
fn version_of(a: &Arrival) -> Version {
    Version {
        text: a.document.clone(),
        validator: a.validator.clone(),
    }
}

/// `a` and `b` are the same text but for carriage returns.
fn same_but_line_ends(a: &str, b: &str) -> bool {
    a == b || (a.contains('\r') || b.contains('\r')) && a.replace('\r', "") == b.replace('\r', "")
}

/// `merged` (printed in the server's layout) in the layout of `mine`, the user's text it was
/// merged into: the user's own formatting is part of the edit (a document on one line stays on
/// one line).
fn in_layout_of(mine: &str, merged: String) -> String {
    use ifmatch_engine::json::print::{compact, pretty_in, Style};
    if !mine.trim_end().contains('\n') {
        return compact(&merged);
    }
    let style = Style::of(mine);
    if style == Style::of(&merged) {
        merged
    } else {
        pretty_in(&merged, &style)
    }
}

/// Where `from` and `to` differ, as pointers (for the notice; compact, at most 5 named).
fn changed_words(from: &str, to: &str) -> (Vec<String>, String) {
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
    let changed = match (parse(from), parse(to)) {
        (Some(a), Some(b)) => ifmatch_engine::overwrite::changed(&a, &b),
        _ => vec![],
    };
    let shown: Vec<&str> = changed
        .iter()
        .take(5)
        .map(|p| if p.is_empty() { "/" } else { p.as_str() })
        .collect();
    let more = changed.len().saturating_sub(5);
    let mut words = shown.join(", ");
    if more > 0 {
        words.push_str(&format!(" and {more} more"));
    }
    (changed, words)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl AppState {
    /// Starts watching the tab's resource (shared with the other tabs that show it).
    pub async fn watch_tab(&self, tab_id: &str) {
        let Ok((conn, url)) = self.tab_place(tab_id).await else {
            return;
        };
        if let Ok(endpoint) = self.endpoint(&conn).await {
            self.watches
                .watch(tab_id, &conn, &url, endpoint.client.clone());
        }
    }

    /// A Save's last look: the tab's resource read now (see `Watches::settle`).
    pub async fn live_settle(&self, tab_id: &str) -> Result<bool, Problem> {
        let (conn, url) = self.tab_place(tab_id).await?;
        let endpoint = self.endpoint(&conn).await?;
        Ok(self.watches.settle(&conn, &url, &endpoint.client).await)
    }

    /// How the tab's resource is watched.
    pub async fn live_status(&self, tab_id: &str) -> Result<LiveStatusView, Problem> {
        let (conn, url) = self.tab_place(tab_id).await?;
        Ok(self.watches.status(&conn, &url))
    }

    /// What the newest version the watch saw does to the tab, whose editor holds `text` (None:
    /// the tab's text is its loaded version). `open_round`: collisions become the conflict
    /// round now (the user asked, or saved) instead of being marked.
    pub async fn live_update(
        &self,
        tab_id: &str,
        text: Option<String>,
        open_round: bool,
    ) -> Result<LiveUpdate, Problem> {
        let saving = self
            .cancels
            .lock()
            .map(|c| c.contains_key(tab_id))
            .unwrap_or(false);
        if saving {
            return Ok(LiveUpdate::Busy);
        }
        let (conn, url) = self.tab_place(tab_id).await?;
        let Some(arrival) = self.watches.latest(&conn, &url) else {
            return Ok(LiveUpdate::Current);
        };
        let mut newer = version_of(&arrival);
        // Is it newer than what the tab stands on? A version the tab stood on or met before is
        // ambiguous: a stream announcing it late (a save already merged it), or another writer
        // putting that content back (content-derived validators are then the same): a fresh
        // read settles which.
        let ambiguous = match self.stands_on(tab_id, &newer).await? {
            Standing::Same => return Ok(LiveUpdate::Current),
            Standing::Revalidated(validator) => return Ok(LiveUpdate::Revalidated { validator }),
            Standing::Newer => self
                .tabs
                .lock()
                .await
                .get(tab_id)
                .is_some_and(|t| t.seen.has(&arrival)),
        };
        if ambiguous {
            let endpoint = self.endpoint(&conn).await?;
            match endpoint.client.get_fresh(&url).await {
                ifmatch_engine::Outcome::Fetched { doc, .. } => {
                    newer = Version {
                        text: doc.text,
                        validator: doc.validator,
                    }
                }
                // Not settled now: the next arrival asks again.
                _ => return Ok(LiveUpdate::Current),
            }
            match self.stands_on(tab_id, &newer).await? {
                Standing::Same => return Ok(LiveUpdate::Current),
                Standing::Revalidated(validator) => {
                    return Ok(LiveUpdate::Revalidated { validator })
                }
                Standing::Newer => {}
            }
        }
        // A status object sent for the document is not applied as its newer version (a wiped
        // tab, every member's deletion merged into the edit): said, the tab left as it is. Asked
        // before the overwrite watch, which judges versions of the document.
        let unlike = {
            let tabs = self.tabs.lock().await;
            let t = tabs
                .get(tab_id)
                .ok_or_else(crate::workspace::tabs::closed)?;
            let known = t.round.as_ref().map_or(&t.base, |r| &r.current);
            ifmatch_engine::live::unlike(&known.text, &newer.text)
        };
        if let Some(what) = unlike {
            // The names quoted are the server's words: an echoed credential is not shown.
            let what = match self.endpoint(&conn).await {
                Ok(e) => e.client.auth().excerpt(&what, 400),
                Err(_) => "an answer".into(),
            };
            return Ok(LiveUpdate::Unlike {
                message: format!(
                    "The server sent {what} as this resource's newer version. That does not \
                     look like the document, so nothing of it was applied to this tab; Reload \
                     shows the server's answer as it is."
                ),
            });
        }
        // After a save, the first newer version is judged by the overwrite watch (did it keep
        // what was saved?) before anything else happens to the tab.
        let after_save = {
            let watching = self
                .tabs
                .lock()
                .await
                .get(tab_id)
                .is_some_and(|t| t.watch.is_some());
            if watching {
                self.check_stale(tab_id).await.ok()
            } else {
                None
            }
        };
        self.remember_live_version(&url, &newer);
        let mut tabs = self.tabs.lock().await;
        let t = tabs
            .get_mut(tab_id)
            .ok_or_else(crate::workspace::tabs::closed)?;
        // What `live_rewind` puts back is this update's, none before.
        t.rewind = None;
        t.rewind_round = None;
        let update = if t.round.is_some() {
            self.live_into_round(tab_id, t, text, newer)
        } else {
            match text {
                // Any difference is the user's (a reformatting too): merged into, never replaced.
                // (Line ends aside: the editor holds lines without carriage returns.)
                Some(mine) if !same_but_line_ends(&mine, &t.base.text) => {
                    self.live_into_edit(tab_id, t, mine, newer, open_round)
                }
                mine => {
                    let edits =
                        TextEdit::lines(mine.as_deref().unwrap_or(&t.base.text), &newer.text);
                    let (changed, words) = changed_words(&t.base.text, &newer.text);
                    t.seen.note(&t.base);
                    t.rewind = Some(std::mem::replace(&mut t.base, newer.clone()));
                    t.seen.note(&newer);
                    if let Some(d) = &self.drafts {
                        d.remove(tab_id);
                    }
                    LiveUpdate::Replaced {
                        message: format!(
                            "The server's newer version is shown ({} changed: {words}).",
                            plural(changed.len(), "place")
                        ),
                        text: newer.text,
                        validator: newer.validator.map(|v| v.display()),
                        edits,
                        changed,
                    }
                }
            }
        };
        Ok(match (update, after_save) {
            (u, Some(s)) if s.message.is_some() => LiveUpdate::AfterSave {
                check: s,
                then: Box::new(u),
            },
            (u, _) => u,
        })
    }

    /// A tab with unsaved edits and no round: the newer version merged into the edit.
    fn live_into_edit(
        &self,
        tab_id: &str,
        t: &mut Tab,
        mine: String,
        newer: Version,
        open_round: bool,
    ) -> LiveUpdate {
        let (changed, words) = changed_words(&t.base.text, &newer.text);
        match session::merge_with(&t.base, &mine, newer.clone(), &Options::default()) {
            SaveResult::Merged { round } => {
                let text = in_layout_of(&mine, round.start);
                let edits = TextEdit::lines(&mine, &text);
                t.seen.note(&t.base);
                t.rewind = Some(std::mem::replace(&mut t.base, newer.clone()));
                t.seen.note(&newer);
                let _ = self.write_draft(tab_id, t, &text);
                LiveUpdate::Merged {
                    message: format!(
                        "{} from the server merged into your edit: {words}. Your edits are \
                         kept; saving writes them over this newer version.",
                        plural(changed.len(), "change")
                    ),
                    text,
                    saved_text: newer.text,
                    validator: newer.validator.map(|v| v.display()),
                    edits,
                    changed,
                }
            }
            SaveResult::Conflicts { round } if open_round => {
                t.seen.note(&newer);
                let report = session::SaveReport {
                    result: SaveResult::Conflicts { round },
                    rounds: 0,
                    base: t.base.clone(),
                    mine: mine.clone(),
                    merged_from_theirs: 0,
                    notes: vec![],
                    acknowledged: 0,
                    under_lock: false,
                    resent: 0,
                };
                let mut view = SaveView::of(&report);
                if let SaveResult::Conflicts { round } = report.result {
                    // Taken back by `live_rewind` if the window cannot show it.
                    t.rewind_round = Some(t.set_round(Some(round)));
                }
                // The draft holds the round's Result (the server's changes that do not collide
                // are in it), as a save's round draft does.
                let start = t.round.as_ref().map(|r| r.start.clone());
                if let SaveView::Conflicts { round, .. } = &mut view {
                    round.message = format!(
                        "The server changed this resource while you edited it; nothing was \
                         sent. {}",
                        round.message
                    );
                }
                let edits = match &view {
                    SaveView::Conflicts { round, .. } => TextEdit::lines(&mine, &round.text),
                    _ => vec![],
                };
                let _ = self.write_draft(tab_id, t, start.as_deref().unwrap_or(&mine));
                LiveUpdate::Round {
                    view: Box::new(view),
                    edits,
                }
            }
            SaveResult::Conflicts { round } => {
                let conflicts: Vec<LiveCollision> = round
                    .conflicts
                    .iter()
                    .map(|c| LiveCollision {
                        pointer: c.pointer.clone(),
                        label: c.label.clone(),
                        lines: ifmatch_engine::edit::locate(&mine, &c.pointer),
                    })
                    .collect();
                let places: Vec<&str> = conflicts
                    .iter()
                    .take(5)
                    .map(|c| {
                        if c.pointer.is_empty() {
                            "/"
                        } else {
                            c.pointer.as_str()
                        }
                    })
                    .collect();
                LiveUpdate::Collides {
                    message: format!(
                        "The server changed {} you changed too ({}); nothing of it was applied \
                         to your text. Resolve them now, or Save to see them side by side \
                         (nothing is sent until they are decided).",
                        if conflicts.len() == 1 {
                            "a place".to_string()
                        } else {
                            format!("{} places", conflicts.len())
                        },
                        places.join(", ")
                    ),
                    conflicts,
                }
            }
            SaveResult::Invalid { message } => LiveUpdate::Waiting {
                message: format!(
                    "The server has a newer version; it will be merged into your edit once \
                     your text is valid JSON again. ({message})"
                ),
            },
            SaveResult::Failed { message, .. } => LiveUpdate::Waiting { message },
            SaveResult::Saved { .. } => LiveUpdate::Current,
        }
    }

    /// A tab in a round: the round merged again against the newer version, every decision and
    /// hand edit of the Result kept (or left as it is, said, when the newer version changes
    /// what the user decided or typed).
    fn live_into_round(
        &self,
        tab_id: &str,
        t: &mut Tab,
        text: Option<String>,
        newer: Version,
    ) -> LiveUpdate {
        let Some(round) = t.round.as_ref() else {
            return LiveUpdate::Current;
        };
        let result = text.unwrap_or_else(|| round.start.clone());
        match session::remerge(round, &result, newer.clone(), &Options::default()) {
            Remerged::Again {
                round,
                text,
                reopened,
            } => {
                let before = t.round.as_ref().map(|r| r.current.clone());
                if let Some(b) = &before {
                    t.seen.note(b);
                }
                t.seen.note(&newer);
                let (changed, words) =
                    changed_words(before.as_ref().map_or("", |b| &b.text), &newer.text);
                let report = session::SaveReport {
                    result: if round.has_conflicts() {
                        SaveResult::Conflicts {
                            round: (*round).clone(),
                        }
                    } else {
                        SaveResult::Merged {
                            round: (*round).clone(),
                        }
                    },
                    rounds: 0,
                    base: t.base.clone(),
                    mine: result.clone(),
                    merged_from_theirs: 0,
                    notes: vec![],
                    acknowledged: 0,
                    under_lock: false,
                    resent: 0,
                };
                let mut view = SaveView::of(&report);
                let said = format!(
                    "The server changed again ({} changed: {words}); the merge was made again \
                     with it, keeping every decision you made.{}",
                    plural(changed.len(), "place"),
                    if reopened.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " Decide again at {}: the server's value there changed.",
                            reopened.join(", ")
                        )
                    }
                );
                match &mut view {
                    SaveView::Conflicts {
                        round: rv,
                        statuses,
                        ..
                    } => {
                        rv.text = text.clone();
                        rv.message = format!("{said} {}", rv.message);
                        *statuses = round.statuses(&text).unwrap_or_default();
                    }
                    SaveView::Merged { round: rv, .. } => {
                        rv.text = text.clone();
                        rv.message = format!("{said} {}", rv.message);
                    }
                    _ => {}
                }
                t.rewind_round = Some(t.set_round(Some(*round)));
                let _ = self.write_draft(tab_id, t, &text);
                LiveUpdate::Round {
                    edits: TextEdit::lines(&result, &text),
                    view: Box::new(view),
                }
            }
            Remerged::Collides { message } => LiveUpdate::Waiting { message },
        }
    }

    /// Puts back the base the last live update moved forward: the window could not put that
    /// update into the text (the user changed it meanwhile in a way it could not follow), so
    /// the text still stands on the earlier version. The newer version is asked about again.
    pub async fn live_rewind(&self, tab_id: &str, text: &str) -> Result<(), Problem> {
        let mut tabs = self.tabs.lock().await;
        let t = tabs
            .get_mut(tab_id)
            .ok_or_else(crate::workspace::tabs::closed)?;
        let round = t.rewind_round.take();
        let moved = round.is_some() || t.rewind.is_some();
        if let Some(r) = round {
            t.set_round(r);
        }
        if let Some(b) = t.rewind.take() {
            t.base = b;
        }
        if moved {
            // The newer version is news again to this tab.
            t.seen = Seen::default();
            t.seen.note(&t.base);
            let _ = self.write_draft(tab_id, t, text);
        }
        Ok(())
    }

    /// Whether `v` is the version the tab stands on (its base, or its round's server version):
    /// the same validator, or the same document under a new validator (taken on silently: a
    /// dialect's version moves with server-owned fields).
    async fn stands_on(&self, tab_id: &str, v: &Version) -> Result<Standing, Problem> {
        let mut tabs = self.tabs.lock().await;
        let t = tabs
            .get_mut(tab_id)
            .ok_or_else(crate::workspace::tabs::closed)?;
        let current = t.round.as_mut().map_or(&mut t.base, |r| &mut r.current);
        if let (Some(a), Some(b)) = (&current.validator, &v.validator) {
            if a.display() == b.display() {
                return Ok(Standing::Same);
            }
        }
        if !ifmatch_engine::json::same_text(&current.text, &v.text) {
            return Ok(Standing::Newer);
        }
        if current.validator == v.validator {
            return Ok(Standing::Same);
        }
        current.validator = v.validator.clone();
        let validator = v.validator.as_ref().map(|x| x.display());
        t.seen.note(v);
        Ok(Standing::Revalidated(validator))
    }

    fn remember_live_version(&self, url: &str, v: &Version) {
        if let Some(h) = &self.history {
            let _ = h.record(
                url,
                "server",
                v.validator.as_ref().map(|x| x.display()),
                &v.text,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_into_the_edit_keeps_the_edits_layout() {
        let merged = "{\n  \"a\": 1,\n  \"b\": 2\n}\n".to_string();
        assert_eq!(
            in_layout_of("{\"a\":0,\"b\":2}", merged.clone()),
            "{\"a\":1,\"b\":2}"
        );
        let tabs = in_layout_of("{\n\t\"a\": 0,\n\t\"b\": 2\n}", merged.clone());
        assert_eq!(tabs, "{\n\t\"a\": 1,\n\t\"b\": 2\n}");
        assert_eq!(
            in_layout_of("{\n  \"a\": 0,\n  \"b\": 2\n}\n", merged.clone()),
            merged
        );
    }
}
