//! Tabs: open a resource, save it through the engine's save loop, resolve conflicts, preview the
//! exact request, keep drafts. The window holds the editor text; this holds each tab's base
//! version, validator and conflict round, and the engine decides every merge. No Tauri here: the
//! commands (`commands::tabs`) only translate.

use crate::state::{AppState, Overwritten, Tab, Watch};
use crate::view::{
    Accepted, JsonProblem, LaterChangeView, Problem, ProblemCode, RequestPreview, RestoredDrafts,
    RestoredTab, ReviewView, RoundView, SafetyView, SaveView, Sides, StaleCheck, TabView,
};
use ifmatch_engine::check::{self, Verdict};
use ifmatch_engine::dialect::Dialect;
use ifmatch_engine::edit;
use ifmatch_engine::merge::Options;
use ifmatch_engine::overwrite;
use ifmatch_engine::round::{self, Choice, ConflictStatus};
use ifmatch_engine::session::{self, SaveResult, Version};
use ifmatch_engine::trail::TrailEntry;
use ifmatch_engine::trust;
use ifmatch_engine::{Outcome, Received};
use ifmatch_store::drafts::Draft;
use ifmatch_store::history::HistoryEntry;
use ifmatch_store::servers::ServerProfile;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rounds a save may take before it stops and reports (each meets one concurrent change).
const MAX_ROUNDS: usize = 5;

pub(crate) fn closed() -> Problem {
    Problem::new(ProblemCode::Other, "This tab is closed.")
}

fn no_round() -> Problem {
    Problem::new(
        ProblemCode::Other,
        "There is no conflict round in this tab.",
    )
}

/// `target` (a path or a full URL) against the connection's base URL.
fn resolve_url(base: &str, target: &str) -> String {
    let t = target.trim();
    if t.starts_with("http://") || t.starts_with("https://") {
        t.to_string()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            t.trim_start_matches('/')
        )
    }
}

/// What the window shows of a tab that was just read.
fn tab_view(id: String, connection_id: String, url: String, doc: Received) -> TabView {
    TabView {
        id,
        connection_id,
        validator: doc.validator.as_ref().map(|v| v.display()),
        collection_items: edit::collection_items(&doc.text, &url),
        url,
        text: doc.text,
        warnings: doc.warnings,
    }
}

/// The version a read returned.
fn version_of(doc: &Received) -> Version {
    Version {
        text: doc.text.clone(),
        validator: doc.validator.clone(),
    }
}

impl AppState {
    /// An outcome that is not what the command wanted, as a problem; a 401 / 403 says whether
    /// the connection sent credentials at all.
    pub async fn outcome_problem(&self, connection_id: &str, outcome: &Outcome) -> Problem {
        let auth = self
            .connections
            .lock()
            .await
            .get(connection_id)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        Problem::new(
            ProblemCode::of_outcome(outcome),
            crate::state::refusal_words(outcome, &auth),
        )
    }

    /// The tab's connection and URL.
    pub(crate) async fn tab_place(&self, tab_id: &str) -> Result<(String, String), Problem> {
        let tabs = self.tabs.lock().await;
        let t = tabs.get(tab_id).ok_or_else(closed)?;
        Ok((t.connection_id.clone(), t.url.clone()))
    }

    /// Reads `target` on a connection into a new tab.
    pub async fn open_tab(&self, connection_id: String, target: &str) -> Result<TabView, Problem> {
        if target.trim().is_empty() {
            return Err(Problem::new(
                ProblemCode::Other,
                "Type a path such as /settings, or a full URL.",
            ));
        }
        let endpoint = self.endpoint(&connection_id).await?;
        let url = resolve_url(&endpoint.base_url, target);
        match endpoint.client.get_fresh(&url).await {
            Outcome::Fetched { doc, .. } => {
                let id = self.new_id("t");
                self.remember_version(&url, "loaded", &version_of(&doc));
                let tab = Tab::new(connection_id.clone(), url.clone(), version_of(&doc), None);
                self.tabs.lock().await.insert(id.clone(), tab);
                self.watch_tab(&id).await;
                Ok(tab_view(id, connection_id, url, doc))
            }
            other => Err(self.outcome_problem(&connection_id, &other).await),
        }
    }

    /// Loads the server's version again (the window asks first when there are unsaved edits).
    pub async fn reload_tab(&self, tab_id: String) -> Result<TabView, Problem> {
        let (conn, url) = self.tab_place(&tab_id).await?;
        let endpoint = self.endpoint(&conn).await?;
        match endpoint.client.get_fresh(&url).await {
            Outcome::Fetched { doc, .. } => {
                self.remember_version(&url, "loaded", &version_of(&doc));
                if let Some(t) = self.tabs.lock().await.get_mut(&tab_id) {
                    t.seen.note(&t.base);
                    t.base = version_of(&doc);
                    t.set_round(None);
                    t.before_save = None;
                }
                // The user chose to discard the edit: its draft goes too.
                if let Some(d) = &self.drafts {
                    d.remove(&tab_id);
                }
                Ok(tab_view(tab_id, conn, url, doc))
            }
            other => Err(self.outcome_problem(&conn, &other).await),
        }
    }

    /// Asks the server, cheaply, whether the tab's version is still current (If-None-Match: a
    /// 304 when nothing changed). The tab's text is never touched.
    pub async fn check_stale(&self, tab_id: &str) -> Result<StaleCheck, Problem> {
        let (conn, url, base) = self.write_target(tab_id, false).await?;
        let endpoint = self.endpoint(&conn).await?;
        // Whether a later write that succeeded must have carried a validator at least as new
        // as the save's: the check found this server refusing stale writes of the tab's kind.
        let refuses_stale = self
            .profile(&url)
            .is_some_and(|p| p.trusted_for(endpoint.method.into()));
        match endpoint.client.get(&url).await {
            Outcome::Fetched { doc, .. } => {
                let stale = match (&doc.validator, &base.validator) {
                    (Some(now), Some(then)) => now != then,
                    _ => !ifmatch_engine::json::same_text(&doc.text, &base.text),
                };
                // The overwrite watch: the first newer version after a save must still hold
                // what was saved, or have changed it by a write that saw it.
                let mut overwritten = vec![];
                let mut later = vec![];
                let mut changed_after = false;
                if stale {
                    let mut tabs = self.tabs.lock().await;
                    if let Some(t) = tabs.get_mut(tab_id) {
                        if let Some(w) = t.watch.take() {
                            match overwrite::judge(
                                &w.before.text,
                                &w.saved,
                                &doc.text,
                                refuses_stale,
                                &Options::default(),
                            ) {
                                overwrite::Later::Held => {}
                                overwrite::Later::ChangedAfter(c) => {
                                    self.remember_version(&url, "server", &version_of(&doc));
                                    changed_after = true;
                                    later = c.into_iter().map(Into::into).collect();
                                }
                                overwrite::Later::WroteOver(c) => {
                                    self.remember_version(&url, "server", &version_of(&doc));
                                    overwritten = c.iter().map(|x| x.pointer.clone()).collect();
                                    later = c.into_iter().map(Into::into).collect();
                                    t.overwritten = Some(Overwritten {
                                        watch: w,
                                        current: version_of(&doc),
                                    });
                                }
                            }
                        }
                    }
                }
                let message =
                    (!later.is_empty()).then(|| watch_words(&later, changed_after, refuses_stale));
                Ok(StaleCheck {
                    stale,
                    validator: doc.validator.as_ref().map(|v| v.display()),
                    overwritten,
                    later,
                    changed_after,
                    message,
                })
            }
            other => Err(self.outcome_problem(&conn, &other).await),
        }
    }

    /// Reapplies the saved change a later version wrote over: merges it (base: the version that
    /// save started from; mine: what it wrote; theirs: the server's version, read now — the one
    /// the watch saw may have been replaced since) into a round the window shows like any other
    /// — clean, for review and Resubmit, or with its conflicts.
    pub async fn reapply_saved(&self, tab_id: &str) -> Result<SaveView, Problem> {
        let (conn, url) = self.tab_place(tab_id).await?;
        let endpoint = self.endpoint(&conn).await?;
        let current = match endpoint.client.get_fresh(&url).await {
            Outcome::Fetched { doc, .. } => version_of(&doc),
            other => return Err(self.outcome_problem(&conn, &other).await),
        };
        self.remember_version(&url, "server", &current);
        let mut tabs = self.tabs.lock().await;
        let t = tabs.get_mut(tab_id).ok_or_else(closed)?;
        let mut o = t.overwritten.take().ok_or_else(|| {
            Problem::other("There is no overwritten change to reapply on this tab.".to_string())
        })?;
        o.current = current;
        let result = session::merge_with(
            &o.watch.before,
            &o.watch.saved,
            o.current.clone(),
            &Options::default(),
        );
        let report = session::SaveReport {
            result,
            rounds: 0,
            base: o.watch.before.clone(),
            mine: o.watch.saved.clone(),
            merged_from_theirs: 0,
            notes: vec![],
            // The change being reapplied was written (and then written over).
            acknowledged: 1,
            under_lock: false,
            resent: 0,
        };
        let view = SaveView::of(&report);
        match report.result {
            SaveResult::Merged { round } | SaveResult::Conflicts { round } => {
                t.set_round(Some(round));
                // The newer version is what the tab now stands on.
                t.base = o.current;
            }
            _ => t.overwritten = Some(o),
        }
        Ok(view)
    }

    /// Keeps a version in the local history (a failure only loses that entry).
    fn remember_version(&self, url: &str, kind: &str, v: &Version) {
        if let Some(h) = &self.history {
            let _ = h.record(
                url,
                kind,
                v.validator.as_ref().map(|x| x.display()),
                &v.text,
            );
        }
    }

    /// The tab's resource's history, newest first.
    pub async fn history_list(&self, tab_id: &str) -> Result<Vec<HistoryEntry>, Problem> {
        let (_, url) = self.tab_place(tab_id).await?;
        Ok(self
            .history
            .as_ref()
            .map(|h| h.list(&url))
            .unwrap_or_default())
    }

    /// One version from the tab's history.
    pub async fn history_text(&self, tab_id: &str, file: &str) -> Result<String, Problem> {
        let (_, url) = self.tab_place(tab_id).await?;
        let h = self
            .history
            .as_ref()
            .ok_or_else(|| Problem::other("There is no data folder, so no history.".to_string()))?;
        h.text(&url, file)
            .map_err(|e| Problem::other(format!("That version could not be read: {e}.")))
    }

    /// A version from the history → `text` (what restoring it would change in the editor).
    pub async fn history_compare(
        &self,
        tab_id: &str,
        file: &str,
        text: &str,
    ) -> Result<ReviewView, Problem> {
        let old = self.history_text(tab_id, file).await?;
        Ok(ReviewView::between(
            "that version, compared with the editor's text".into(),
            &old,
            text,
        ))
    }

    /// Stops the tab's save in progress (see `save_tab`).
    pub fn cancel_save(&self, tab_id: &str) -> bool {
        match self
            .cancels
            .lock()
            .ok()
            .and_then(|c| c.get(tab_id).cloned())
        {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    /// The stored server profile for `url`'s folder.
    fn profile(&self, url: &str) -> Option<ServerProfile> {
        self.profiles.lock().ok()?.lookup(url).cloned()
    }

    /// Stores what a check found (a file that cannot be written only loses the memory of it).
    fn remember_profile(&self, url: &str, report: &check::Report) -> ServerProfile {
        let profile = ServerProfile::from_report(report);
        if let Ok(mut p) = self.profiles.lock() {
            let _ = p.remember(url, profile.clone());
        }
        profile
    }

    /// Runs the server check on the tab's resource now and remembers its verdict.
    pub async fn check_server(&self, tab_id: &str) -> Result<SafetyView, Problem> {
        let (conn, url) = {
            let tabs = self.tabs.lock().await;
            let t = tabs.get(tab_id).ok_or_else(closed)?;
            (t.connection_id.clone(), t.url.clone())
        };
        let endpoint = self.endpoint(&conn).await?;
        if !endpoint.client.dialect().probed_by_check() {
            return Ok(dialect_view(endpoint.client.dialect(), true));
        }
        let report = check::check(&endpoint.client, &url).await;
        let profile = self.remember_profile(&url, &report);
        // A check that reached no verdict leaves the stored one: the badge shows what is known.
        let profile = self.profile(&url).unwrap_or(profile);
        Ok(SafetyView {
            proposed_dialect: report.proposed_dialect.clone(),
            ..safety_view(Some(&profile), Some(report.text()))
        })
    }

    /// What is known about the tab's server.
    pub async fn server_safety(&self, tab_id: &str) -> Result<SafetyView, Problem> {
        let (conn, url) = {
            let tabs = self.tabs.lock().await;
            let t = tabs.get(tab_id).ok_or_else(closed)?;
            (t.connection_id.clone(), t.url.clone())
        };
        let dialect = self
            .connections
            .lock()
            .await
            .get(&conn)
            .and_then(|c| Dialect::preset(&c.view.dialect));
        match dialect {
            Some(d) if !d.probed_by_check() => Ok(dialect_view(&d, false)),
            _ => Ok(safety_view(self.profile(&url).as_ref(), None)),
        }
    }

    /// Forgets the tab and its draft.
    pub async fn close_tab(&self, tab_id: &str) {
        self.tabs.lock().await.remove(tab_id);
        self.watches.unwatch(tab_id);
        if let Some(d) = &self.drafts {
            d.remove(tab_id);
        }
    }

    /// The tab's connection, URL, and the version a write starts from: the loaded one, or for a
    /// resubmit the server version of the round in progress.
    async fn write_target(
        &self,
        tab_id: &str,
        resubmit: bool,
    ) -> Result<(String, String, Version), Problem> {
        let tabs = self.tabs.lock().await;
        let t = tabs.get(tab_id).ok_or_else(closed)?;
        let base = match (&t.round, resubmit) {
            (Some(r), true) => r.current.clone(),
            _ => t.base.clone(),
        };
        Ok((t.connection_id.clone(), t.url.clone(), base))
    }

    /// Saves the tab's text through the engine's save loop: against the loaded version, or
    /// (`resubmit`) against the server version of the conflict round in progress.
    pub async fn save_tab(
        &self,
        tab_id: &str,
        text: String,
        resubmit: bool,
    ) -> Result<SaveView, Problem> {
        let (conn, url, base) = self.write_target(tab_id, resubmit).await?;
        // The text being saved is on disk before anything is sent (a crash during the save
        // loses nothing), and the window drops its own pending draft write, which could land
        // after the save and keep a copy of text saved by then.
        {
            let tabs = self.tabs.lock().await;
            if let Some(t) = tabs.get(tab_id) {
                // A disk that cannot take it does not stop the save: saving to the server is
                // what keeps the text then.
                let _ = self.write_draft(tab_id, t, &text);
            }
        }
        // Cancel (the window offers it when a save takes long) stops the loop where it is; what
        // that means depends on whether a write had gone out. A Cancel during the server check
        // (which only touches its scratch resource) takes effect before the save writes.
        let cancel = session::Cancel::new();
        if let Ok(mut c) = self.cancels.lock() {
            c.insert(tab_id.to_string(), cancel.clone());
        }
        let endpoint = match self.endpoint(&conn).await {
            Ok(e) => e,
            Err(p) => {
                if let Ok(mut c) = self.cancels.lock() {
                    c.remove(tab_id);
                }
                return Err(p);
            }
        };
        // Before the first write to a server not checked yet: does it refuse stale writes?
        // A dialect connection's writes carry the version the API's way; the check's If-Match
        // probes do not apply to it, and its writes are compared before and after (untrusted).
        // A check that reached no verdict (the server was down, …) is no verdict: it is tried
        // again before a later save (at most every RECHECK_SECS), so a server that does refuse
        // stale writes does not keep a "could not be checked" badge and a warning on every save.
        let stored = self.profile(&url);
        let (profile, checked_now) = if !endpoint.client.dialect().probed_by_check() {
            (None, None)
        } else if needs_check(stored.as_ref(), endpoint.check_server, now_secs()) {
            let report = check::check(&endpoint.client, &url).await;
            let profile = self.remember_profile(&url, &report);
            // Still no verdict: what was known before stands (the badge shows it).
            let profile = match stored {
                Some(s) if !profile.conclusive() => s,
                _ => profile,
            };
            (Some(profile), Some(report.verdict))
        } else {
            (stored, None)
        };
        // What this write may do on this server, decided where the CLI decides it: the policy
        // (a server not known to refuse stale writes of this kind: compare before, read back
        // after), the server's own lock (each round reads, compares and writes under it; a
        // cancelled save's lock expires by itself in seconds), the statuses that mean "stale".
        // Automatic resubmission of clean merges is a per-connection choice (off by default).
        let facts = profile.as_ref().map(|p| p.facts());
        let decision = trust::decide(
            facts.as_ref(),
            endpoint.client.dialect(),
            trust::Ask {
                auto_resubmit: endpoint.auto_resubmit,
                max_rounds: MAX_ROUNDS,
                ..trust::Ask::write(endpoint.method.into())
            },
        );
        endpoint.client.use_server_lock(decision.take_lock);
        // Kept to tell whether the round's mine is what the window sent (it then needs no copy).
        let sent = text.clone();
        let watched = Watched {
            inner: &endpoint.client,
            conflict_statuses: decision.conflict_statuses.clone(),
            in_flight: AtomicBool::new(false),
        };
        let opts = Options::default();
        // The save loop stops at its next step when cancelled; a write already on its way is not
        // waited for longer than a moment (a slow server would hold the Cancel up to the time
        // limit): the save is then left, and the window says the write may have landed.
        let outcome = tokio::select! {
            r = session::save_until(
                &watched,
                &url,
                base,
                text,
                endpoint.method,
                &opts,
                decision.policy,
                &cancel,
            ) => Some(r),
            _ = async {
                cancel.cancelled().await;
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            } => None,
        };
        if let Ok(mut c) = self.cancels.lock() {
            c.remove(tab_id);
        }
        let report = match outcome {
            Some(Ok(report)) => report,
            None => {
                return Ok(if watched.in_flight.load(Ordering::SeqCst) {
                    SaveView::Failed {
                        message: "Cancelled while a write was on its way to the server: it may \
                                  have landed. Reload to see what the server holds before saving \
                                  again; your text is kept."
                            .into(),
                        code: ProblemCode::MayHaveLanded,
                    }
                } else {
                    SaveView::Failed {
                        message: "Cancelled before anything was written: the server is \
                                  unchanged and your text is kept."
                            .into(),
                        code: ProblemCode::Other,
                    }
                });
            }
            // Stopped between steps: every write sent had its answer.
            Some(Err(stopped)) => {
                return Ok(SaveView::Failed {
                    message: if stopped.writes_sent == 0 {
                        "Cancelled before anything was written: the server is unchanged and your \
                         text is kept."
                            .into()
                    } else if stopped.acknowledged > 0 {
                        "Cancelled. A write of this save was acknowledged by the server before \
                         the cancel and then met another writer's change, so your change was \
                         written and may since have been replaced: reload to see what the server \
                         holds before saving again; your text is kept."
                            .into()
                    } else {
                        "Cancelled after a write the server did not acknowledge: reload to see \
                         what the server holds before saving again; your text is kept."
                            .into()
                    },
                    code: ProblemCode::MayHaveLanded,
                });
            }
        };
        let mut view = SaveView::of(&report);
        if let SaveView::Saved { message, .. } = &mut view {
            if let Some(v) = checked_now {
                message.push_str(&format!(
                    " (Before this first write, ifmatch checked the server: {}.)",
                    v.words()
                ));
            }
            if !endpoint.client.dialect().versioned {
                message.push_str(
                    " This API keeps no version (the connection's Version is “none”): ifmatch \
                     compared the resource just before writing and read it back after, but a \
                     change another writer made in that same moment could still have been \
                     overwritten.",
                );
            } else {
                // Said as strongly as the check found it for this save's method, no more.
                match decision.risk() {
                    Some(trust::Risk::Unprotected { .. }) => message.push_str(
                        " This server does not refuse stale writes of this kind by itself: \
                         ifmatch compared its version just before writing and read it back \
                         after, but a change another writer made in that same moment could still \
                         have been overwritten.",
                    ),
                    Some(trust::Risk::ValidatorsMissChanges | trust::Risk::Undetermined { .. }) => {
                        message.push_str(
                            " This server is not known to refuse stale writes of this kind by \
                             itself (the check could not tell, or its ETag does not follow the \
                             content): ifmatch compared its version just before writing and read \
                             it back after, but a change another writer made in that same moment \
                             could still have been overwritten.",
                        )
                    }
                    _ => {}
                }
            }
        }
        if let (
            SaveResult::Failed {
                outcome: o @ (Outcome::Unauthorized { .. } | Outcome::Forbidden),
                ..
            },
            SaveView::Failed { message, .. },
        ) = (&report.result, &mut view)
        {
            *message = format!(
                "{} Your text is kept.",
                self.outcome_problem(&conn, o).await.message
            );
        }
        match &report.result {
            SaveResult::Saved { base, .. } => self.remember_version(&url, "saved", base),
            SaveResult::Merged { round } | SaveResult::Conflicts { round } => {
                self.remember_version(&url, "server", &round.current)
            }
            _ => {}
        }
        let mut tabs = self.tabs.lock().await;
        if let Some(t) = tabs.get_mut(tab_id) {
            match report.result {
                SaveResult::Saved { base, .. } => {
                    // Every version this save met or wrote is not news to the tab's watch.
                    t.seen.note(&t.base);
                    t.seen.note(&report.base);
                    t.seen.note(&base);
                    self.watches.written(&conn, &url, &base);
                    t.watch = Some(Watch {
                        before: report.base.clone(),
                        saved: base.text.clone(),
                    });
                    t.overwritten = None;
                    t.base = base;
                    t.set_round(None);
                    t.before_save = None;
                    if let Some(d) = &self.drafts {
                        d.remove(tab_id);
                    }
                }
                SaveResult::Merged { round } | SaveResult::Conflicts { round } => {
                    t.seen.note(&round.current);
                    t.before_save = t.set_round(Some(round));
                    // The window already holds two of the round's texts in the common case: do
                    // not send them back (10 MB each at size).
                    let loaded = t.base.text.clone();
                    if let SaveView::Merged { round, .. } | SaveView::Conflicts { round, .. } =
                        &mut view
                    {
                        round.omit_known(&sent, &loaded);
                    }
                }
                _ => {}
            }
        }
        Ok(view)
    }

    /// Writes the tab's draft now: its text and, during a round, the round with every Accept
    /// made. A tab whose text equals its base and has no round in progress has nothing to keep.
    pub(crate) fn write_draft(&self, tab_id: &str, t: &Tab, text: &str) -> Result<(), Problem> {
        if text == t.base.text && t.round.is_none() {
            if let Some(store) = &self.drafts {
                store.remove(tab_id);
            }
            return Ok(());
        }
        self.put_draft(tab_id, t, &t.base, t.round.as_ref(), text)
    }

    /// Writes the draft of `t`: `text` standing on `base`, with `round` in progress.
    fn put_draft(
        &self,
        tab_id: &str,
        t: &Tab,
        base: &Version,
        round: Option<&round::Round>,
        text: &str,
    ) -> Result<(), Problem> {
        let Some(store) = &self.drafts else {
            return Ok(());
        };
        let draft = Draft {
            tab_id: tab_id.to_string(),
            connection_id: t.connection_id.clone(),
            url: t.url.clone(),
            base: base.clone(),
            text: text.to_string(),
            round: round.cloned(),
            updated_at: ifmatch_engine::trail::rfc3339_now(),
        };
        store.put(&draft).map_err(|e| {
            Problem::new(
                ProblemCode::DraftNotSaved,
                format!(
                    "Your edits could not be written to disk ({e}). They are still in the \
                     window: save to the server, or free some disk space."
                ),
            )
        })
    }

    /// Applies one side's value for conflict `index` to the Result, remembers the decision and
    /// writes the draft (so an Accept the window shows is never lost to a crash).
    pub async fn resolve_conflict(
        &self,
        tab_id: &str,
        result_text: &str,
        index: usize,
        choice: Choice,
    ) -> Result<Accepted, Problem> {
        let mut tabs = self.tabs.lock().await;
        let t = tabs.get_mut(tab_id).ok_or_else(closed)?;
        let r = t.round.as_mut().ok_or_else(no_round)?;
        let text = r
            .accept(result_text, index, choice)
            .map_err(|e| Problem::new(ProblemCode::Other, format!("Not applied: {e}.")))?;
        let statuses = r
            .statuses(&text)
            .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))?;
        self.write_draft(tab_id, t, &text)?;
        // The answer's line diff needs no lock.
        drop(tabs);
        Ok(Accepted::new(result_text, text, statuses))
    }

    /// Resolves every conflict still unresolved in `result_text` to `choice`, in order, as
    /// that many single Accepts would (each sees the Result the one before left), but in one
    /// call: one draft written, one answer. A 10 MB Result crosses the bridge twice, not twice
    /// per conflict.
    pub async fn resolve_all(
        &self,
        tab_id: &str,
        result_text: &str,
        choice: Choice,
    ) -> Result<Accepted, Problem> {
        let mut tabs = self.tabs.lock().await;
        let t = tabs.get_mut(tab_id).ok_or_else(closed)?;
        let r = t.round.as_mut().ok_or_else(no_round)?;
        let invalid = |e: ifmatch_engine::json::JsonError| {
            Problem::new(ProblemCode::InvalidJson, e.to_string())
        };
        // Applied to a copy of the round: a failure half-way changes nothing.
        let mut trial = r.clone();
        let text = trial.accept_all(result_text, choice).map_err(|e| match e {
            round::AcceptError::Invalid(m) => Problem::new(ProblemCode::InvalidJson, m),
            e => Problem::new(ProblemCode::Other, format!("Not applied: {e}.")),
        })?;
        r.decisions = trial.decisions;
        let statuses = r.statuses(&text).map_err(invalid)?;
        self.write_draft(tab_id, t, &text)?;
        // The answer's line diff needs no lock.
        drop(tabs);
        Ok(Accepted::new(result_text, text, statuses))
    }

    /// Where every conflict of the tab's round stands in `text` (the Result as the user has
    /// it): decided or not, its lines, whether its value is neither side's. An `invalid_json`
    /// problem while the Result does not parse.
    pub async fn conflict_status(
        &self,
        tab_id: &str,
        text: &str,
    ) -> Result<Vec<ConflictStatus>, Problem> {
        let tabs = self.tabs.lock().await;
        let r = tabs
            .get(tab_id)
            .and_then(|t| t.round.as_ref())
            .ok_or_else(no_round)?;
        r.statuses(text)
            .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))
    }

    /// The exact request a save would send now (secrets masked): the save loop's own plan.
    pub async fn preview_request(
        &self,
        tab_id: &str,
        text: &str,
        resubmit: bool,
    ) -> Result<RequestPreview, Problem> {
        let (conn, url, base) = self.write_target(tab_id, resubmit).await?;
        let endpoint = self.endpoint(&conn).await?;
        let plan = session::plan_write(endpoint.method, &base, text)
            .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))?;
        let r = endpoint
            .client
            .request_for(&plan, &url)
            .map_err(|e| Problem::other(format!("This write cannot be made: {e}.")))?;
        Ok(RequestPreview {
            method: r.method,
            headers: r.headers,
            url: r.url,
            body: r.body,
        })
    }

    /// What this write would change on the server: the version it is conditional on (the
    /// server's current one for a resubmit, the loaded one for a save) → `text`.
    pub async fn review_write(
        &self,
        tab_id: &str,
        text: &str,
        resubmit: bool,
    ) -> Result<ReviewView, Problem> {
        let (_, _, target) = self.write_target(tab_id, resubmit).await?;
        let tag = target
            .validator
            .as_ref()
            .map(|v| format!(" ({})", v.display()))
            .unwrap_or_default();
        if !resubmit {
            let against = format!("the version you loaded{tag}");
            return Ok(ReviewView::of_save(against, &target.text, text));
        }
        // The round's texts tell each line's side: the version the edit started from, and the
        // user's text as it met the server's change (kept for a round with conflicts).
        let tabs = self.tabs.lock().await;
        let t = tabs.get(tab_id).ok_or_else(closed)?;
        let round = t.round.as_ref();
        let base = round
            .and_then(|r| r.base.as_deref())
            .unwrap_or(&t.base.text);
        let mine = round.and_then(|r| r.mine.as_deref());
        let against = format!("the server's current version{tag}, which someone else changed");
        Ok(ReviewView::of_resubmit(
            against,
            &target.text,
            text,
            Sides { base, mine },
        ))
    }

    /// The window does not show round `key`, the one a save ended in (the user typed while it
    /// was on its way): the round before that save is put back (none for a first save), as the
    /// window still shows it, so the typed text's drafts pair with it and the next save merges
    /// again. A round made since (a newer version arrived) is left as it is.
    pub async fn forget_round(&self, tab_id: &str, key: &str) {
        if let Some(t) = self.tabs.lock().await.get_mut(tab_id) {
            if t.round_key().as_deref() == Some(key) {
                let before = t.before_save.take();
                t.set_round(before);
            }
        }
    }

    /// Persists the tab's draft (the round and its decisions come from this state). `round`:
    /// the key of the round the window shows with this text (`view::round_key`), None when it
    /// shows none; `on`: the validator of the version the window's text stands on.
    ///
    /// The window and this side differ for a moment when a newer version moved the tab while
    /// the write was on its way:
    /// - The window shows a round this side no longer holds (made again, or put back): its
    ///   Result is not an edit of any one version (an undecided conflict holds the base value,
    ///   which as an edit would take back the server's change), so it is not kept as one. The
    ///   draft on disk stands (`DraftWaits`), and the window writes again once it shows the
    ///   round this side holds.
    /// - The window shows no round: its text is an edit of the version it stands on. A live
    ///   update may have moved the base, or opened a round, meanwhile: the text is kept over the
    ///   version `on` names (the base the update moved on from), without a round, never paired
    ///   with a version whose changes it lacks.
    pub async fn save_draft(
        &self,
        tab_id: &str,
        text: &str,
        round: Option<&str>,
        on: Option<&str>,
    ) -> Result<(), Problem> {
        let mut tabs = self.tabs.lock().await;
        let Some(t) = tabs.get_mut(tab_id) else {
            return Ok(());
        };
        let here = t.round_key();
        if round.is_some() {
            if here.as_deref() == round {
                // The window shows the round: the one before the save is not put back any more.
                t.before_save = None;
                return self.write_draft(tab_id, t, text);
            }
            return Err(Problem::new(
                ProblemCode::DraftWaits,
                "The server's newer version changed this tab's merge while your last edit was \
                 being written to disk; it is written again in a moment."
                    .to_string(),
            ));
        }
        let names = |v: &Version| {
            on.is_some() && v.validator.as_ref().map(|x| x.display()).as_deref() == on
        };
        let before = t.rewind.as_ref().filter(|v| !names(&t.base) && names(v));
        match before {
            Some(v) => self.put_draft(tab_id, t, v, None, text),
            None if here.is_none() => self.write_draft(tab_id, t, text),
            None => self.put_draft(tab_id, t, &t.base, None, text),
        }
    }

    /// Persists the draft of a round the window has just shown and not changed since: its text
    /// is the round's Result as this side made it, so the window need not send it back (it is
    /// the document's size). Without a round in progress there is nothing of this kind to keep.
    /// `key`: the round the window showed (a round made again since wrote its own draft).
    pub async fn save_round_draft(&self, tab_id: &str, key: &str) -> Result<(), Problem> {
        let mut tabs = self.tabs.lock().await;
        let Some(t) = tabs.get_mut(tab_id) else {
            return Ok(());
        };
        if t.round_key().as_deref() != Some(key) {
            return Ok(());
        }
        // The window shows the round: the one before the save is not put back any more.
        t.before_save = None;
        match &t.round {
            // An Accept since then wrote its own draft, with its text.
            Some(r) if r.decisions.iter().all(Option::is_none) => {
                self.write_draft(tab_id, t, &r.start)
            }
            _ => Ok(()),
        }
    }

    /// Brings back every tab that had a draft (after a crash, a kill, or closing with unsaved
    /// work); drafts of connections that are gone stay on disk.
    pub async fn restore_drafts(&self) -> RestoredDrafts {
        let Some(store) = &self.drafts else {
            return RestoredDrafts {
                tabs: vec![],
                unreadable: vec![],
            };
        };
        let mut out = vec![];
        let (drafts, set_aside) = store.load_all_telling();
        let known: Vec<String> = self.connections.lock().await.keys().cloned().collect();
        for mut d in drafts {
            if !known.contains(&d.connection_id) {
                continue;
            }
            // The built-in demo runs on a new port each start: a draft made on it points at the
            // demo running now (its path kept), not at the port of the run that wrote it.
            if d.connection_id == crate::state::DEMO_ID {
                if let Ok(now) = self.demo_url().await {
                    d.url = rebase(&d.url, &now);
                }
            }
            if let Some(r) = &mut d.round {
                r.decisions.resize(r.conflicts.len(), None);
            }
            let statuses = d
                .round
                .as_ref()
                .and_then(|r| r.statuses(&d.text).ok())
                .unwrap_or_default();
            self.tabs.lock().await.insert(
                d.tab_id.clone(),
                Tab::new(
                    d.connection_id.clone(),
                    d.url.clone(),
                    d.base.clone(),
                    d.round.clone(),
                ),
            );
            self.watch_tab(&d.tab_id).await;
            out.push(RestoredTab {
                tab: TabView {
                    id: d.tab_id.clone(),
                    connection_id: d.connection_id.clone(),
                    url: d.url.clone(),
                    collection_items: vec![],
                    validator: d.base.validator.as_ref().map(|v| v.display()),
                    warnings: vec![format!(
                        "Restored from the draft saved at {} (your edits were kept).",
                        d.updated_at
                    )],
                    text: d.text.clone(),
                },
                saved_text: d.base.text.clone(),
                round: d.round.as_ref().map(RoundView::of),
                statuses,
            });
        }
        RestoredDrafts {
            tabs: out,
            unreadable: set_aside.iter().map(|p| p.display().to_string()).collect(),
        }
    }

    /// The request trail of a tab's resource (redacted: no credentials).
    pub async fn tab_trail(&self, tab_id: &str) -> Result<Vec<TrailEntry>, Problem> {
        let (conn, url) = self.tab_place(tab_id).await?;
        let client = self
            .connections
            .lock()
            .await
            .get(&conn)
            .map(|c| c.client.clone());
        let Some(client) = client else {
            return Ok(vec![]);
        };
        let parsed: ifmatch_engine::Url = url
            .parse()
            .map_err(|_| Problem::new(ProblemCode::Other, "The tab's URL is not valid."))?;
        let want = ifmatch_engine::trail::redact_url(&parsed);
        Ok(client
            .trail()
            .entries()
            .into_iter()
            .filter(|e| e.url == want)
            .collect())
    }

    /// Writes the tab's trail as JSON for a support ticket; returns the file's path.
    pub async fn export_trail(&self, tab_id: &str) -> Result<String, Problem> {
        let entries = self.tab_trail(tab_id).await?;
        let url = {
            let tabs = self.tabs.lock().await;
            tabs.get(tab_id).ok_or_else(closed)?.url.clone()
        };
        // The server's safety profile goes with its requests (a support ticket needs both).
        let export = serde_json::json!({
            "server_profile": self.profile(&url),
            "requests": entries,
        });
        let dir = self
            .data_dir
            .as_ref()
            .map(|d| d.join("trails"))
            .ok_or_else(|| {
                Problem::new(ProblemCode::Other, "There is no data folder to write to.")
            })?;
        let name = format!(
            "ifmatch-trail-{}.json",
            ifmatch_engine::trail::rfc3339_now().replace([':', '.'], "-")
        );
        let path = dir.join(name);
        let json = serde_json::to_string_pretty(&export).expect("trail entries serialise");
        ifmatch_store::files::write_atomic(&path, json.as_bytes()).map_err(|e| {
            Problem::new(
                ProblemCode::Other,
                format!("The trail could not be written: {e}"),
            )
        })?;
        Ok(path.display().to_string())
    }
}

/// The editor's lint: Rust's parser decides (duplicate keys included), never JavaScript's.
pub fn check_json(text: &str) -> Option<JsonProblem> {
    edit::check(text).err().map(|e| JsonProblem {
        message: e.message,
        line: e.line,
        column: e.column,
    })
}

/// The connection as the save loop sees it, noting whether a write has gone out (so a Cancel
/// can say "nothing was written" only when that is true).
struct Watched<'a> {
    inner: &'a ifmatch_engine::Client,
    /// The statuses that mean "stale write" on this server (`trust::Decision`): 412, and the
    /// status the server check saw it refuse a stale write with where that differs
    /// (CouchDB-style 409); such an answer to a write is a conflict here, merged like a 412.
    conflict_statuses: Vec<u16>,
    /// A write is on its way (sent, its answer not in yet).
    in_flight: AtomicBool,
}

impl Watched<'_> {
    /// A write's answer with the server's own stale-write status is a conflict.
    fn stale_is_conflict(&self, o: Outcome) -> Outcome {
        match o {
            Outcome::HttpError { status, .. } if self.conflict_statuses.contains(&status) => {
                Outcome::Conflict {
                    status,
                    hint: Some(format!(
                        "(This server answers a stale write with {status}, as the server check \
                         found.)"
                    )),
                }
            }
            o => o,
        }
    }
}

impl session::Conditional for Watched<'_> {
    fn get_fresh(&self, url: &str) -> impl std::future::Future<Output = Outcome> + Send {
        self.inner.get_fresh(url)
    }
    async fn put(&self, url: &str, body: &str, pre: ifmatch_engine::Precondition) -> Outcome {
        self.in_flight.store(true, Ordering::SeqCst);
        let o = self.inner.put(url, body, pre).await;
        self.in_flight.store(false, Ordering::SeqCst);
        self.stale_is_conflict(o)
    }
    async fn patch(
        &self,
        url: &str,
        body: &str,
        content_type: &str,
        pre: ifmatch_engine::Precondition,
        expected: Option<&str>,
    ) -> Outcome {
        self.in_flight.store(true, Ordering::SeqCst);
        let o = self
            .inner
            .patch(url, body, content_type, pre, expected)
            .await;
        self.in_flight.store(false, Ordering::SeqCst);
        self.stale_is_conflict(o)
    }
    fn lock(
        &self,
        url: &str,
    ) -> impl std::future::Future<Output = ifmatch_engine::client::lock::LockTaken> + Send {
        <ifmatch_engine::Client as session::Conditional>::lock(self.inner, url)
    }
    fn unlock(&self, url: &str) -> impl std::future::Future<Output = bool> + Send {
        <ifmatch_engine::Client as session::Conditional>::unlock(self.inner, url)
    }
}

/// A dialect connection's safety: its writes carry the version where the API documents it, and
/// ifmatch reads before and after each write instead of probing with If-Match.
fn dialect_view(dialect: &Dialect, asked: bool) -> SafetyView {
    let name = &dialect.name;
    if !dialect.versioned {
        return SafetyView {
            verdict: "unprotected".into(),
            words: "API keeps no version: writes compared before and after".into(),
            report: asked.then(|| {
                "This connection's Version is “none”: the API keeps no version, so it cannot \
                 refuse a stale write and the server check has nothing to probe. Every write is \
                 compared with the server just before it is sent (a change since your version \
                 goes to the merge) and read back just after; a change another writer makes in \
                 that same moment could still be overwritten."
                    .to_string()
            }),
            proposed_dialect: None,
        };
    }
    let words =
        format!("{name} dialect: version sent the API's way; writes compared before and after");
    SafetyView {
        verdict: "dialect".into(),
        report: asked.then(|| {
            format!(
                "This connection speaks the {name} dialect: every write carries the version it \
                 read where that API expects it, and the API refuses a stale one. The server \
                 check probes plain HTTP If-Match, which this API does not use, so it is not run; \
                 instead every write is compared with the server just before it is sent and \
                 read back just after (a change since your version goes to the merge, and a \
                 write the server does not hold is said)."
            )
        }),
        words,
        proposed_dialect: None,
    }
}

/// How long a check that reached no verdict stands before a save checks again.
const RECHECK_SECS: u64 = 30;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether a save runs the server check first: the connection asks for it, and the folder has
/// no profile, or only one that reached no verdict at least `RECHECK_SECS` ago.
fn needs_check(stored: Option<&ServerProfile>, check_server: bool, now: u64) -> bool {
    check_server
        && match stored {
            None => true,
            Some(p) => !p.conclusive() && now.saturating_sub(p.checked_at) >= RECHECK_SECS,
        }
}

/// `url` with its scheme, host and port replaced by those of `base` (path and query kept); as it
/// is when either does not parse.
fn rebase(url: &str, base: &str) -> String {
    match (
        url.parse::<ifmatch_engine::Url>(),
        base.parse::<ifmatch_engine::Url>(),
    ) {
        (Ok(u), Ok(b)) => {
            let mut out = b.as_str().trim_end_matches('/').to_string();
            out.push_str(u.path());
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            out
        }
        _ => url.to_string(),
    }
}

/// What the overwrite watch saw, in words: each saved place with the value saved and the value
/// now ("/replicas: 7 → 9"), and what that means on this server.
fn watch_words(later: &[LaterChangeView], changed_after: bool, refuses_stale: bool) -> String {
    let short = |v: &Option<String>| match v {
        None => "(removed)".to_string(),
        Some(v) if v.chars().count() > 40 => format!("{}…", v.chars().take(39).collect::<String>()),
        Some(v) => v.clone(),
    };
    let places = later
        .iter()
        .take(5)
        .map(|c| {
            let at = if c.pointer.is_empty() {
                "the whole document".to_string()
            } else {
                c.pointer.clone()
            };
            format!("{at}: {} → {}", short(&c.saved), short(&c.now))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let more = match later.len() {
        n if n > 5 => format!(" (and {} more)", n - 5),
        _ => String::new(),
    };
    if changed_after {
        format!(
            "Changed after your save: {places}{more}, by a write that saw yours (this server \
             refuses stale writes, so that write carried a version at least as new as yours). \
             Your save landed and nothing was written over."
        )
    } else if refuses_stale {
        format!(
            "Your save landed, but the server's newer version puts back what you changed — \
             {places}{more} — as a client that never saw your save would (one that sends no \
             If-Match). Reapply my change merges your change into the server's version for you \
             to review."
        )
    } else {
        format!(
            "Your save landed, but another client wrote over it: {places}{more}. This server is \
             not known to refuse stale writes (the check found it unprotected, or with a check \
             that is not atomic or a weak validator, or it was not checked), so a client writing \
             without a current If-Match can replace a save. Reapply my change merges your change \
             into the server's version for you to review."
        )
    }
}

/// The window's view of a server profile.
fn safety_view(profile: Option<&ServerProfile>, report: Option<String>) -> SafetyView {
    let Some(p) = profile else {
        return SafetyView {
            verdict: "unchecked".into(),
            words: "Server not checked yet".into(),
            report,
            proposed_dialect: None,
        };
    };
    let (verdict, words) = match p.verdict {
        Verdict::Protected => ("protected", "Server refuses stale writes"),
        Verdict::Caveats => ("caveats", "Server refuses stale writes (with caveats)"),
        Verdict::Unprotected => (
            "unprotected",
            "Server IGNORES If-Match on some writes: those are compared before and after",
        ),
        Verdict::Unknown => (
            "unknown",
            "Server could not be checked: writes are compared before and after",
        ),
    };
    let mut words = if p.etag_not_content_derived && p.verdict != Verdict::Unprotected {
        format!("{words}; its ETag does not follow the content")
    } else {
        words.to_string()
    };
    // Servers enforce preconditions per method: each kind of write's verdict, in words.
    let per_method = p.method_words();
    if !per_method.is_empty() {
        words = format!("{words} ({})", per_method.join("; "));
    }
    SafetyView {
        verdict: verdict.into(),
        words,
        report,
        proposed_dialect: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::state::{AppState, Tab};
    use crate::view::{round_key, ProblemCode};
    use ifmatch_engine::merge::Options;
    use ifmatch_engine::session::{merge_with, SaveResult, Version};

    fn v(text: &str, tag: &str) -> Version {
        Version {
            text: text.into(),
            validator: Some(ifmatch_engine::Validator::Etag {
                tag: ifmatch_engine::EntityTag::strong(tag),
            }),
        }
    }

    /// The round `mine` (an edit of `base`) meets against `current`.
    fn round_of(base: &Version, mine: &str, current: &Version) -> ifmatch_engine::round::Round {
        match merge_with(base, mine, current.clone(), &Options::default()) {
            SaveResult::Merged { round } | SaveResult::Conflicts { round } => round,
            other => panic!("no round: {other:?}"),
        }
    }

    /// A draft the window writes pairs its text only with the round it is the Result of, and
    /// an edit only with the version it stands on: the Result of a round replaced meanwhile
    /// leaves the draft on disk as it is (`DraftWaits`); an edit written while a live update
    /// moved the base or opened a round is kept over the version it stands on, without a
    /// round; `forget_round` puts back the round a save replaced, and only while the round it
    /// names is the tab's.
    #[tokio::test]
    async fn a_draft_pairs_its_text_only_with_the_round_and_version_it_belongs_to() {
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-shell-drafts-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let state = AppState::new(Some(dir.clone()), Default::default());
        let v1 = v(r#"{"a": 1, "b": 1, "c": 1}"#, "v1");
        let v2 = v(r#"{"a": 2, "b": 1, "c": 1}"#, "v2");
        let v3 = v(r#"{"a": 2, "b": 1, "c": 3}"#, "v3");
        let tag = |x: &Version| x.validator.as_ref().map(|t| t.display());
        let (t1, t2) = (tag(&v1), tag(&v2));
        let r1 = round_of(&v1, r#"{"a": 1, "b": 9, "c": 1}"#, &v2);
        let r2 = round_of(&v2, &r1.start, &v3);
        let (k1, k2) = (round_key(&r1), round_key(&r2));
        assert_ne!(k1, k2);
        let mut t = Tab::new(
            "demo".into(),
            "http://127.0.0.1:9/x".into(),
            v1.clone(),
            None,
        );
        t.set_round(Some(r1.clone()));
        state.tabs.lock().await.insert("t1".into(), t);
        let draft = || {
            let all = state.drafts.as_ref().unwrap().load_all();
            assert_eq!(all.len(), 1, "one draft");
            all.into_iter().next().unwrap()
        };
        let set = |f: Box<dyn FnOnce(&mut Tab) + Send>| async {
            f(state.tabs.lock().await.get_mut("t1").unwrap());
        };
        // The round the window shows: kept with it.
        let on1 = t1.as_deref();
        state
            .save_draft("t1", "R1 text", Some(&k1), on1)
            .await
            .unwrap();
        let d = draft();
        assert_eq!((d.text.as_str(), d.base.clone()), ("R1 text", v1.clone()));
        assert_eq!(d.round.as_ref().map(round_key), Some(k1.clone()));
        // A newer version made the round again; a write of the first round's Result lands
        // late: the draft on disk stands, and the window is told it waits.
        let r2c = r2.clone();
        set(Box::new(move |t| {
            t.set_round(Some(r2c));
        }))
        .await;
        let e = state
            .save_draft("t1", "late R1 text", Some(&k1), on1)
            .await
            .unwrap_err();
        assert_eq!(e.code, ProblemCode::DraftWaits);
        assert_eq!(draft().text, "R1 text", "the draft on disk stands");
        // The edit before any round, landing after a live update opened one: over the tab's
        // base, with no round.
        state
            .save_draft("t1", "edit text", None, on1)
            .await
            .unwrap();
        let d = draft();
        assert_eq!((d.text.as_str(), d.base.clone()), ("edit text", v1.clone()));
        assert!(
            d.round.is_none(),
            "never paired with the round it is not the Result of"
        );
        // A live update moved the base to v2 while an edit of v1 was on its way: kept over v1.
        let (v1c, v2c) = (v1.clone(), v2.clone());
        set(Box::new(move |t| {
            t.set_round(None);
            t.base = v2c;
            t.rewind = Some(v1c);
        }))
        .await;
        state
            .save_draft("t1", "edit of v1", None, on1)
            .await
            .unwrap();
        assert_eq!(
            draft().base,
            v1,
            "stands on the version the edit was made on"
        );
        state
            .save_draft("t1", "edit of v2", None, t2.as_deref())
            .await
            .unwrap();
        assert_eq!(draft().base, v2);
        // A save replaced round 1 with round 2 and the window kept showing round 1.
        let (r1c, r2c) = (r1.clone(), r2.clone());
        set(Box::new(move |t| {
            t.rewind = None;
            t.set_round(Some(r1c));
            t.before_save = t.set_round(Some(r2c));
        }))
        .await;
        state.forget_round("t1", &k1).await;
        let key = state.tabs.lock().await["t1"].round_key();
        assert_eq!(key, Some(k2.clone()), "another key: kept");
        state.forget_round("t1", &k2).await;
        let key = state.tabs.lock().await["t1"].round_key();
        assert_eq!(key, Some(k1.clone()), "put back");
        state
            .save_draft("t1", "typed", Some(&k1), t2.as_deref())
            .await
            .unwrap();
        assert_eq!(draft().round.as_ref().map(round_key), Some(k1));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_url_is_rebased_on_another_origin_keeping_path_and_query() {
        assert_eq!(
            super::rebase(
                "http://127.0.0.1:40001/labels/Label_1?x=1",
                "http://127.0.0.1:40777"
            ),
            "http://127.0.0.1:40777/labels/Label_1?x=1"
        );
        assert_eq!(
            super::rebase("http://127.0.0.1:40001/settings", "http://127.0.0.1:5/"),
            "http://127.0.0.1:5/settings"
        );
        assert_eq!(super::rebase("not a url", "http://h"), "not a url");
    }

    #[test]
    fn a_check_that_reached_no_verdict_is_tried_again() {
        use ifmatch_engine::check::Verdict;
        // Through the stored form, so fields added later take their defaults.
        let profile = |verdict: Verdict, checked_at: u64| {
            serde_json::from_value::<ifmatch_store::servers::ServerProfile>(serde_json::json!({
                "verdict": verdict,
                "checked_at": checked_at,
                "checked_url": "",
                "stale_write_status": null,
                "etag_not_content_derived": false,
            }))
            .expect("a stored profile")
        };
        let now = 1_000_000;
        assert!(super::needs_check(None, true, now));
        assert!(
            !super::needs_check(None, false, now),
            "the connection turned it off"
        );
        // A verdict stands.
        let p = profile(Verdict::Protected, now - 86_400);
        assert!(!super::needs_check(Some(&p), true, now));
        // No verdict (the server was down): checked again, but not on every save.
        let u = profile(Verdict::Unknown, now - super::RECHECK_SECS);
        assert!(super::needs_check(Some(&u), true, now));
        let u = profile(Verdict::Unknown, now - 1);
        assert!(!super::needs_check(Some(&u), true, now));
    }
}
