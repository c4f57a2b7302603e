//! Answers the live watch (`crate::live`) holds open or measures: a change stream read chunk by
//! chunk (Kubernetes watch, CouchDB's continuous feed, server-sent events), and reads that say
//! how many body bytes they cost.
//!
//! Must never: follow a redirect with the credential (a stream is not followed at all: a
//! redirect is an answer the watch reports), keep the whole-request time limit on a stream (it
//! is meant to stay open; the watch bounds the silence between chunks instead), or put a secret
//! in the trail or an error text.

use super::auth::authorize;
use super::Client;
use crate::outcome::Outcome;
use crate::trail::{redact_url, rfc3339_now, TrailEntry};
use reqwest::Url;
use std::time::{Duration, Instant};

/// A change stream as the server opened it: its status and headers, and its body chunk by chunk.
pub struct Streaming {
    /// The answer's status.
    pub status: u16,
    resp: reqwest::Response,
    auth: super::Auth,
    limit: usize,
}

impl std::fmt::Debug for Streaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("status", &self.status)
            .finish()
    }
}

impl Streaming {
    /// A header of the answer, as text (None: absent or not text).
    pub fn header(&self, name: &str) -> Option<String> {
        self.resp
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The next piece of the body: Ok(None) when the server ended it; an error when the
    /// connection broke or nothing came for `idle`.
    pub async fn chunk(&mut self, idle: Duration) -> Result<Option<Vec<u8>>, StreamBroke> {
        match tokio::time::timeout(idle, self.resp.chunk()).await {
            Err(_) => Err(StreamBroke::Idle {
                secs: idle.as_secs(),
            }),
            Ok(Ok(c)) => Ok(c.map(|b| b.to_vec())),
            Ok(Err(e)) => Err(StreamBroke::Connection {
                detail: self.auth.redact(&describe(&e)),
            }),
        }
    }

    /// The rest of the body (an error answer's words), at most the connection's body limit,
    /// waiting at most `wait`.
    pub async fn rest(mut self, wait: Duration) -> Vec<u8> {
        let mut out = vec![];
        let started = Instant::now();
        while out.len() < self.limit {
            let left = wait.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(c))) => out.extend_from_slice(&c),
                _ => break,
            }
        }
        out.truncate(self.limit);
        out
    }
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the stream was cut off"
    } else {
        "the connection broke"
    };
    match std::error::Error::source(e) {
        Some(s) if !s.to_string().is_empty() => format!("{what}: {s}"),
        _ => what.to_string(),
    }
}

impl Client {
    /// Reads a resource like `get` (`revalidate`: with If-None-Match from the cache) and says how
    /// many body bytes the answer carried (0 for a 304).
    pub async fn get_counted(&self, url: &str, revalidate: bool) -> (Outcome, u64) {
        let mut bytes = 0;
        let out = self.read_counted(url, revalidate, &mut bytes).await;
        (self.scrubbed(out), bytes)
    }

    /// Opens a GET meant to stay open (a change stream) with these extra headers. The
    /// connection's time limit applies to making the connection and to the answer's head, not
    /// to the body, which the caller reads with `Streaming::chunk`. One trail record, at open.
    pub async fn open_stream(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
    ) -> Result<Streaming, Outcome> {
        let parsed: Url = url.parse().map_err(|e| Outcome::NetworkBeforeSend {
            detail: format!("the URL is not valid: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Outcome::NetworkBeforeSend {
                detail: format!(
                    "the URL must start with http:// or https://, not {}:",
                    parsed.scheme()
                ),
            });
        }
        let started = Instant::now();
        let mut entry = TrailEntry {
            at: rfc3339_now(),
            method: "GET".into(),
            url: redact_url(&parsed),
            request_id: None,
            preconditions: vec![],
            status: None,
            validator: None,
            duration_ms: 0,
            note: None,
        };
        let mut req = self
            .http
            .get(parsed)
            // A stream stays open for hours: the whole-request limit would cut it. The head of
            // the answer is still bounded below.
            .timeout(Duration::from_secs(7 * 24 * 3600));
        for (name, value) in headers {
            req = req.header(*name, value.as_str());
        }
        req = authorize(req, &self.auth);
        let res = tokio::time::timeout(self.cfg.timeout, req.send()).await;
        entry.duration_ms = started.elapsed().as_millis() as u64;
        let out = match res {
            Err(_) => Err(Outcome::NetworkAfterSend {
                detail: format!(
                    "the change stream's answer did not begin within {} s",
                    self.cfg.timeout.as_secs()
                ),
            }),
            Ok(Err(e)) if e.is_connect() => Err(Outcome::NetworkBeforeSend {
                detail: describe(&e),
            }),
            Ok(Err(e)) => Err(Outcome::NetworkAfterSend {
                detail: describe(&e),
            }),
            Ok(Ok(resp)) => Ok(Streaming {
                status: resp.status().as_u16(),
                resp,
                auth: self.auth.clone(),
                limit: self.cfg.max_body_bytes,
            }),
        };
        match &out {
            Ok(s) => {
                entry.status = Some(s.status);
                entry.validator = s.header("etag");
                entry.note = Some("change stream: held open, its events are not requests".into());
            }
            Err(o) => entry.note = Some(format!("not opened: {}", o.summary())),
        }
        self.trail.push(entry.redacted(|t| self.auth.redact(t)));
        out.map_err(|o| self.scrubbed(o))
    }
}

/// Why a stream ended without the server ending it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamBroke {
    /// Nothing arrived for this many seconds, not even a heartbeat.
    #[error("nothing arrived for {secs} s (not even a heartbeat)")]
    Idle {
        /// The idle limit.
        secs: u64,
    },
    /// The connection broke (the transport's words, the credential redacted).
    #[error("{detail}")]
    Connection {
        /// What broke.
        detail: String,
    },
}
