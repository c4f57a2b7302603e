//! A small fake of Consul's KV HTTP API, for the watch's blocking-query tests. It is a fake, not
//! Consul: Debian ships no `consul` package (HashiCorp's licence change took it out), and the
//! binary only comes as a download from HashiCorp, which a script on a fresh machine here cannot
//! fetch (only crates.io, PyPI, npm and Debian's packages are reached).
//!
//! What it does as Consul documents it (HTTP API: KV store, blocking queries):
//! - `GET /v1/kv/KEY`: `[{"LockIndex", "Key", "Flags", "Value" (base64), "CreateIndex",
//!   "ModifyIndex"}]`; with `?raw` the value's bytes as stored; 404 when there is no such key.
//!   Every answer carries `X-Consul-Index` (the key's ModifyIndex; the store's index for a key
//!   that is not there), `X-Consul-KnownLeader` and `X-Consul-LastContact`.
//! - `?index=N&wait=Ts` (`s` or `ms`): answered when the index passes N or when the wait ends
//!   (then with the same index); N = 0 answers at once. A snapshot restore ends every waiting
//!   query at once with what the restored store holds, whose index may be lower than N (Consul
//!   "bails out" of a blocking query on a restore; clients must reset their index).
//! - `PUT /v1/kv/KEY` with the value as the body, `?cas=M` (0: only if absent; M: only if the
//!   key's ModifyIndex is M): `true` or `false`. Each write raises the store's index by 1.
//!
//! Not modelled: Consul's wait jitter (up to wait/16 more), the 10-minute wait cap, ACLs,
//! `?recurse`, flags, sessions and locks, `?consistent` / `?stale`.

use crate::raw::read_request;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    create: u64,
    modify: u64,
}

#[derive(Debug, Default)]
struct Store {
    /// The store's index (Raft's): raised by every write, set back by a restore.
    index: u64,
    keys: BTreeMap<String, Entry>,
    /// Raised by each restore: waiting queries end at once.
    restores: u64,
}

/// One request the fake received: its method, and its path with the query.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: String,
    pub path: String,
}

struct Shared {
    store: Mutex<Store>,
    /// Ticks on every write and restore (the queries waiting look again).
    changed: tokio::sync::watch::Sender<u64>,
    /// Blocking queries waiting now.
    waiting: Mutex<usize>,
    asked: Mutex<Vec<Asked>>,
}

/// The fake on a loopback port, served by its own thread; stopped when dropped.
pub struct ConsulFake {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ConsulFake {
    pub fn start() -> ConsulFake {
        let shared = Arc::new(Shared {
            store: Mutex::new(Store {
                index: 1,
                ..Store::default()
            }),
            changed: tokio::sync::watch::Sender::new(0),
            waiting: Mutex::new(0),
            asked: Mutex::new(vec![]),
        });
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s2 = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback");
                let _ = url_tx.send(format!("http://{}", listener.local_addr().unwrap()));
                let serve = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            return;
                        };
                        tokio::spawn(answer(s2.clone(), sock));
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        let url = url_rx.recv().expect("the fake Consul listens");
        ConsulFake {
            url,
            shared,
            stop: Some(stop),
        }
    }

    /// Blocking queries waiting right now.
    pub fn waiting(&self) -> usize {
        *self.shared.waiting.lock().unwrap()
    }

    /// Waits at most `limit` until `n` blocking queries are waiting.
    pub fn wait_for_waiting(&self, n: usize, limit: Duration) -> bool {
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if self.waiting() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The requests answered or being answered so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.shared.asked.lock().unwrap().clone()
    }

    /// The key's ModifyIndex (None: no such key).
    pub fn modify_index(&self, key: &str) -> Option<u64> {
        let s = self.shared.store.lock().unwrap();
        s.keys.get(key).map(|e| e.modify)
    }

    /// A snapshot restore: the store's index goes back to `index` and `key` holds `value`
    /// written at that index; waiting queries end at once.
    pub fn restore(&self, key: &str, value: &str, index: u64) {
        {
            let mut s = self.shared.store.lock().unwrap();
            s.index = index;
            s.keys.insert(
                key.to_string(),
                Entry {
                    value: value.as_bytes().to_vec(),
                    create: index,
                    modify: index,
                },
            );
            s.restores += 1;
        }
        self.shared.changed.send_modify(|n| *n += 1);
    }
}

impl Drop for ConsulFake {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|kv| match kv.split_once('=') {
        Some((k, v)) if k == name => Some(v),
        None if kv == name => Some(""),
        _ => None,
    })
}

/// `5s`, `300ms`, `2m` (Consul's duration spelling); Consul's default wait is 5 minutes.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n * 60)),
        _ => None,
    }
}

fn base64(b: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn answer(shared: Arc<Shared>, mut sock: tokio::net::TcpStream) {
    let Some(req) = read_request(&mut sock).await else {
        return;
    };
    shared.asked.lock().unwrap().push(Asked {
        method: req.method.clone(),
        path: req.path.clone(),
    });
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let reply = match path.strip_prefix("/v1/kv/") {
        None => (404, "text/plain", 0, b"no such endpoint".to_vec()),
        Some(key) if req.method == "GET" => get(&shared, key, query).await,
        Some(key) if req.method == "PUT" => put(&shared, key, query, req.body),
        Some(_) => (405, "text/plain", 0, b"method not allowed".to_vec()),
    };
    let (status, ctype, index, body) = reply;
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nX-Consul-Index: {index}\r\n\
         X-Consul-Knownleader: true\r\nX-Consul-Lastcontact: 0\r\n\
         X-Content-Type-Options: nosniff\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(&body).await;
    let _ = sock.shutdown().await;
}

type Answer = (u16, &'static str, u64, Vec<u8>);

async fn get(shared: &Shared, key: &str, query: &str) -> Answer {
    let min: u64 = param(query, "index")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let wait = param(query, "wait")
        .and_then(duration)
        .unwrap_or(Duration::from_secs(300));
    let index_of = |s: &Store| s.keys.get(key).map_or(s.index, |e| e.modify);
    if min > 0 {
        let mut rx = shared.changed.subscribe();
        let restores = shared.store.lock().unwrap().restores;
        *shared.waiting.lock().unwrap() += 1;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            {
                let s = shared.store.lock().unwrap();
                if index_of(&s) > min || s.restores != restores {
                    break;
                }
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                break;
            }
        }
        *shared.waiting.lock().unwrap() -= 1;
    }
    let s = shared.store.lock().unwrap();
    // Consul never answers index 0.
    let index = index_of(&s).max(1);
    match s.keys.get(key) {
        None => (404, "text/plain; charset=utf-8", index, vec![]),
        Some(e) if param(query, "raw").is_some() => {
            (200, "text/plain; charset=utf-8", index, e.value.clone())
        }
        Some(e) => {
            let meta = serde_json::json!([{
                "LockIndex": 0,
                "Key": key,
                "Flags": 0,
                "Value": base64(&e.value),
                "CreateIndex": e.create,
                "ModifyIndex": e.modify,
            }]);
            (
                200,
                "application/json",
                index,
                meta.to_string().into_bytes(),
            )
        }
    }
}

fn put(shared: &Shared, key: &str, query: &str, body: Vec<u8>) -> Answer {
    let done = {
        let mut s = shared.store.lock().unwrap();
        let cas: Option<u64> = param(query, "cas").and_then(|v| v.parse().ok());
        let ok = match (cas, s.keys.get(key)) {
            (None, _) => true,
            (Some(0), existing) => existing.is_none(),
            (Some(m), Some(e)) => e.modify == m,
            (Some(_), None) => false,
        };
        if ok {
            s.index += 1;
            let index = s.index;
            let create = s.keys.get(key).map_or(index, |e| e.create);
            s.keys.insert(
                key.to_string(),
                Entry {
                    value: body,
                    create,
                    modify: index,
                },
            );
        }
        (ok, s.index)
    };
    if done.0 {
        shared.changed.send_modify(|n| *n += 1);
    }
    (
        200,
        "application/json",
        done.1,
        if done.0 { "true" } else { "false" }.into(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_as_consul_sends_it() {
        assert_eq!(
            super::base64(b"{\"theme\":\"dark\"}"),
            "eyJ0aGVtZSI6ImRhcmsifQ=="
        );
        assert_eq!(super::base64(b"ab"), "YWI=");
        assert_eq!(super::base64(b""), "");
    }
}
