//! Live: one watch per resource, the best way its server allows, saying how. Change streams where
//! the API has one — a Kubernetes watch (`?watch=1`, `resourceVersion`), CouchDB's `_changes`
//! (continuous or longpoll, `since=`, `filter=_doc_ids`), a Consul blocking query
//! (`?index=N&wait=`), server-sent events (Firebase's `put` / `patch`), a dialect's "changes since
//! a cursor" endpoint (Gmail's `history?startHistoryId=`) — and otherwise conditional polling
//! (If-None-Match or If-Modified-Since) whose interval backs off while nothing changes.
//!
//! Owns: choosing the feed, reconnecting with backoff from the last cursor, the one conditional
//! read that settles what a gap may have missed, falling back to a full read when the server no
//! longer has the cursor and to polling when a stream is garbage (each said once, in words), the
//! byte count against what plain polling would have cost, telling a server that answers a
//! matching If-None-Match with the whole document, and keeping to the number of stream
//! connections the owner allows per server (`LiveOptions::streams`: past it, conditional polling
//! until a place frees, said in the `Watching` notice).
//!
//! Must never: write (a watch only reads: every request it makes is a GET), call a version new
//! when only server-owned fields or spelling changed (documents pass through the dialect's
//! `on_read` and compare with `json::same_text`), or put a secret in a notice (every request goes
//! through the client's redacted trail; notices quote outcomes the client already scrubbed).

mod frames;
mod shape;

pub use frames::{Event, EventStream, Garbage, JsonLines};
pub use shape::unlike;

use crate::dialect::ChangesFeed;
use crate::json::same_text;
use crate::outcome::{Outcome, Received};
use crate::precondition::Validator;
use crate::Client;
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, Notify, OwnedSemaphorePermit, Semaphore};

/// How a version reached the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The first read, when the watch started.
    Initial,
    /// The server's change feed announced it (a stream, a long poll, a changes endpoint).
    Stream,
    /// The watch's own conditional read found it.
    Poll,
    /// A write of the watch's owner that the server acknowledged (`Live::written`).
    Written,
}

/// A version the watch saw arrive (documents are the dialect's view: server-owned fields out).
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    /// The version's name: its validator as a script wants it, or `content:` and a digest of
    /// the document when the server gives no validator.
    pub version: String,
    /// How it came.
    pub via: Via,
    /// Body bytes the watch received since the previous arrival (this one's reads included).
    pub bytes: u64,
    /// The document.
    pub document: String,
    /// Its validator, when the server gave one.
    pub validator: Option<Validator>,
}

/// What a notice is about (the window switches on this; the words are for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// How the resource is watched (sent when the watch starts and whenever it changes).
    Watching,
    /// The stream dropped; the watch reconnects after a pause and reads once to settle the gap.
    Reconnecting,
    /// The server no longer has the watch's cursor: the document was read whole.
    CursorGone,
    /// The stream sent something that is not its format: the watch polls instead.
    StreamGarbage,
    /// The server offers no usable stream here (it refused or answered otherwise).
    StreamRefused,
    /// A matching If-None-Match got 200 and the whole document: every poll costs all of it.
    FullBodyPolls,
    /// No ETag or Last-Modified: a conditional poll is not possible.
    NoValidator,
    /// A read failed; the watch keeps trying, further apart.
    ReadFailed,
    /// The resource is gone from the server (404 / 410 / a delete event).
    Deleted,
}

/// Something the user should be told about the watch.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// What it is about.
    pub kind: NoticeKind,
    /// In words.
    pub words: String,
}

/// What a watch reports.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A new version (the first one with `Via::Initial`).
    Arrived(Arrival),
    /// Something to say about the watch itself.
    Notice(Notice),
    /// The same document under a new validator (a dialect's version moved with server-owned
    /// fields only): not a change, but a write must now carry this validator.
    Revalidated(Option<Validator>),
    /// The watch could not start: the first read's outcome.
    Ended(Outcome),
}

/// Which feed to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// The best the dialect and the server allow.
    Best,
    /// CouchDB's longpoll feed instead of its continuous one (otherwise as `Best`).
    Longpoll,
    /// Conditional polling even where a stream exists.
    Poll,
}

/// How a watch behaves.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The polling interval (and a changes endpoint's).
    pub interval: Duration,
    /// The longest interval polling backs off to while nothing changes (= `interval`: none).
    pub max_interval: Duration,
    /// Which feed.
    pub prefer: Prefer,
    /// A stream silent this long (no event, no heartbeat) counts as dropped.
    pub stream_idle: Duration,
    /// The longest pause before reconnecting a dropped stream.
    pub max_reconnect: Duration,
    /// The stream connections allowed at once to this server, shared by its watches (None:
    /// no bound). Every connection held open waiting for a change — a Kubernetes watch,
    /// CouchDB's continuous or longpoll feed, a Consul blocking query, server-sent events, and
    /// the request that looks for an event stream — holds a permit while it is open (and
    /// through a reconnect's pause). A watch that finds none free polls conditionally instead,
    /// says so in its `Watching` notice, and takes the stream up when a permit frees. A
    /// changes endpoint (asked every `interval`, answered at once) needs none.
    pub streams: Option<Arc<Semaphore>>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interval: Duration::from_secs(10),
            max_interval: Duration::from_secs(60),
            prefer: Prefer::Best,
            stream_idle: Duration::from_secs(300),
            max_reconnect: Duration::from_secs(30),
            streams: None,
        }
    }
}

/// What the watch has cost so far.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Body bytes received (reads, stream chunks, changes-endpoint answers).
    pub bytes: u64,
    /// Requests made (a stream counts once per connection).
    pub requests: u64,
    /// Polls answered 304 Not Modified.
    pub not_modified: u64,
    /// Body bytes plain polling (a full GET every `interval`) would have received meanwhile.
    pub plain_polling_bytes: u64,
    /// Seconds watched.
    pub seconds: f64,
}

/// What the owner of a watch can tell it while it runs, and read from it.
#[derive(Debug, Default)]
pub struct Control {
    wake: Notify,
    hidden: AtomicBool,
    meter: Mutex<Meter>,
    /// A version the owner wrote (`Live::written`), for the watch to compare the next with.
    written: Mutex<Option<(String, Option<Validator>)>>,
}

#[derive(Debug, Default)]
struct Meter {
    stats: Stats,
    started: Option<Instant>,
    /// The full document's body size, and since when plain polling has been paying it.
    full: u64,
    accrued_until: Option<Instant>,
    accrued: f64,
    interval: f64,
}

impl Meter {
    fn accrue(&mut self, now: Instant) {
        if let (Some(t), true) = (self.accrued_until, self.interval > 0.0) {
            self.accrued += self.full as f64 * (now - t).as_secs_f64() / self.interval;
        }
        self.accrued_until = Some(now);
    }
}

impl Control {
    /// Polls at once and returns to the shortest interval (the window regained focus).
    pub fn focus(&self) {
        self.wake.notify_one();
    }

    /// A hidden window's watch polls up to six times further apart.
    pub fn set_hidden(&self, hidden: bool) {
        self.hidden.store(hidden, Ordering::Relaxed);
        if !hidden {
            self.wake.notify_one();
        }
    }

    /// What the watch has cost so far, against plain polling at the same interval.
    pub fn stats(&self) -> Stats {
        let mut m = self.lock();
        let now = Instant::now();
        m.accrue(now);
        let mut s = m.stats.clone();
        s.plain_polling_bytes = s.plain_polling_bytes.max(m.accrued as u64);
        s.seconds = m.started.map_or(0.0, |t| (now - t).as_secs_f64());
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Meter> {
        self.meter.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A watch running on its own task, shared by every tab that shows the resource: each
/// subscribes; `latest` gives the version a late subscriber starts from. Dropping it (or
/// `cancel`) ends the task and its connections.
pub struct Live {
    ctl: Arc<Control>,
    tx: broadcast::Sender<LiveEvent>,
    latest: Arc<Mutex<Option<Arrival>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Starts watching `url` on a task of the current tokio runtime; the receiver gets every
    /// event from the first read on.
    pub fn start(
        client: Arc<Client>,
        url: String,
        opts: LiveOptions,
    ) -> (Live, broadcast::Receiver<LiveEvent>) {
        let (tx, rx) = broadcast::channel(256);
        let ctl = Arc::new(Control::default());
        let latest = Arc::new(Mutex::new(None));
        let task = {
            let (tx, ctl, latest) = (tx.clone(), ctl.clone(), latest.clone());
            tokio::spawn(async move {
                let mut emit = |e: LiveEvent| {
                    match &e {
                        LiveEvent::Arrived(a) => {
                            *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(a.clone());
                        }
                        LiveEvent::Revalidated(v) => {
                            if let Some(a) =
                                latest.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
                            {
                                a.validator = v.clone();
                            }
                        }
                        _ => {}
                    }
                    // No subscriber right now is not a reason to stop: a tab may come back.
                    let _ = tx.send(e);
                    true
                };
                if let Err(out) = watch(&client, &url, &opts, &ctl, &mut emit).await {
                    let _ = tx.send(LiveEvent::Ended(out));
                }
            })
        };
        (
            Live {
                ctl,
                tx,
                latest,
                task,
            },
            rx,
        )
    }

    /// Another receiver (a second tab): events from now on; start from `latest`.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// The newest version seen.
    pub fn latest(&self) -> Option<Arrival> {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The server acknowledged a write of `text` by the watch's owner: it is the newest version
    /// (`latest`, `Via::Written`), and the next change is a change from it, even when the watch
    /// never saw it (a stream can go from the version before straight to a later one that
    /// puts that earlier document back).
    pub fn written(&self, text: String, validator: Option<Validator>) {
        self.observed(text, validator, Via::Written)
    }

    /// The owner read the resource itself (`via`: `Poll`) or wrote it (`Written`): that version
    /// is the newest, and the next change is a change from it.
    pub fn observed(&self, text: String, validator: Option<Validator>, via: Via) {
        let version = match &validator {
            Some(v) => v.text(),
            None => content_version(&text),
        };
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arrival {
            version,
            via,
            bytes: 0,
            document: text.clone(),
            validator: validator.clone(),
        });
        *self.ctl.written.lock().unwrap_or_else(|p| p.into_inner()) = Some((text, validator));
    }

    /// Focus, hidden state and the cost so far.
    pub fn control(&self) -> &Control {
        &self.ctl
    }

    /// Ends the watch (its task and connections).
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watches `url` until `emit` returns false: the first read (`Via::Initial`), a `Watching`
/// notice saying how, then each new version and whatever the user should know. Err: the first
/// read failed (its outcome). Later failures are notices, and the watch goes on.
pub async fn watch(
    client: &Client,
    url: &str,
    opts: &LiveOptions,
    ctl: &Control,
    emit: &mut (dyn FnMut(LiveEvent) -> bool + Send),
) -> Result<(), Outcome> {
    let opts = LiveOptions {
        interval: opts.interval.max(Duration::from_millis(10)),
        max_interval: opts.max_interval.max(opts.interval),
        ..opts.clone()
    };
    {
        let mut m = ctl.lock();
        let now = Instant::now();
        m.started = Some(now);
        m.interval = opts.interval.as_secs_f64();
    }
    let (out, n) = client.get_counted(url, true).await;
    let doc = match out {
        Outcome::Fetched { doc, .. } => doc,
        other => return Err(other),
    };
    let mut w = Watcher {
        client,
        url,
        opts: &opts,
        ctl,
        emit,
        current: doc.clone(),
        pending: 0,
        said: vec![],
        stopped: false,
        gone: false,
        reconnects: 0,
        slot: None,
    };
    w.count(n, true);
    {
        let mut m = ctl.lock();
        m.full = n;
        m.stats.plain_polling_bytes = n;
        m.accrue(Instant::now());
    }
    w.send_arrival(Via::Initial);
    if w.stopped {
        return Ok(());
    }
    let mut feed = w.choose().await;
    loop {
        if w.stopped {
            return Ok(());
        }
        if feed.holds_connection() && !w.take_slot() {
            // Every stream this server is allowed is open: poll until one closes.
            let words = w.busy_words();
            w.say(NoticeKind::Watching, words);
            let Some(slot) = w.poll_loop(opts.streams.clone()).await else {
                return Ok(());
            };
            w.slot = Some(slot);
            w.said.retain(|k| *k != NoticeKind::Watching);
            // Start the stream from what the polls last read.
            feed.reset(&w.current);
            if let Feed::Probe = feed {
                feed = w.choose().await;
            }
            continue;
        }
        w.say(NoticeKind::Watching, feed.words(&opts));
        let began = Instant::now();
        let end = match &mut feed {
            Feed::Poll | Feed::Probe => {
                // Polling holds no connection open: the permit goes to a watch that streams.
                w.slot = None;
                w.poll_loop(None).await;
                return Ok(());
            }
            Feed::Couch { continuous, since } => w.couch(*continuous, since).await,
            Feed::Kube { resource_version } => w.kube(resource_version).await,
            Feed::Consul { index } => w.consul(index).await,
            Feed::Sse { opened, last_id } => w.sse(opened.take(), last_id).await,
            Feed::Changes { feed, cursor } => {
                let feed = feed.clone();
                w.changes(&feed, cursor).await
            }
        };
        match end {
            End::Stop => return Ok(()),
            End::Dropped(why) => {
                if began.elapsed() > Duration::from_secs(10) {
                    w.reconnects = 0;
                }
                let pause = w.backoff();
                w.say(
                    NoticeKind::Reconnecting,
                    format!(
                        "the change stream dropped ({why}); reconnecting in {:.1} s and \
                         reading once to settle what the gap may have missed",
                        pause.as_secs_f64()
                    ),
                );
                w.pause(pause).await;
                w.settle(Via::Poll).await;
                w.said
                    .retain(|k| !matches!(k, NoticeKind::Watching | NoticeKind::Reconnecting));
            }
            End::CursorGone(why) => {
                if began.elapsed() > Duration::from_secs(10) {
                    w.reconnects = 0;
                }
                w.say(
                    NoticeKind::CursorGone,
                    format!(
                        "{why}: the document was read whole, and the watch starts again from it"
                    ),
                );
                // A server that loses every cursor at once must not be asked in a tight loop.
                let pause = w.backoff();
                w.pause(pause).await;
                w.full_read().await;
                feed.reset(&w.current);
                if let Feed::Changes { feed: f, cursor } = &mut feed {
                    *cursor = w.start_cursor(f).await;
                }
                w.said.retain(|k| *k != NoticeKind::Watching);
            }
            End::Garbage(why) => {
                w.say(
                    NoticeKind::StreamGarbage,
                    format!(
                        "the change stream sent {why}; watching by polling instead ({})",
                        Feed::Poll.words(&opts)
                    ),
                );
                w.settle(Via::Poll).await;
                feed = Feed::Poll;
            }
            End::Refused(why) => {
                w.say(
                    NoticeKind::StreamRefused,
                    format!("{why}; watching by polling instead"),
                );
                w.settle(Via::Poll).await;
                feed = Feed::Poll;
            }
        }
    }
}

/// How one pass of a feed ended.
enum End {
    /// The owner stopped the watch.
    Stop,
    /// The connection broke or went silent: reconnect.
    Dropped(String),
    /// The server no longer has the cursor.
    CursorGone(String),
    /// Bytes that are not the feed's format.
    Garbage(String),
    /// The server does not offer this feed.
    Refused(String),
}

enum Feed {
    Poll,
    /// A plain server whose event stream was not looked for: every stream permit was taken.
    Probe,
    Couch {
        continuous: bool,
        since: String,
    },
    Kube {
        resource_version: Option<String>,
    },
    Consul {
        index: Option<u64>,
    },
    Sse {
        opened: Option<crate::client::Streaming>,
        last_id: Option<String>,
    },
    Changes {
        feed: ChangesFeed,
        cursor: Option<String>,
    },
}

impl Feed {
    fn words(&self, o: &LiveOptions) -> String {
        match self {
            Feed::Poll if o.max_interval > o.interval => format!(
                "polling every {} (backing off to {} while nothing changes), 304 when unchanged",
                secs(o.interval),
                secs(o.max_interval)
            ),
            Feed::Poll | Feed::Probe => {
                format!("polling every {}, 304 when unchanged", secs(o.interval))
            }
            Feed::Couch {
                continuous: true, ..
            } => "live: CouchDB changes feed (continuous)".into(),
            Feed::Couch { .. } => "live: CouchDB changes feed (longpoll)".into(),
            Feed::Kube { .. } => "live: Kubernetes watch".into(),
            Feed::Consul { .. } => "live: Consul blocking query".into(),
            Feed::Sse { .. } => "live: server-sent events".into(),
            Feed::Changes { .. } => format!(
                "live: the API's changes endpoint, asked every {}",
                secs(o.interval)
            ),
        }
    }

    /// Forget the cursor after a full read: start again from the version just read.
    fn reset(&mut self, current: &Received) {
        match self {
            Feed::Couch { since, .. } => *since = "now".into(),
            Feed::Kube { resource_version } => *resource_version = version_value(current),
            Feed::Consul { index } => *index = version_value(current).and_then(|v| v.parse().ok()),
            Feed::Sse { last_id, .. } => *last_id = None,
            Feed::Changes { cursor, .. } => *cursor = None,
            Feed::Poll | Feed::Probe => {}
        }
    }

    /// Whether this feed holds a connection open waiting for a change (and so a permit).
    fn holds_connection(&self) -> bool {
        match self {
            Feed::Poll | Feed::Changes { .. } => false,
            Feed::Probe
            | Feed::Couch { .. }
            | Feed::Kube { .. }
            | Feed::Consul { .. }
            | Feed::Sse { .. } => true,
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The version a dialect encoded into the validator (Kubernetes' resourceVersion, Consul's
/// index), as text.
fn version_value(doc: &Received) -> Option<String> {
    let tag = doc.validator.as_ref()?.etag()?;
    let values = crate::dialect::decode(&tag.opaque)?;
    match values.first()? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A stable name for a document without a validator (FNV-1a over its text).
fn content_version(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("content:{h:016x}")
}

/// Stream permits watches hold now, per semaphore (its address): to say how many streams are
/// already open to a server whose permits are all taken (a `Semaphore` does not tell its size).
/// An entry goes when its count reaches 0, so an address reused by a new semaphore starts at 0.
static HELD: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn held_list() -> std::sync::MutexGuard<'static, Vec<(usize, usize)>> {
    HELD.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many of `sem`'s permits watches hold now.
fn held(sem: &Arc<Semaphore>) -> usize {
    let key = Arc::as_ptr(sem) as usize;
    held_list()
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(0, |(_, n)| *n)
}

/// A watch's place among the stream connections `LiveOptions::streams` allows: the permit,
/// given back when dropped (the watch polls, stops, or is cancelled).
struct Slot {
    _permit: OwnedSemaphorePermit,
    key: usize,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, sem: &Arc<Semaphore>) -> Slot {
        let key = Arc::as_ptr(sem) as usize;
        let mut list = held_list();
        match list.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => list.push((key, 1)),
        }
        Slot {
            _permit: permit,
            key,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut list = held_list();
        if let Some(i) = list.iter().position(|(k, _)| *k == self.key) {
            list[i].1 = list[i].1.saturating_sub(1);
            if list[i].1 == 0 {
                list.swap_remove(i);
            }
        }
    }
}

struct Watcher<'a> {
    client: &'a Client,
    url: &'a str,
    opts: &'a LiveOptions,
    ctl: &'a Control,
    emit: &'a mut (dyn FnMut(LiveEvent) -> bool + Send),
    current: Received,
    pending: u64,
    said: Vec<NoticeKind>,
    stopped: bool,
    /// The resource was found gone (said once until it is back).
    gone: bool,
    /// Drops in a row (a stream that stayed up a while clears it).
    reconnects: u32,
    /// The stream permit held (only when `opts.streams` bounds them).
    slot: Option<Slot>,
}

impl Watcher<'_> {
    fn count(&mut self, n: u64, request: bool) {
        self.pending += n;
        let mut m = self.ctl.lock();
        m.stats.bytes += n;
        if request {
            m.stats.requests += 1;
        }
    }

    fn say(&mut self, kind: NoticeKind, words: String) {
        if self.said.contains(&kind) {
            return;
        }
        self.said.push(kind);
        if !(self.emit)(LiveEvent::Notice(Notice { kind, words })) {
            self.stopped = true;
        }
    }

    fn send_arrival(&mut self, via: Via) {
        let version = match &self.current.validator {
            Some(v) => v.text(),
            None => content_version(&self.current.text),
        };
        let a = Arrival {
            version,
            via,
            bytes: std::mem::take(&mut self.pending),
            document: self.current.text.clone(),
            validator: self.current.validator.clone(),
        };
        if !(self.emit)(LiveEvent::Arrived(a)) {
            self.stopped = true;
        }
    }

    /// Takes `doc` as the server's version: an arrival when it means something else than the
    /// current one (server-owned fields are already out: `on_read`).
    fn offer(&mut self, doc: Received, via: Via, full_bytes: Option<u64>) {
        // The owner's own write is the version a change is a change from (a stream that never
        // showed it would otherwise take a change back to the earlier document for nothing new).
        if let Some((text, validator)) = self
            .ctl
            .written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            self.current.text = text;
            self.current.validator = validator;
        }
        if self.gone {
            self.gone = false;
            self.said.retain(|k| *k != NoticeKind::Deleted);
        }
        if let Some(n) = full_bytes {
            let mut m = self.ctl.lock();
            m.accrue(Instant::now());
            m.full = n;
        }
        if same_text(&doc.text, &self.current.text) {
            // The same document; keep the newer validator (a dialect's version moves with
            // server-owned fields), and say so to whoever writes with it.
            if doc.validator.is_some() && doc.validator != self.current.validator {
                self.current.validator = doc.validator;
                if !(self.emit)(LiveEvent::Revalidated(self.current.validator.clone())) {
                    self.stopped = true;
                }
            }
            return;
        }
        self.current = doc;
        self.said.retain(|k| *k != NoticeKind::ReadFailed);
        self.send_arrival(via);
    }

    fn failed(&mut self, out: &Outcome) {
        match out {
            Outcome::NotFound | Outcome::Gone => {
                if !self.gone {
                    self.gone = true;
                    self.say(
                        NoticeKind::Deleted,
                        format!("{}; the watch goes on in case it comes back", out.summary()),
                    );
                }
            }
            other => self.say(
                NoticeKind::ReadFailed,
                format!(
                    "a read failed ({}); the watch keeps trying, further apart",
                    other.summary()
                ),
            ),
        }
    }

    /// One read (conditional where the server gives a validator) that settles what a gap or an
    /// announcement may have brought.
    async fn settle(&mut self, via: Via) -> bool {
        let (out, n) = self.client.get_counted(self.url, true).await;
        self.count(n, true);
        match out {
            Outcome::Fetched {
                from_cache: true, ..
            } => {
                self.ctl.lock().stats.not_modified += 1;
                true
            }
            Outcome::Fetched { doc, .. } => {
                self.offer(doc, via, Some(n));
                true
            }
            other => {
                self.failed(&other);
                false
            }
        }
    }

    /// `settle`, tried again after 0.5, 1 and 2 s when the read fails (a change was announced:
    /// it must be read, not dropped). False when it still could not be read.
    async fn settle_retrying(&mut self, via: Via) -> bool {
        for wait in [0u64, 500, 1000, 2000] {
            if wait > 0 {
                self.pause(Duration::from_millis(wait)).await;
            }
            if self.stopped {
                return false;
            }
            if self.settle(via).await {
                return true;
            }
        }
        false
    }

    /// A whole read, without the cache (the cursor is gone: trust nothing kept).
    async fn full_read(&mut self) {
        let (out, n) = self.client.get_counted(self.url, false).await;
        self.count(n, true);
        match out {
            Outcome::Fetched { doc, .. } => self.offer(doc, Via::Poll, Some(n)),
            other => self.failed(&other),
        }
    }

    /// The pause before reconnecting: 0.25 s doubling with each drop in a row, up to the limit.
    fn backoff(&mut self) -> Duration {
        let d = Duration::from_millis(250).saturating_mul(1 << self.reconnects.min(8));
        self.reconnects += 1;
        d.min(self.opts.max_reconnect)
    }

    /// Sleeps `d`, or less when the owner asks for a poll now.
    async fn pause(&mut self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.ctl.wake.notified() => {}
        }
    }

    /// Takes a stream permit when `opts.streams` bounds them (true: the watch may hold a
    /// connection open; it keeps the permit until it polls or ends).
    fn take_slot(&mut self) -> bool {
        let Some(sem) = &self.opts.streams else {
            return true;
        };
        if self.slot.is_some() {
            return true;
        }
        match sem.clone().try_acquire_owned() {
            Ok(p) => {
                self.slot = Some(Slot::new(p, sem));
                true
            }
            Err(_) => false,
        }
    }

    /// The `Watching` words while every stream permit is taken.
    fn busy_words(&self) -> String {
        let n = self.opts.streams.as_ref().map_or(0, held);
        let why = match n {
            0 => "no stream connection to this server is free".to_string(),
            1 => "1 stream already open to this server".to_string(),
            n => format!("{n} streams already open to this server"),
        };
        format!(
            "{} ({why}; a stream is tried when one closes)",
            Feed::Poll.words(self.opts)
        )
    }

    /// Chooses the feed: the dialect's stream, a server-sent event stream the server offers at
    /// the resource's URL, else polling.
    async fn choose(&mut self) -> Feed {
        if self.opts.prefer == Prefer::Poll {
            return Feed::Poll;
        }
        let d = self.client.dialect();
        if let Some(c) = &d.changes {
            let c = c.clone();
            let cursor = self.start_cursor(&c).await;
            return Feed::Changes { feed: c, cursor };
        }
        match d.name.as_str() {
            "couchdb" => {
                return Feed::Couch {
                    continuous: self.opts.prefer != Prefer::Longpoll,
                    since: "now".into(),
                }
            }
            "kubernetes" => {
                return Feed::Kube {
                    resource_version: version_value(&self.current),
                }
            }
            "consul" => {
                return Feed::Consul {
                    index: version_value(&self.current).and_then(|v| v.parse().ok()),
                }
            }
            _ => {}
        }
        if !d.is_plain() {
            return Feed::Poll;
        }
        // Looking holds a connection open when the server streams: it needs a permit too.
        if !self.take_slot() {
            return Feed::Probe;
        }
        // Does the server stream this resource as server-sent events (Firebase's REST shape)?
        // Only the answer's head is read when it does not.
        match self
            .client
            .open_stream(self.url, &[("Accept", "text/event-stream".into())])
            .await
        {
            Ok(s)
                if s.status == 200
                    && s.header("content-type").is_some_and(|t| {
                        t.to_ascii_lowercase().starts_with("text/event-stream")
                    }) =>
            {
                self.ctl.lock().stats.requests += 1;
                Feed::Sse {
                    opened: Some(s),
                    last_id: None,
                }
            }
            Ok(_) | Err(_) => {
                self.ctl.lock().stats.requests += 1;
                self.slot = None;
                Feed::Poll
            }
        }
    }

    /// Conditional polling until stopped (None), or, given the stream semaphore, until one of
    /// its permits is free between two polls (the permit).
    async fn poll_loop(&mut self, until: Option<Arc<Semaphore>>) -> Option<Slot> {
        let base = self.opts.interval;
        let mut interval = base;
        loop {
            let cap = if self.ctl.hidden.load(Ordering::Relaxed) {
                self.opts.max_interval.saturating_mul(6)
            } else {
                self.opts.max_interval
            };
            let free = async {
                match &until {
                    Some(sem) => match sem.clone().acquire_owned().await {
                        Ok(p) => Slot::new(p, sem),
                        // Closed: no permit will ever come.
                        Err(_) => std::future::pending().await,
                    },
                    None => std::future::pending().await,
                }
            };
            let woken = tokio::select! {
                _ = tokio::time::sleep(interval) => false,
                _ = self.ctl.wake.notified() => true,
                slot = free => return Some(slot),
            };
            if woken {
                interval = base;
            }
            let sent = self.current.validator.clone();
            let (out, n) = self.client.get_counted(self.url, true).await;
            self.count(n, true);
            let mut changed = false;
            match out {
                Outcome::Fetched {
                    from_cache: true, ..
                } => {
                    self.ctl.lock().stats.not_modified += 1;
                    self.said.retain(|k| *k != NoticeKind::ReadFailed);
                }
                Outcome::Fetched { doc, .. } => {
                    if same_text(&doc.text, &self.current.text) {
                        let header = self.client.dialect().header_version();
                        match (&sent, &doc.validator) {
                            (Some(s), Some(v)) if header && s == v => self.say(
                                NoticeKind::FullBodyPolls,
                                format!(
                                    "the server answered 200 with the whole document ({n} \
                                     bytes) to an If-None-Match that matched: every poll \
                                     costs the full document"
                                ),
                            ),
                            (_, None) if header => self.say(
                                NoticeKind::NoValidator,
                                format!(
                                    "the server gives no ETag or Last-Modified: every poll \
                                     costs the full document ({n} bytes)"
                                ),
                            ),
                            _ => {}
                        }
                    } else {
                        changed = true;
                    }
                    self.offer(doc, Via::Poll, Some(n));
                }
                other => self.failed(&other),
            }
            if self.stopped {
                return None;
            }
            interval = if changed {
                base
            } else {
                interval.mul_f64(1.5).min(cap).max(base)
            };
        }
    }

    /// Reads a stream to its end, handing each chunk to `each`; `End::Dropped` when it broke.
    async fn pump(
        &mut self,
        mut s: crate::client::Streaming,
        mut each: impl FnMut(&mut Self, &[u8]) -> Option<End>,
        mut after: impl AsyncStep,
    ) -> End {
        loop {
            match s.chunk(self.opts.stream_idle).await {
                Ok(Some(c)) => {
                    self.count(c.len() as u64, false);
                    if let Some(end) = each(self, &c) {
                        return end;
                    }
                    if let Some(end) = after.step(self).await {
                        return end;
                    }
                    if self.stopped {
                        return End::Stop;
                    }
                }
                Ok(None) => return End::Dropped("the server ended it".into()),
                Err(why) => return End::Dropped(why.to_string()),
            }
        }
    }

    // ---- CouchDB `_changes` ----

    async fn couch(&mut self, continuous: bool, since: &mut String) -> End {
        let Some((db, id)) = couch_parts(self.url) else {
            return End::Refused(
                "the URL does not name a CouchDB document (…/DATABASE/DOCUMENT)".into(),
            );
        };
        let ids = serde_json::to_string(&[&id]).unwrap_or_default();
        let base = format!("{db}/_changes?filter=_doc_ids&doc_ids={}", pct(&ids));
        if continuous {
            let idle = self.opts.stream_idle.min(Duration::from_secs(60));
            let heartbeat = (idle.as_millis() / 3).max(100);
            let url = format!(
                "{base}&feed=continuous&heartbeat={heartbeat}&since={}",
                pct(since)
            );
            let s = match self.open(&url).await {
                Ok(s) => s,
                Err(end) => return end,
            };
            if s.status != 200 {
                return self.not_opened(s, since != "now").await;
            }
            let mut lines = JsonLines::default();
            let hit = AtomicBool::new(false);
            let since_cell = Mutex::new(since.clone());
            let end = self
                .pump(
                    s,
                    |w, c| match lines.feed(c) {
                        Err(Garbage(g)) => Some(End::Garbage(g)),
                        Ok(vals) => {
                            for v in vals {
                                if let Some(seq) = v.get("seq") {
                                    *since_cell.lock().unwrap_or_else(|p| p.into_inner()) =
                                        seq_text(seq);
                                    if v.get("id").and_then(Value::as_str) == Some(id.as_str()) {
                                        hit.store(true, Ordering::Relaxed);
                                    }
                                } else if v.get("last_seq").is_some() {
                                    return Some(End::Dropped("the feed ended".into()));
                                } else {
                                    return Some(End::Garbage(format!(
                                        "a line that is not a change: {}",
                                        cut(&v.to_string())
                                    )));
                                }
                            }
                            let _ = w;
                            None
                        }
                    },
                    Settle(&hit),
                )
                .await;
            *since = since_cell.into_inner().unwrap_or_else(|p| p.into_inner());
            return end;
        }
        let wait = self.long_wait();
        loop {
            let url = format!(
                "{base}&feed=longpoll&timeout={}&since={}",
                wait.as_millis(),
                pct(since)
            );
            let ex = match self.client.exchange("GET", &url, &[], None).await {
                Ok(e) => e,
                Err(out) => return End::Dropped(out.summary()),
            };
            self.count(ex.body.len() as u64, true);
            if ex.status != 200 {
                return if since != "now" && matches!(ex.status, 400 | 410) {
                    End::CursorGone(format!("the changes feed refused since={since}"))
                } else {
                    End::Refused(format!("the changes feed answered {}", ex.status))
                };
            }
            let Ok(v) = serde_json::from_str::<Value>(&ex.body) else {
                return End::Garbage(format!("an answer that is not JSON: {}", cut(&ex.body)));
            };
            let Some(results) = v.get("results").and_then(Value::as_array) else {
                return End::Garbage(format!("an answer without results: {}", cut(&ex.body)));
            };
            let hit = results
                .iter()
                .any(|r| r.get("id").and_then(Value::as_str) == Some(id.as_str()));
            if let Some(seq) = v.get("last_seq") {
                *since = seq_text(seq);
            }
            if hit {
                self.settle(Via::Stream).await;
            }
            if self.stopped {
                return End::Stop;
            }
        }
    }

    /// How long a long poll / blocking query may wait: under the connection's time limit.
    fn long_wait(&self) -> Duration {
        let t = self.client.config().timeout;
        t.saturating_sub(Duration::from_secs(2))
            .max(t / 2)
            .min(Duration::from_secs(300))
    }

    async fn open(&mut self, url: &str) -> Result<crate::client::Streaming, End> {
        self.open_with(url, &[]).await
    }

    async fn open_with(
        &mut self,
        url: &str,
        headers: &[(&'static str, String)],
    ) -> Result<crate::client::Streaming, End> {
        self.ctl.lock().stats.requests += 1;
        match self.client.open_stream(url, headers).await {
            Ok(s) => Ok(s),
            Err(out) => Err(End::Dropped(out.summary())),
        }
    }

    /// A stream that did not open with 200: its cursor is gone (410, or 400 to an old cursor),
    /// or the server does not offer it here.
    async fn not_opened(&mut self, s: crate::client::Streaming, had_cursor: bool) -> End {
        let status = s.status;
        let body = s.rest(Duration::from_secs(2)).await;
        self.count(body.len() as u64, false);
        let words = self
            .client
            .auth()
            .excerpt(&String::from_utf8_lossy(&body), 200);
        if status == 410 || (had_cursor && status == 400) {
            End::CursorGone(format!(
                "the server answered {status}: it no longer has the cursor"
            ))
        } else if matches!(status, 500..=599 | 429) {
            End::Dropped(format!("the server answered {status}"))
        } else {
            End::Refused(format!(
                "the change stream was answered {status} ({})",
                words.trim()
            ))
        }
    }

    // ---- Kubernetes watch ----

    async fn kube(&mut self, rv: &mut Option<String>) -> End {
        let Some((collection, name)) = self.url.rsplit_once('/') else {
            return End::Refused("the URL does not name an object".into());
        };
        let name = name.split('?').next().unwrap_or(name).to_string();
        let mut url = format!(
            "{collection}?watch=1&allowWatchBookmarks=true&fieldSelector={}",
            pct(&format!("metadata.name={name}"))
        );
        if let Some(v) = rv.as_deref() {
            url.push_str(&format!("&resourceVersion={}", pct(v)));
        }
        let s = match self.open(&url).await {
            Ok(s) => s,
            Err(end) => return end,
        };
        if s.status != 200 {
            return self.not_opened(s, rv.is_some()).await;
        }
        let mut lines = JsonLines::default();
        let dialect = self.client.dialect().clone();
        let rv_cell = Mutex::new(rv.clone());
        let end = self
            .pump(
                s,
                |w, c| {
                    let vals = match lines.feed(c) {
                        Ok(v) => v,
                        Err(Garbage(g)) => return Some(End::Garbage(g)),
                    };
                    for v in vals {
                        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
                        let obj = v.get("object").cloned().unwrap_or(Value::Null);
                        let obj_rv = obj
                            .pointer("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        match kind {
                            "ADDED" | "MODIFIED" => {
                                if obj_rv.is_some() {
                                    *rv_cell.lock().unwrap_or_else(|p| p.into_inner()) = obj_rv;
                                }
                                let got = dialect.on_read(Received {
                                    text: obj.to_string(),
                                    validator: None,
                                    warnings: vec![],
                                });
                                match got {
                                    Ok(doc) => w.offer(doc, Via::Stream, None),
                                    Err(e) => {
                                        return Some(End::Garbage(format!(
                                            "an object the dialect cannot read ({e})"
                                        )))
                                    }
                                }
                            }
                            "BOOKMARK" => {
                                if obj_rv.is_some() {
                                    *rv_cell.lock().unwrap_or_else(|p| p.into_inner()) = obj_rv;
                                }
                            }
                            "DELETED" => {
                                w.gone = true;
                                w.say(
                                    NoticeKind::Deleted,
                                    "the object was deleted on the server; the watch goes on \
                                     in case it comes back"
                                        .into(),
                                );
                            }
                            "ERROR" => {
                                let code = obj.get("code").and_then(Value::as_u64);
                                return Some(if code == Some(410) {
                                    End::CursorGone(
                                        "the watch's resourceVersion is too old (410 Gone)".into(),
                                    )
                                } else {
                                    End::Dropped(format!(
                                        "the watch reported an error ({})",
                                        cut(&obj.to_string())
                                    ))
                                });
                            }
                            _ => {
                                return Some(End::Garbage(format!(
                                    "a line that is not a watch event: {}",
                                    cut(&v.to_string())
                                )))
                            }
                        }
                    }
                    None
                },
                Nothing,
            )
            .await;
        *rv = rv_cell.into_inner().unwrap_or_else(|p| p.into_inner());
        end
    }

    // ---- Consul blocking queries ----

    /// Blocking queries (`?index=N&wait=`), as Consul's documentation asks clients to make
    /// them: an index that went backwards starts over from a full read, an index of 0 is taken
    /// as 1 (0 would never block), and a server that answers at once without a change is not
    /// asked again at once.
    async fn consul(&mut self, index: &mut Option<u64>) -> End {
        let wait = self.long_wait();
        let wait_secs = wait.as_secs().max(1);
        // Answers in a row that came back early with nothing new.
        let mut early = 0u32;
        loop {
            let asked = index.unwrap_or(0);
            let sep = if self.url.contains('?') { '&' } else { '?' };
            let url = format!("{}{sep}index={asked}&wait={wait_secs}s", self.url);
            let sent = Instant::now();
            let (out, n) = self.client.get_counted(&url, false).await;
            self.count(n, true);
            let doc = match out {
                Outcome::Fetched { doc, .. } => doc,
                other => {
                    self.failed(&other);
                    return End::Dropped(other.summary());
                }
            };
            let Some(next) = version_value(&doc).and_then(|v| v.parse::<u64>().ok()) else {
                self.offer(doc, Via::Stream, Some(n));
                return End::Refused(
                    "the answer carries no X-Consul-Index, so a blocking query cannot wait for                      a change"
                        .into(),
                );
            };
            if next < asked {
                // A restored snapshot, a new leader: what was announced since may be anything.
                return End::CursorGone(format!(
                    "the Consul index went backwards ({next} after {asked})"
                ));
            }
            let moved = next > asked;
            *index = Some(next.max(1));
            self.offer(doc, Via::Stream, Some(n));
            if self.stopped {
                return End::Stop;
            }
            if asked > 0 && !moved && sent.elapsed() < Duration::from_secs(wait_secs) / 2 {
                early += 1;
                if early >= 3 {
                    return End::Refused(format!(
                        "the server answers a blocking query at once without a change                          (?index={asked}&wait={wait_secs}s is not waited on)"
                    ));
                }
                self.pause(Duration::from_millis(250) * early).await;
            } else {
                early = 0;
            }
        }
    }

    // ---- Server-sent events ----

    async fn sse(
        &mut self,
        opened: Option<crate::client::Streaming>,
        last_id: &mut Option<String>,
    ) -> End {
        let s = match opened {
            Some(s) => s,
            None => {
                let mut h = vec![("Accept", "text/event-stream".to_string())];
                if let Some(id) = last_id.as_ref() {
                    h.push(("Last-Event-ID", id.clone()));
                }
                match self.open_with(self.url, &h).await {
                    Ok(s) => s,
                    Err(end) => return end,
                }
            }
        };
        if s.status != 200 {
            return self.not_opened(s, false).await;
        }
        if !s
            .header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/event-stream"))
        {
            return End::Garbage("an answer that is not text/event-stream".into());
        }
        let mut parser = EventStream::default();
        let hit = AtomicBool::new(false);
        let id_cell = Mutex::new(last_id.clone());
        let end = self
            .pump(
                s,
                |_, c| {
                    let evs = match parser.feed(c) {
                        Ok(e) => e,
                        Err(Garbage(g)) => return Some(End::Garbage(g)),
                    };
                    for e in evs {
                        if e.id.is_some() {
                            *id_cell.lock().unwrap_or_else(|p| p.into_inner()) = e.id.clone();
                        }
                        match e.event.as_str() {
                            "put" | "patch" => {
                                let ok = serde_json::from_str::<Value>(&e.data)
                                    .ok()
                                    .is_some_and(|v| v.get("path").is_some_and(Value::is_string));
                                if !ok {
                                    return Some(End::Garbage(format!(
                                        "a {} event whose data is not {{\"path\", \"data\"}}: {}",
                                        e.event,
                                        cut(&e.data)
                                    )));
                                }
                                hit.store(true, Ordering::Relaxed);
                            }
                            "keep-alive" => {}
                            "cancel" | "auth_revoked" => {
                                return Some(End::Refused(format!(
                                    "the server ended the event stream ({})",
                                    e.event
                                )))
                            }
                            // A plain event stream: any message means "changed".
                            _ => hit.store(true, Ordering::Relaxed),
                        }
                    }
                    None
                },
                Settle(&hit),
            )
            .await;
        *last_id = id_cell.into_inner().unwrap_or_else(|p| p.into_inner());
        end
    }

    // ---- A dialect's changes endpoint ----

    async fn start_cursor(&mut self, feed: &ChangesFeed) -> Option<String> {
        let at = feed.start_url.as_deref()?;
        let url = join(self.url, at)?;
        let ex = self.client.exchange("GET", &url, &[], None).await.ok()?;
        self.count(ex.body.len() as u64, true);
        let v: Value = serde_json::from_str(&ex.body).ok()?;
        v.pointer(&feed.cursor).map(cursor_text)
    }

    async fn changes(&mut self, feed: &ChangesFeed, cursor: &mut Option<String>) -> End {
        // A change listed whose read failed: read at the next turn (the cursor has moved on).
        let mut unread = false;
        loop {
            let Some(c) = cursor.clone() else {
                return End::Refused(
                    "no starting cursor could be read for the changes endpoint".into(),
                );
            };
            let Some(url) = join(self.url, &feed.url.replace("{cursor}", &pct(&c))) else {
                return End::Refused(format!("the changes URL {:?} does not resolve", feed.url));
            };
            let ex = match self.client.exchange("GET", &url, &[], None).await {
                Ok(e) => e,
                Err(out) => return End::Dropped(out.summary()),
            };
            self.count(ex.body.len() as u64, true);
            if feed.gone_statuses.contains(&ex.status) {
                return End::CursorGone(format!(
                    "the changes endpoint answered {} to cursor {c}",
                    ex.status
                ));
            }
            if !(200..300).contains(&ex.status) {
                return End::Dropped(format!("the changes endpoint answered {}", ex.status));
            }
            let Ok(v) = serde_json::from_str::<Value>(&ex.body) else {
                return End::Garbage(format!("an answer that is not JSON: {}", cut(&ex.body)));
            };
            let listed = match v.pointer(&feed.changes) {
                None | Some(Value::Null) => false,
                Some(Value::Array(a)) => !a.is_empty(),
                Some(_) => {
                    return End::Garbage(format!("an answer whose {} is not a list", feed.changes))
                }
            };
            if let Some(next) = v.pointer(&feed.cursor) {
                *cursor = Some(cursor_text(next));
            }
            if listed || unread {
                unread = !self.settle_retrying(Via::Stream).await;
            }
            if self.stopped {
                return End::Stop;
            }
            self.pause(self.opts.interval).await;
        }
    }
}

/// What runs after each chunk of a stream (async): a read when the chunk announced a change.
trait AsyncStep {
    async fn step(&mut self, w: &mut Watcher<'_>) -> Option<End>;
}

struct Nothing;

impl AsyncStep for Nothing {
    async fn step(&mut self, _: &mut Watcher<'_>) -> Option<End> {
        None
    }
}

/// Settles (one conditional read) when the flag was raised by the chunk.
struct Settle<'f>(&'f AtomicBool);

impl AsyncStep for Settle<'_> {
    async fn step(&mut self, w: &mut Watcher<'_>) -> Option<End> {
        if self.0.swap(false, Ordering::Relaxed) && !w.settle_retrying(Via::Stream).await {
            // Still unread: the change stays announced and is read after the next chunk (a
            // heartbeat, or another change), never dropped.
            self.0.store(true, Ordering::Relaxed);
        }
        None
    }
}

fn seq_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cursor_text(v: &Value) -> String {
    seq_text(v)
}

fn cut(s: &str) -> String {
    let t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Percent-encodes everything but unreserved characters (a query value).
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `reference` resolved against `base` (RFC 3986).
fn join(base: &str, reference: &str) -> Option<String> {
    let b: reqwest::Url = base.parse().ok()?;
    b.join(reference).ok().map(String::from)
}

/// A CouchDB document URL's database URL and document id (`_design/x`, `_local/x` kept whole).
fn couch_parts(url: &str) -> Option<(String, String)> {
    let u: reqwest::Url = url.parse().ok()?;
    let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return None;
    }
    let (db_end, id) = match segs[segs.len() - 2] {
        "_design" | "_local" if segs.len() >= 3 => (
            segs.len() - 2,
            format!("{}/{}", segs[segs.len() - 2], segs[segs.len() - 1]),
        ),
        _ => (segs.len() - 1, segs[segs.len() - 1].to_string()),
    };
    let id = percent_decode(&id);
    let mut db = u.clone();
    db.set_query(None);
    db.set_path(&format!("/{}", segs[..db_end].join("/")));
    Some((db.to_string().trim_end_matches('/').to_string(), id))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn couch_urls() {
        assert_eq!(
            couch_parts("http://h:5/db/doc1"),
            Some(("http://h:5/db".into(), "doc1".into()))
        );
        assert_eq!(
            couch_parts("http://h/x/db/_design/v"),
            Some(("http://h/x/db".into(), "_design/v".into()))
        );
        assert_eq!(
            couch_parts("http://h/db/a%2Fb"),
            Some(("http://h/db".into(), "a/b".into()))
        );
        assert_eq!(couch_parts("http://h/db"), None);
    }

    #[test]
    fn relative_changes_urls() {
        assert_eq!(
            join("http://h/labels/Label_1", "../history?startHistoryId=5").as_deref(),
            Some("http://h/history?startHistoryId=5")
        );
        assert_eq!(
            join("http://h/gmail/v1/users/me/labels/L", "../profile").as_deref(),
            Some("http://h/gmail/v1/users/me/profile")
        );
        assert_eq!(pct("a b/\"é"), "a%20b%2F%22%C3%A9");
    }

    #[test]
    fn words_say_how() {
        let o = LiveOptions {
            interval: Duration::from_secs(10),
            max_interval: Duration::from_secs(10),
            ..LiveOptions::default()
        };
        assert_eq!(
            Feed::Poll.words(&o),
            "polling every 10 s, 304 when unchanged"
        );
        assert_eq!(
            Feed::Couch {
                continuous: true,
                since: "now".into()
            }
            .words(&o),
            "live: CouchDB changes feed (continuous)"
        );
    }

    #[test]
    fn stream_permits_held_are_counted_per_semaphore() {
        let a = Arc::new(Semaphore::new(2));
        let b = Arc::new(Semaphore::new(1));
        let take = |s: &Arc<Semaphore>| Slot::new(s.clone().try_acquire_owned().unwrap(), s);
        let (s1, s2, s3) = (take(&a), take(&a), take(&b));
        assert_eq!((held(&a), held(&b)), (2, 1));
        drop(s1);
        assert_eq!((held(&a), a.available_permits()), (1, 1));
        drop((s2, s3));
        assert_eq!((held(&a), held(&b)), (0, 0));
        assert_eq!((a.available_permits(), b.available_permits()), (2, 1));
    }

    /// A server that answers every blocking query at once with the same index (it ignores
    /// `?index=`) is not asked in a loop: a few tries further apart, then polling, said.
    #[tokio::test]
    async fn a_consul_that_does_not_block_is_not_asked_in_a_loop() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/kv/k?raw", listener.local_addr().unwrap());
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let a2 = asked.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                a2.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    let body = "{\"a\": 1}";
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                         X-Consul-Index: 5\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                });
            }
        });
        let client = Client::new(
            crate::ClientConfig {
                dialect: crate::dialect::Dialect::preset("consul").unwrap(),
                ..Default::default()
            },
            crate::Auth::None,
        )
        .unwrap();
        let opts = LiveOptions {
            interval: Duration::from_secs(60),
            ..LiveOptions::default()
        };
        let ctl = Control::default();
        let notices = Mutex::new(vec![]);
        let mut emit = |e: LiveEvent| {
            if let LiveEvent::Notice(n) = e {
                let refused = n.kind == NoticeKind::StreamRefused;
                notices.lock().unwrap().push(n.words);
                return !refused;
            }
            true
        };
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            watch(&client, &url, &opts, &ctl, &mut emit),
        )
        .await;
        server.abort();
        assert!(
            matches!(r, Ok(Ok(()))),
            "the watch gave up the blocking queries"
        );
        let words = notices.into_inner().unwrap();
        assert_eq!(words[0], "live: Consul blocking query", "{words:?}");
        assert!(
            words[1].contains("answers a blocking query at once without a change"),
            "{words:?}"
        );
        // The first read, three queries that came back at once, the read that settles.
        assert_eq!(asked.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn plain_polling_cost_accrues_by_interval() {
        let mut m = Meter {
            full: 1000,
            interval: 1.0,
            ..Meter::default()
        };
        let t = Instant::now();
        m.accrue(t);
        m.accrue(t + Duration::from_secs(5));
        assert_eq!(m.accrued as u64, 5000);
    }
}
