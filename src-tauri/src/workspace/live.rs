//! Live: every open tab's resource watched the best way its server allows (the engine's
//! `live`), one watch per resource shared by the tabs that show it, at most `STREAMS_PER_SERVER`
//! held-open stream connections per connection (the rest poll, and say so).
//!
//! A watch only says that a newer version exists (a signal to the window, which asks
//! `live_update` for each tab with the text it holds). What the version does to a tab is decided
//! here, by the engine's merge: a clean tab shows it; a tab with unsaved edits gets it merged
//! into the edit when nothing collides (the base moves forward, so the later Save is a plain
//! conditional write); a change that collides is only marked, and becomes the conflict list when
//! the user asks (or saves); a round in progress is merged again against it, keeping every
//! decision. Nothing here writes to the server.

use crate::state::{AppState, Tab};
use crate::view::{
    LiveCollision, LiveSignal, LiveStatusView, LiveUpdate, Problem, SaveView, TextEdit,
};
use ifmatch_engine::live::{Arrival, Live, LiveEvent, LiveOptions, NoticeKind};
use ifmatch_engine::merge::Options;
use ifmatch_engine::session::{self, Remerged, SaveResult, Version};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Held-open stream connections per connection (browsers allow 6 per host; saves and reads
/// need the rest).
pub const STREAMS_PER_SERVER: usize = 4;

type Key = (String, String);
type Signal = Arc<dyn Fn(LiveSignal) + Send + Sync>;

/// What a watch has said, kept for the window's status line.
#[derive(Default, Clone)]
struct Said {
    how: String,
    problem: Option<String>,
    /// A setting that was not taken (kept whatever the watch says next).
    setting: Option<String>,
    full_body_polls: bool,
}

struct Entry {
    live: Live,
    tabs: BTreeSet<String>,
    said: Arc<Mutex<Said>>,
    forward: tokio::task::JoinHandle<()>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.forward.abort();
        self.live.cancel();
    }
}

/// Every watch of the window.
#[derive(Default)]
pub struct Watches {
    entries: Mutex<BTreeMap<Key, Entry>>,
    slots: Mutex<BTreeMap<String, Arc<tokio::sync::Semaphore>>>,
    signal: OnceLock<Signal>,
    hidden: AtomicBool,
}

/// The versions a tab has stood on or met (their names), newest last: a version the watch
/// announces late (a stream lagging behind a save that already merged it) is not new.
#[derive(Debug, Default, Clone)]
pub struct Seen(VecDeque<u64>);

impl Seen {
    const KEEP: usize = 32;

    fn name(v: &Version) -> u64 {
        name_of(v.validator.as_ref().map(|x| x.display()), &v.text)
    }

    /// Remembers `v`.
    pub fn note(&mut self, v: &Version) {
        let n = Self::name(v);
        if !self.0.contains(&n) {
            self.0.push_back(n);
            if self.0.len() > Self::KEEP {
                self.0.pop_front();
            }
        }
    }

    fn has(&self, a: &Arrival) -> bool {
        self.0.contains(&name_of(
            a.validator.as_ref().map(|x| x.display()),
            &a.document,
        ))
    }
}

fn name_of(validator: Option<String>, text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match validator {
        Some(v) => ("v", v).hash(&mut h),
        None => ("t", ifmatch_engine::json::print::compact(text)).hash(&mut h),
    }
    h.finish()
}

/// `IFMATCH_LIVE=off` (or `0`, `no`, `false`): no tab is watched (no request in the background;
/// a metered link, an API that counts every read). Tabs then learn of a newer version when the
/// window regains focus and at Save.
fn turned_off() -> bool {
    std::env::var("IFMATCH_LIVE").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "no" | "false"
        )
    })
}

/// Options of a desktop watch: `IFMATCH_LIVE_INTERVAL` (seconds, 0.05–3600) sets the polling
/// interval; 10 s otherwise, backing off to 60 s while nothing changes.
fn options() -> (LiveOptions, Option<String>) {
    let mut o = LiveOptions::default();
    let mut problem = None;
    if let Ok(v) = std::env::var("IFMATCH_LIVE_INTERVAL") {
        match v.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && (0.05..=3600.0).contains(&s) => {
                o.interval = Duration::from_secs_f64(s);
                o.max_interval = o.max_interval.max(o.interval);
            }
            _ => {
                problem = Some(format!(
                    "IFMATCH_LIVE_INTERVAL={v:?} is not a number of seconds from 0.05 to 3600; \
                     the default is used (every {} s, backing off to {} s while nothing changes).",
                    o.interval.as_secs(),
                    o.max_interval.as_secs()
                ))
            }
        }
    }
    (o, problem)
}

impl Watches {
    /// Where the watches' signals go (the window).
    pub fn set_signal(&self, f: Signal) {
        let _ = self.signal.set(f);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts (or joins) the watch of `url` on connection `conn` for `tab`.
    pub fn watch(&self, tab: &str, conn: &str, url: &str, client: Arc<ifmatch_engine::Client>) {
        if turned_off() {
            return;
        }
        let key = (conn.to_string(), url.to_string());
        let mut entries = self.lock();
        if let Some(e) = entries.get_mut(&key) {
            e.tabs.insert(tab.to_string());
            return;
        }
        let mut entry = self.start(&key, client);
        entry.tabs.insert(tab.to_string());
        entries.insert(key, entry);
    }

    /// The connection `conn` changed (its client is new): its watches start again with it,
    /// for the same tabs.
    pub fn reconnect(&self, conn: &str, client: Arc<ifmatch_engine::Client>) {
        let mut entries = self.lock();
        let keys: Vec<Key> = entries.keys().filter(|k| k.0 == conn).cloned().collect();
        for key in keys {
            let tabs = entries
                .remove(&key)
                .map(|e| e.tabs.clone())
                .unwrap_or_default();
            let mut entry = self.start(&key, client.clone());
            entry.tabs = tabs;
            entries.insert(key, entry);
        }
    }

    /// A watch of `key` with its own task forwarding its events to the window (no tab yet).
    fn start(&self, key: &Key, client: Arc<ifmatch_engine::Client>) -> Entry {
        let (conn, url) = (key.0.as_str(), key.1.as_str());
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(conn.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(STREAMS_PER_SERVER)))
            .clone();
        let (mut opts, problem) = options();
        opts.streams = Some(slot);
        let (live, mut rx) = Live::start(client, url.to_string(), opts);
        if self.hidden.load(Ordering::Relaxed) {
            live.control().set_hidden(true);
        }
        let said = Arc::new(Mutex::new(Said {
            how: "starting to watch…".into(),
            problem: None,
            setting: problem,
            full_body_polls: false,
        }));
        let signal = self.signal.get().cloned();
        let forward = {
            let (said, key) = (said.clone(), key.clone());
            tokio::spawn(async move {
                loop {
                    let event = match rx.recv().await {
                        Ok(e) => Some(e),
                        // Fell behind: the newest version is what counts (`latest`).
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                        Err(_) => break,
                    };
                    let arrived = match &event {
                        Some(LiveEvent::Arrived(_)) => {
                            // A version read: a read failure said before is over.
                            let mut s = said.lock().unwrap_or_else(|p| p.into_inner());
                            if !s.full_body_polls {
                                s.problem = None;
                            }
                            true
                        }
                        None | Some(LiveEvent::Revalidated(_)) => true,
                        Some(LiveEvent::Notice(n)) => {
                            let mut s = said.lock().unwrap_or_else(|p| p.into_inner());
                            match n.kind {
                                NoticeKind::Watching => {
                                    s.how = n.words.clone();
                                    s.problem = None;
                                }
                                NoticeKind::FullBodyPolls => {
                                    s.full_body_polls = true;
                                    s.how = s.how.replace(", 304 when unchanged", "");
                                    s.problem = Some(n.words.clone());
                                }
                                _ => s.problem = Some(n.words.clone()),
                            }
                            false
                        }
                        Some(LiveEvent::Ended(o)) => {
                            let mut s = said.lock().unwrap_or_else(|p| p.into_inner());
                            s.how = "not watched".into();
                            s.problem = Some(format!(
                                "The watch could not start: {} Changes on the server are seen \
                                 when you save.",
                                o.message()
                            ));
                            false
                        }
                    };
                    if let Some(f) = &signal {
                        f(LiveSignal {
                            connection_id: key.0.clone(),
                            url: key.1.clone(),
                            arrived,
                        });
                    }
                    if matches!(event, Some(LiveEvent::Ended(_))) {
                        break;
                    }
                }
            })
        };
        Entry {
            live,
            tabs: BTreeSet::new(),
            said,
            forward,
        }
    }

    /// The server acknowledged a write of `v` to (`conn`, `url`): the watch's newest version,
    /// which every tab showing the resource is told about.
    pub fn written(&self, conn: &str, url: &str, v: &Version) {
        let key = (conn.to_string(), url.to_string());
        if let Some(e) = self.lock().get(&key) {
            e.live.written(v.text.clone(), v.validator.clone());
        } else {
            return;
        }
        if let Some(f) = self.signal.get() {
            f(LiveSignal {
                connection_id: key.0,
                url: key.1,
                arrived: true,
            });
        }
    }

    /// Reads (`conn`, `url`) now, conditionally, and makes what the server holds the watch's
    /// newest version when it is not already: a Save's last look before it writes (a poll may
    /// be seconds old). True when that is a version the watch had not seen; false when it had,
    /// or the resource is not watched, or the read failed.
    pub async fn settle(&self, conn: &str, url: &str, client: &ifmatch_engine::Client) -> bool {
        let key = (conn.to_string(), url.to_string());
        if !self.lock().contains_key(&key) {
            return false;
        }
        let ifmatch_engine::Outcome::Fetched { doc, .. } = client.get(url).await else {
            return false;
        };
        let entries = self.lock();
        let Some(e) = entries.get(&key) else {
            return false;
        };
        let known = e
            .live
            .latest()
            .is_some_and(|a| match (&a.validator, &doc.validator) {
                (Some(x), Some(y)) if x.display() == y.display() => true,
                _ => ifmatch_engine::json::same_text(&a.document, &doc.text),
            });
        if !known {
            e.live
                .observed(doc.text, doc.validator, ifmatch_engine::live::Via::Poll);
        }
        !known
    }

    /// `tab` no longer shows anything: its watch ends with the last tab that shared it.
    pub fn unwatch(&self, tab: &str) {
        let mut entries = self.lock();
        entries.retain(|_, e| {
            e.tabs.remove(tab);
            !e.tabs.is_empty()
        });
    }

    /// The newest version the watch of (`conn`, `url`) has seen.
    fn latest(&self, conn: &str, url: &str) -> Option<Arrival> {
        self.lock()
            .get(&(conn.to_string(), url.to_string()))
            .and_then(|e| e.live.latest())
    }

    /// The window regained focus: every watch polls now and at its shortest interval.
    pub fn focus(&self) {
        for e in self.lock().values() {
            e.live.control().focus();
        }
    }

    /// The window was hidden or shown: polling backs off while hidden.
    pub fn set_hidden(&self, hidden: bool) {
        self.hidden.store(hidden, Ordering::Relaxed);
        for e in self.lock().values() {
            e.live.control().set_hidden(hidden);
        }
    }

    /// How (`conn`, `url`) is watched, and what it has cost.
    fn status(&self, conn: &str, url: &str) -> LiveStatusView {
        let entries = self.lock();
        let Some(e) = entries.get(&(conn.to_string(), url.to_string())) else {
            return LiveStatusView {
                how: if turned_off() {
                    "not watched (IFMATCH_LIVE=off): changes are seen on focus and at Save".into()
                } else {
                    "not watched".into()
                },
                problem: None,
                full_body_polls: false,
                bytes: 0,
                plain_polling_bytes: 0,
                requests: 0,
                not_modified: 0,
                tabs: 0,
            };
        };
        let said = e.said.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let stats = e.live.control().stats();
        let problem = match (said.setting, said.problem) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        LiveStatusView {
            how: said.how,
            problem,
            full_body_polls: said.full_body_polls,
            bytes: stats.bytes,
            plain_polling_bytes: stats.plain_polling_bytes,
            requests: stats.requests,
            not_modified: stats.not_modified,
            tabs: e.tabs.len(),
        }
    }
}

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
                    t.round = Some(round);
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
                t.rewind_round = t.round.replace(*round);
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
        if round.is_some() {
            t.round = round;
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

    #[test]
    fn seen_versions_are_named_by_validator_or_by_meaning() {
        let mut s = Seen::default();
        s.note(&Version {
            text: "{\"a\": 1}".into(),
            validator: None,
        });
        let arrival = |text: &str| Arrival {
            version: String::new(),
            via: ifmatch_engine::live::Via::Poll,
            bytes: 0,
            document: text.into(),
            validator: None,
        };
        assert!(
            s.has(&arrival("{\n  \"a\": 1\n}")),
            "the same meaning, spelt otherwise"
        );
        assert!(!s.has(&arrival("{\"a\": 2}")));
    }
}
