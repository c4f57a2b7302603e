//! The built-in demo server: JSON resources shaped like the real use (Gmail-style labels, a
//! settings document, feature flags with rules, posts) behind RFC 9110 preconditions.
//!
//! Owns: strong ETags (a hash of the stored text), If-Match / If-None-Match / If-Unmodified-Since
//! evaluated in the order of RFC 9110 §13.2.2 (`precondition::evaluate`), 428 for unconditional
//! writes (switchable, RFC 6585 §3), PATCH with `application/merge-patch+json` (RFC 7396) or
//! `application/json-patch+json` (RFC 6902; a failed `test` answers 409), 410 after a delete,
//! and control endpoints under `/_demo/` so "another admin" can change a resource and tests can
//! inject faults (status codes, delays, dropped connections, odd bodies). Some resources speak
//! other APIs' dialects (`dialects.rs`): a Kubernetes ConfigMap (`metadata.resourceVersion`,
//! 409 `Status`), a Grafana dashboard (`version` in the body, 412 `version-mismatch`), an
//! Elasticsearch document (`?if_seq_no=&if_primary_term=`, 409), Confluence pages (the version
//! plus one, 409) and a Consul key (`?cas=`, `false`), for the client's dialects. Change feeds
//! (`live.rs`): server-sent events for every resource, a Kubernetes-style `?watch=1`, and a
//! Gmail-style `history?startHistoryId=` for the labels.
//!
//! Must never: listen beyond the address it is given (127.0.0.1 by default), or skip the
//! precondition check for a write.

mod control;
mod dialects;
mod faults;
mod handlers;
mod live;
mod reply;
pub mod seed;
mod store;

pub use faults::Fault;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Store;

/// How the demo server behaves.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Answer 428 to writes without If-Match / If-None-Match / If-Unmodified-Since.
    pub require_preconditions: bool,
    /// When set, every resource request needs `Authorization: Bearer <token>` (401 otherwise).
    pub bearer_token: Option<String>,
    /// Behave like an Express-style JSON server that trusts every writer: accept If-Match and
    /// If-None-Match and ignore them, and answer PATCH 200 with the unchanged document and its
    /// ETag without applying the patch (`serve-demo --careless`). For trying what ifmatch does
    /// on a server that does not protect.
    pub careless: bool,
    /// The status a stale write is refused with: 412 (RFC 9110), or 409 as CouchDB-style APIs
    /// answer (`POST /_demo/config {"stale_status": 409}`), to try what ifmatch does there.
    pub stale_status: u16,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            require_preconditions: true,
            bearer_token: None,
            careless: false,
            stale_status: 412,
        }
    }
}

/// The server's state, shared by every request. A write holds the store's lock from its
/// precondition check to its store, so check and write are one atomic step.
struct DemoState {
    cfg: Mutex<DemoConfig>,
    store: Mutex<Store>,
    faults: Mutex<Vec<Fault>>,
    /// Requests answered (the `x-request-id` of each answer).
    requests: AtomicU64,
    /// The next id a POST gives a created item.
    next_id: AtomicU64,
    /// Resources speaking Kubernetes', Grafana's and Elasticsearch's dialects.
    dialects: Mutex<dialects::Dialects>,
    /// Counts writes: the change streams wait on it (`live`).
    changes: tokio::sync::watch::Sender<u64>,
    /// The labels' change history (Gmail's `history?startHistoryId=`).
    history: Mutex<live::History>,
}

/// A running demo server.
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<DemoState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl DemoServer {
    /// Starts on `addr` (use `127.0.0.1:0` for an ephemeral port) with the seed resources.
    pub async fn start(addr: SocketAddr, cfg: DemoConfig) -> std::io::Result<DemoServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(DemoState {
            cfg: Mutex::new(cfg),
            store: Mutex::new(store::seeded()),
            faults: Mutex::new(vec![]),
            requests: AtomicU64::new(0),
            next_id: AtomicU64::new(100),
            dialects: Mutex::new(dialects::seeded()),
            changes: tokio::sync::watch::Sender::new(0),
            history: Mutex::new(live::History::default()),
        });
        let app = Router::new()
            .fallback(handlers::handle)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(DemoServer {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// "Another admin" changes a resource: applies `patch` (RFC 7396) or a canned change.
    /// Returns the new text, or None when there is no such resource.
    pub fn another_admin(&self, path: &str, patch: Option<&Value>) -> Option<String> {
        let out = store::another_admin(&mut self.state.store.lock().unwrap(), path, patch);
        live::changed(&self.state, path);
        out
    }

    /// The stored text of a resource (None when absent or deleted).
    pub fn text(&self, path: &str) -> Option<String> {
        match self.state.store.lock().unwrap().get(path) {
            Some(store::Entry::Live { text, .. }) => Some(text.clone()),
            _ => None,
        }
    }

    /// Adds a fault (as `POST /_demo/faults` does).
    pub fn add_fault(&self, f: Fault) {
        self.state.faults.lock().unwrap().push(f);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.faults.lock().unwrap().clear();
    }

    /// Switches the 428 answer to unconditional writes.
    pub fn set_require_preconditions(&self, on: bool) {
        self.state.cfg.lock().unwrap().require_preconditions = on;
    }

    /// Stops accepting connections and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
