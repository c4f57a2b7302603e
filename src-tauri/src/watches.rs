//! Every watch of the window: one `Live` (engine::live) per resource open in a tab, shared by
//! the tabs that show it, at most `STREAMS_PER_SERVER` held-open stream connections per
//! connection (the rest poll, and say so); each watch's events become a signal to the window,
//! and what it has said is kept for the tab's status line. What a version does to a tab is
//! decided in `workspace::live`; the versions a tab has stood on (`Seen`) are part of its state.

use crate::view::{LiveSignal, LiveStatusView};
use ifmatch_engine::live::{Arrival, Live, LiveEvent, LiveOptions, NoticeKind};
use ifmatch_engine::session::Version;
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

    pub fn has(&self, a: &Arrival) -> bool {
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
    pub fn latest(&self, conn: &str, url: &str) -> Option<Arrival> {
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
    pub fn status(&self, conn: &str, url: &str) -> LiveStatusView {
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

#[cfg(test)]
mod tests {
    use super::*;

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
