//! The hostile-input kit's server: a stateful HTTP/1.1 server on 127.0.0.1 (ephemeral port) that
//! keeps real documents and answers real conditional requests, and misbehaves the way real servers
//! were seen to, one knob at a time:
//!
//! - preconditions enforced per method (`ignore_if_match: vec!["PATCH"]`: If-Match honoured on PUT
//!   and DELETE, ignored on PATCH), or 428 for a write without any (`require_precondition`);
//! - writes acknowledged without being stored (`ack_without_store`);
//! - reads failing right after a write (`reads_fail_after_write`), a read's body dropped halfway
//!   (`drop_read_body`), slowness (`delay_ms`);
//! - a write's answer that is the document, nothing, or a status object (`write_answer`);
//! - a validator that misses changes (`etag: Etag::Constant`), weak ones, or none;
//! - another writer injected at a chosen moment (`Hostile::before`: before the n-th request of a
//!   method is answered, the stored document is changed as another client would);
//! - the request's credentials echoed back in error answers, in any spelling (`echo`, `spell`).
//!
//! Every request is recorded (`seen`). The server stops when dropped. Each connection answers one
//! request and is closed (`Connection: close`).

use crate::raw::{read_request, Seen};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// What a successful write answers with.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum WriteAnswer {
    /// 200 with the stored document (what the server holds after the write).
    #[default]
    Document,
    /// 204, no body.
    Empty,
    /// 200 with this body instead of the document (`{"ok": true}`, Consul's `true`).
    Status(String),
}

/// How the server's validator is made.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Etag {
    /// A strong ETag from the content (changes whenever the content does).
    #[default]
    Strong,
    /// The same content hash, sent weak (`W/"…"`).
    Weak,
    /// Always this one value, whatever the content: a validator that misses every change.
    Constant(String),
    /// No ETag at all.
    None,
}

/// A spelling in which a secret can come back in a server's words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spelling {
    /// As sent.
    Raw,
    /// Inside a JSON string the way a JSON encoder may write it: `/` as `\/`, `"` as `\"`, `\` as
    /// `\\`, non-ASCII as `\uXXXX`.
    JsonEscaped,
    /// Percent-encoded (every byte outside unreserved characters).
    Percent,
    /// After `n` characters of padding (to cross an excerpt's boundary).
    Padded(usize),
}

/// `secret` in `spelling`.
pub fn spell(secret: &str, spelling: Spelling) -> String {
    match spelling {
        Spelling::Raw => secret.to_string(),
        Spelling::JsonEscaped => {
            let mut s = String::new();
            for c in secret.chars() {
                match c {
                    '/' => s.push_str("\\/"),
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    c if !c.is_ascii() || c.is_ascii_control() => {
                        let mut buf = [0u16; 2];
                        for u in c.encode_utf16(&mut buf) {
                            s.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                    c => s.push(c),
                }
            }
            s
        }
        Spelling::Percent => {
            let mut s = String::new();
            for b in secret.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    s.push(b as char);
                } else {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
            s
        }
        Spelling::Padded(n) => format!("{}{secret}", "x".repeat(n)),
    }
}

/// The server's misbehaviour. `Knobs::default()` is a well-behaved server that enforces every
/// precondition atomically and answers writes with the stored document.
#[derive(Debug, Clone, Default)]
pub struct Knobs {
    /// Methods whose If-Match / If-None-Match are ignored (the write goes through).
    pub ignore_if_match: Vec<&'static str>,
    /// A write without If-Match or If-None-Match gets 428 (RFC 6585 §3).
    pub require_precondition: bool,
    /// Writes are answered as if applied, and nothing is stored.
    pub ack_without_store: bool,
    /// After each acknowledged write, this many reads answer 500.
    pub reads_fail_after_write: u32,
    /// A read's answer promises the whole body and sends half of it, then closes.
    pub drop_read_body: bool,
    /// Every answer waits this long first.
    pub delay_ms: u64,
    /// What a successful write answers with.
    pub write_answer: WriteAnswer,
    /// How validators are made.
    pub etag: Etag,
    /// Every error answer (4xx/5xx) echoes the request's `Authorization` (or `X-Api-Key`) value
    /// in this spelling, inside a JSON body.
    pub echo: Option<Spelling>,
    /// Answer status for a stale write (412 by default; 409 for servers that say conflict so).
    pub stale_status: Option<u16>,
    /// Every write's connection is closed after its request is read, with no answer and
    /// nothing stored (a write that may or may not have landed, and did not).
    pub drop_writes: bool,
}

type Change = Box<dyn FnOnce(&str) -> String + Send>;

/// What a change returns to delete the resource instead (`delete_before`).
const DELETED: &str = "\u{0}deleted";

#[derive(Default)]
struct State {
    knobs: Knobs,
    docs: HashMap<String, String>,
    /// (method, n-th request of that method counted from 1, change to make before answering it).
    before: Vec<(String, usize, Option<String>, Change)>,
    counts: HashMap<String, usize>,
    /// (method, n-th request of that method, status it is answered with instead).
    fail: Vec<(String, usize, u16)>,
    failing_reads: u32,
    acknowledged: usize,
}

/// The running server.
pub struct Hostile {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Hostile {
    /// Starts a server with these knobs and these documents (path → JSON text).
    pub async fn start(knobs: Knobs, docs: &[(&str, &str)]) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            knobs,
            docs: docs
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            ..State::default()
        }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (st, sn) = (state.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (st, sn) = (st.clone(), sn.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else {
                        return;
                    };
                    sn.lock().unwrap().push(req.clone());
                    let delay = st.lock().unwrap().knobs.delay_ms;
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    let dropped = {
                        let s = st.lock().unwrap();
                        s.knobs.drop_writes
                            && matches!(req.method.as_str(), "PUT" | "PATCH" | "POST" | "DELETE")
                    };
                    if dropped {
                        let _ = sock.shutdown().await;
                        return;
                    }
                    let bytes = answer(&mut st.lock().unwrap(), &req);
                    let _ = sock.write_all(&bytes).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Hostile {
            url,
            state,
            seen,
            task,
        }
    }

    /// The URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Before the `nth` request (from 1) with `method` is answered, the document at that request's
    /// path is changed by `change` (another writer, between our read and our write). `change`
    /// gets the stored text and returns the new one.
    pub fn before(
        &self,
        method: &str,
        nth: usize,
        change: impl FnOnce(&str) -> String + Send + 'static,
    ) {
        self.state.lock().unwrap().before.push((
            method.to_ascii_uppercase(),
            nth,
            None,
            Box::new(change),
        ));
    }

    /// Like `before`, for the `nth` request of `method` to `path` only.
    pub fn before_at(
        &self,
        method: &str,
        path: &str,
        nth: usize,
        change: impl FnOnce(&str) -> String + Send + 'static,
    ) {
        self.state.lock().unwrap().before.push((
            method.to_ascii_uppercase(),
            nth,
            Some(path.to_string()),
            Box::new(change),
        ));
    }

    /// Before the `nth` request with `method` is answered, another client deletes the resource
    /// at that request's path.
    pub fn delete_before(&self, method: &str, nth: usize) {
        self.before(method, nth, |_| DELETED.to_string());
    }

    /// The `nth` request (from 1) with `method` is answered with `status` and an error body,
    /// doing nothing (a read failing right after a write, a watch's read failing).
    pub fn fail(&self, method: &str, nth: usize, status: u16) {
        self.state
            .lock()
            .unwrap()
            .fail
            .push((method.to_ascii_uppercase(), nth, status));
    }

    /// The stored text at `path`.
    pub fn text(&self, path: &str) -> Option<String> {
        self.state.lock().unwrap().docs.get(path).cloned()
    }

    /// Stores `text` at `path` as another client would (its validator changes with it).
    pub fn set(&self, path: &str, text: &str) {
        self.state
            .lock()
            .unwrap()
            .docs
            .insert(path.to_string(), text.to_string());
    }

    /// Changes the knobs from now on.
    pub fn knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.state.lock().unwrap().knobs);
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests with this method received so far.
    pub fn seen_method(&self, method: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// How many writes were answered 2xx.
    pub fn acknowledged(&self) -> usize {
        self.state.lock().unwrap().acknowledged
    }

    /// The validator the server gives `text` (as the ETag header carries it), if any.
    pub fn etag_of(&self, text: &str) -> Option<String> {
        etag(&self.state.lock().unwrap().knobs.etag, text)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn etag(mode: &Etag, text: &str) -> Option<String> {
    match mode {
        Etag::Strong => Some(format!("\"{:016x}\"", hash(text))),
        Etag::Weak => Some(format!("W/\"{:016x}\"", hash(text))),
        Etag::Constant(v) => Some(v.clone()),
        Etag::None => None,
    }
}

fn reply(status: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        s.push_str(h);
        s.push_str("\r\n");
    }
    s.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.into_bytes()
}

fn error(st: &State, req: &Seen, status: &str, what: &str) -> Vec<u8> {
    let mut body = serde_json::json!({ "error": what });
    if let Some(spelling) = st.knobs.echo {
        let cred = req
            .header("authorization")
            .or_else(|| req.header("x-api-key"))
            .unwrap_or("");
        // Written by hand, not by serde, so the spelling reaches the wire as chosen.
        return reply(
            status,
            &["Content-Type: application/json".into()],
            &format!(
                "{{\"error\": \"{what}\", \"you sent\": \"{}\"}}",
                spell(cred, spelling)
            ),
        );
    }
    body["status"] = Value::from(status);
    reply(
        status,
        &["Content-Type: application/json".into()],
        &body.to_string(),
    )
}

/// Whether an If-Match / If-None-Match list names `tag` (strong comparison for If-Match).
fn listed(header: &str, tag: Option<&str>) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|h| h == "*" || Some(h) == tag)
}

fn answer(st: &mut State, req: &Seen) -> Vec<u8> {
    let method = req.method.to_ascii_uppercase();
    let path = req.path.clone();
    let n = {
        let c = st.counts.entry(method.clone()).or_insert(0);
        *c += 1;
        *c
    };
    // Another writer, right before this request is handled.
    let mut i = 0;
    while i < st.before.len() {
        let (m, nth, p, _) = &st.before[i];
        if *m == method && *nth == n && p.as_ref().is_none_or(|p| *p == path) {
            let (.., change) = st.before.remove(i);
            let old = st.docs.get(&path).cloned().unwrap_or_default();
            let new = change(&old);
            if new == DELETED {
                st.docs.remove(&path);
            } else {
                st.docs.insert(path.clone(), new);
            }
        } else {
            i += 1;
        }
    }
    if let Some(k) = st
        .fail
        .iter()
        .position(|(m, nth, _)| *m == method && *nth == n)
    {
        let (.., status) = st.fail.remove(k);
        return error(
            st,
            req,
            &format!("{status} Scripted Failure"),
            "scripted failure",
        );
    }
    let current = st.docs.get(&path).cloned();
    let tag = current.as_deref().and_then(|t| etag(&st.knobs.etag, t));
    match method.as_str() {
        "GET" | "HEAD" => {
            if st.failing_reads > 0 {
                st.failing_reads -= 1;
                return error(st, req, "500 Internal Server Error", "read failed");
            }
            let Some(text) = current else {
                return error(st, req, "404 Not Found", "no such resource");
            };
            if let (Some(inm), Some(t)) = (req.header("if-none-match"), &tag) {
                let weak_eq = |h: &str| h.trim_start_matches("W/") == t.trim_start_matches("W/");
                if inm
                    .split(',')
                    .map(str::trim)
                    .any(|h| h == "*" || weak_eq(h))
                {
                    return reply("304 Not Modified", &[format!("ETag: {t}")], "");
                }
            }
            let mut headers = vec!["Content-Type: application/json".to_string()];
            headers.extend(tag.map(|t| format!("ETag: {t}")));
            if st.knobs.drop_read_body {
                let mut bytes = reply("200 OK", &headers, &text);
                let cut = bytes.len() - text.len() / 2;
                bytes.truncate(cut);
                return bytes;
            }
            let body = if method == "HEAD" { "" } else { text.as_str() };
            let mut r = reply("200 OK", &headers, body);
            if method == "HEAD" {
                // A HEAD answer's Content-Length is the GET's.
                r = String::from_utf8(r)
                    .unwrap()
                    .replace(
                        "Content-Length: 0\r\n",
                        &format!("Content-Length: {}\r\n", text.len()),
                    )
                    .into_bytes();
            }
            r
        }
        "OPTIONS" => reply(
            "204 No Content",
            &["Allow: GET, HEAD, PUT, PATCH, DELETE, OPTIONS".into()],
            "",
        ),
        "PUT" | "PATCH" | "DELETE" | "POST" => {
            let if_match = req.header("if-match");
            let if_none = req.header("if-none-match");
            let enforce = !st.knobs.ignore_if_match.iter().any(|m| *m == method);
            if st.knobs.require_precondition && if_match.is_none() && if_none.is_none() {
                return error(
                    st,
                    req,
                    "428 Precondition Required",
                    "precondition required",
                );
            }
            let stale = st
                .knobs
                .stale_status
                .map(|s| format!("{s} Stale"))
                .unwrap_or_else(|| "412 Precondition Failed".into());
            if enforce {
                if let Some(h) = if_match {
                    if current.is_none() || !listed(h, tag.as_deref()) {
                        return error(st, req, &stale, "precondition failed");
                    }
                }
                if let Some(h) = if_none {
                    if current.is_some() && (h.trim() == "*" || listed(h, tag.as_deref())) {
                        return error(st, req, &stale, "precondition failed");
                    }
                }
            }
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let new = match method.as_str() {
                "DELETE" => {
                    if current.is_none() {
                        return error(st, req, "404 Not Found", "no such resource");
                    }
                    None
                }
                "PATCH" => {
                    let Some(text) = &current else {
                        return error(st, req, "404 Not Found", "no such resource");
                    };
                    let (Ok(mut doc), Ok(patch)) = (
                        serde_json::from_str::<Value>(text),
                        serde_json::from_str::<Value>(&body),
                    ) else {
                        return error(st, req, "400 Bad Request", "not JSON");
                    };
                    let json_patch = req
                        .header("content-type")
                        .is_some_and(|c| c.contains("json-patch"));
                    if json_patch {
                        if ifmatch_engine::patch::apply_json_patch(&mut doc, &patch).is_err() {
                            return error(st, req, "409 Conflict", "patch test failed");
                        }
                    } else {
                        ifmatch_engine::patch::apply_merge_patch(&mut doc, &patch);
                    }
                    Some(serde_json::to_string_pretty(&doc).unwrap())
                }
                _ => {
                    if ifmatch_engine::json::Doc::parse(&body).is_err() {
                        return error(st, req, "400 Bad Request", "not JSON");
                    }
                    Some(body)
                }
            };
            st.acknowledged += 1;
            let created = current.is_none();
            if !st.knobs.ack_without_store {
                match &new {
                    Some(t) => {
                        st.docs.insert(path.clone(), t.clone());
                    }
                    None => {
                        st.docs.remove(&path);
                    }
                }
                st.failing_reads = st.knobs.reads_fail_after_write;
            }
            // A server that stores nothing still answers with what it was sent, as if stored.
            let stored = if st.knobs.ack_without_store {
                new.clone()
            } else {
                st.docs.get(&path).cloned()
            };
            let mut headers = vec![];
            if !st.knobs.ack_without_store {
                headers.extend(
                    stored
                        .as_deref()
                        .and_then(|t| etag(&st.knobs.etag, t))
                        .map(|t| format!("ETag: {t}")),
                );
            }
            let status = if created { "201 Created" } else { "200 OK" };
            match (&st.knobs.write_answer, &stored) {
                (_, None) | (WriteAnswer::Empty, _) => reply("204 No Content", &headers, ""),
                (WriteAnswer::Document, Some(t)) => {
                    headers.push("Content-Type: application/json".into());
                    reply(status, &headers, t)
                }
                (WriteAnswer::Status(s), _) => {
                    headers.push("Content-Type: application/json".into());
                    reply(status, &headers, s)
                }
            }
        }
        _ => error(st, req, "405 Method Not Allowed", "method not allowed"),
    }
}
