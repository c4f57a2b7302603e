//! The server's own write lock (WebDAV class 2, RFC 4918 §9.10 LOCK, §9.11 UNLOCK, §10.4 If):
//! taken around read → compare → write, so that every writer that honours the server's locks —
//! ifmatch or not — is held off for that moment, and the write is atomic even where the server's
//! If-Match check is not (Apache mod_dav's races its own writes).
//!
//! Owns: taking an exclusive write lock with a short timeout (a crash leaves a lock that expires
//! by itself), waiting with backoff while another holder has it, sending the token with the
//! writes to that URL while it is held, and releasing it.
//!
//! Must never: let the lock token leave the requests that need it (it is not in the trail — the
//! trail records `If-…` preconditions and the WebDAV `If` header is not one — nor in any outcome,
//! message or `Debug` output), or hold a lock past the save that took it.

use super::Client;
use reqwest::Method;
use std::time::{Duration, Instant};

/// How long the server keeps a lock when nobody releases it (a killed save).
pub const LOCK_SECONDS: u64 = 5;

/// What asking for the server's lock came to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockTaken {
    /// Held: the writes to that URL carry its token until `unlock`.
    Held,
    /// Not asked for: the connection does not use the server's lock (`Client::use_server_lock`).
    NotWanted,
    /// Another holder kept it for the whole wait.
    Busy {
        /// How long ifmatch waited.
        waited_ms: u64,
    },
    /// The server does not offer it here (405, 501, 400, 403, …, or an answer without a token).
    NotOffered {
        /// The status the LOCK was answered with.
        status: u16,
    },
    /// The LOCK got no usable answer (network, 5xx).
    Failed {
        /// What went wrong, in a few words.
        detail: String,
    },
}

const LOCK_BODY: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>\
<D:locktype><D:write/></D:locktype><D:owner>ifmatch</D:owner></D:lockinfo>";

impl Client {
    /// Keeps `token` (and its part after the scheme, `opaquelocktoken:…`, which other spellings
    /// keep whole) among the strings the trail never shows.
    pub(super) fn remember_lock_token(&self, token: &str) {
        let mut known = self.lock_tokens.lock().unwrap_or_else(|p| p.into_inner());
        let tail = token.split_once(':').map(|(_, t)| t);
        for t in std::iter::once(token).chain(tail) {
            if t.len() >= 8 && !known.iter().any(|k| k == t) {
                known.push(t.to_string());
            }
        }
        // Longest first: a token is replaced before the tail it contains.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }

    /// The lock tokens this client was handed.
    pub(super) fn lock_tokens(&self) -> Vec<String> {
        self.lock_tokens
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// Takes an exclusive write lock on `url`, waiting up to `wait` (backing off from 20 ms to
    /// 320 ms) while another holder has it (423).
    pub async fn lock(&self, url: &str, wait: Duration) -> LockTaken {
        if !self.lock_wanted.load(std::sync::atomic::Ordering::Relaxed) {
            return LockTaken::NotWanted;
        }
        self.take_lock(url, wait).await
    }

    /// Takes the lock whether or not the connection uses it for saves (the server check's
    /// probe); writes to `url` carry its token until `unlock`.
    pub async fn take_lock(&self, url: &str, wait: Duration) -> LockTaken {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        let method = Method::from_bytes(b"LOCK").expect("LOCK is a method name");
        let headers = [
            ("Timeout", format!("Second-{LOCK_SECONDS}")),
            ("Depth", "0".to_string()),
            ("Content-Type", "application/xml; charset=utf-8".to_string()),
        ];
        loop {
            let answer = match self
                .execute(method.clone(), url, &headers, Some(LOCK_BODY.as_bytes()))
                .await
            {
                Ok(a) => a,
                Err(out) => {
                    return LockTaken::Failed {
                        detail: out.summary(),
                    }
                }
            };
            let status = answer.status.as_u16();
            if status == 423 {
                if started.elapsed() + pause > wait {
                    return LockTaken::Busy {
                        waited_ms: started.elapsed().as_millis() as u64,
                    };
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(320));
                continue;
            }
            if (500..600).contains(&status) {
                return LockTaken::Failed {
                    detail: format!("the server answered {status}"),
                };
            }
            let token = answer
                .headers
                .get("lock-token")
                .and_then(|v| v.to_str().ok())
                .map(|t| {
                    t.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
                .filter(|t| !t.is_empty() && !t.contains(['<', '>', '\r', '\n']));
            return match (answer.status.is_success(), token) {
                (true, Some(token)) => {
                    self.remember_lock_token(&token);
                    self.locks
                        .lock()
                        .expect("the lock table is never poisoned")
                        .insert(url.to_string(), token);
                    LockTaken::Held
                }
                (true, None) => {
                    // Locked, and no token to write with or to release it by: it expires by
                    // itself; writing now would be refused (423) by the server's own rule.
                    LockTaken::NotOffered { status }
                }
                (false, _) => LockTaken::NotOffered { status },
            };
        }
    }

    /// Releases the lock this client holds on `url` (none held: nothing is sent). A release the
    /// server does not confirm is left to the lock's timeout.
    pub async fn unlock(&self, url: &str) -> bool {
        let Some(token) = self
            .locks
            .lock()
            .expect("the lock table is never poisoned")
            .remove(url)
        else {
            return true;
        };
        let method = Method::from_bytes(b"UNLOCK").expect("UNLOCK is a method name");
        let headers = [("Lock-Token", format!("<{token}>"))];
        matches!(
            self.execute(method, url, &headers, None).await,
            Ok(a) if a.status.is_success()
        )
    }

    /// Whether saves on this connection take the server's write lock around read → compare →
    /// write (the server check found one: WebDAV class 2 with a working exclusive LOCK).
    pub fn use_server_lock(&self, on: bool) {
        self.lock_wanted
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The `If` header (RFC 4918 §10.4) a write to `url` carries while this client holds the
    /// server's lock on it.
    pub(super) fn lock_header(&self, url: &str) -> Option<(&'static str, String)> {
        self.locks
            .lock()
            .expect("the lock table is never poisoned")
            .get(url)
            .map(|t| ("If", format!("(<{t}>)")))
    }
}

/// What a save says about the lock, in words (None: nothing to say).
pub fn lock_note(taken: &LockTaken) -> Option<String> {
    match taken {
        LockTaken::Held | LockTaken::NotWanted => None,
        LockTaken::Busy { waited_ms } => Some(format!(
            "The server's write lock stayed taken by another writer for {waited_ms} ms, so this \
             write was made without it: compared right before writing, under If-Match."
        )),
        LockTaken::NotOffered { status } => Some(format!(
            "The server did not grant its write lock ({status}), so this write was made without \
             it: compared right before writing, under If-Match."
        )),
        LockTaken::Failed { detail } => Some(format!(
            "Asking for the server's write lock failed ({detail}), so this write was made \
             without it: compared right before writing, under If-Match."
        )),
    }
}
