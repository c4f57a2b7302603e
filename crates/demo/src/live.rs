//! The demo's change feeds, so `ifmatch watch` (and the tour) can show a live change:
//!
//! - server-sent events for every resource (`GET` with `Accept: text/event-stream`), Firebase's
//!   REST streaming shape: `event: put` with `{"path": "/", "data": <document>}` at once and
//!   after each change (`data: null` once deleted), a `:` comment every 15 s;
//! - a Kubernetes-style watch on the ConfigMaps (`GET …/configmaps?watch=1&fieldSelector=
//!   metadata.name=NAME&resourceVersion=RV`): JSON lines `{"type": "MODIFIED", "object": …}`,
//!   one per change after RV (a change made since RV is sent at once);
//! - Gmail's history shape for the labels: `GET /history?startHistoryId=N` →
//!   `{"history": [{"id", "labels": [{"id"}]}], "historyId"}` (400 without the parameter, 404 for
//!   an id older than the 100 changes it keeps, as Gmail answers), and `GET /profile` with the
//!   current `historyId`.
//!
//! Must never: hold the store's lock while waiting (each wait is on the change counter).

use crate::DemoState;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// Changes the history keeps.
const KEPT: usize = 100;

/// The labels' change history (Gmail's history ids).
#[derive(Debug)]
pub(crate) struct History {
    /// The id of the newest change (the seed is 1000).
    pub(crate) last: u64,
    log: VecDeque<(u64, String)>,
}

impl Default for History {
    fn default() -> Self {
        History {
            last: 1000,
            log: VecDeque::new(),
        }
    }
}

impl History {
    fn record(&mut self, path: &str) {
        self.last += 1;
        self.log.push_back((self.last, path.to_string()));
        if self.log.len() > KEPT {
            self.log.pop_front();
        }
    }
}

/// Something was written at `path` (a resource write, a control request): streams wake, and a
/// label's change goes into the history.
pub(crate) fn changed(state: &DemoState, path: &str) {
    if path.starts_with("/labels") || path == "/_demo/reset" {
        state.history.lock().unwrap().record(path);
    }
    state.changes.send_modify(|n| *n += 1);
}

fn reply(status: u16, v: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::from(crate::store::pretty(&v)))
        .expect("a valid response")
}

/// `GET /profile`: the current history id.
pub(crate) fn profile(state: &DemoState) -> Response {
    let last = state.history.lock().unwrap().last;
    reply(
        200,
        json!({"emailAddress": "admin@demo.example", "historyId": last.to_string()}),
    )
}

/// `GET /history?startHistoryId=N`.
pub(crate) fn history(state: &DemoState, query: &str) -> Response {
    let start = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "startHistoryId")
        .map(|(_, v)| v.parse::<u64>());
    let start = match start {
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return reply(
                400,
                json!({"error": {"code": 400, "message": "Invalid startHistoryId"}}),
            )
        }
        None => {
            return reply(
                400,
                json!({"error": {"code": 400, "message": "startHistoryId is required"}}),
            )
        }
    };
    let h = state.history.lock().unwrap();
    let oldest = h.log.front().map_or(h.last, |(id, _)| id - 1);
    if start < oldest || start > h.last {
        return reply(
            404,
            json!({"error": {"code": 404, "message": "Requested entity was not found."}}),
        );
    }
    let items: Vec<Value> = h
        .log
        .iter()
        .filter(|(id, _)| *id > start)
        .map(|(id, path)| {
            let label = path.rsplit('/').next().unwrap_or("");
            json!({"id": id.to_string(), "labels": [{"id": label}]})
        })
        .collect();
    let mut v = json!({"historyId": h.last.to_string()});
    if !items.is_empty() {
        v["history"] = Value::Array(items);
    }
    reply(200, v)
}

/// What a stream sends next: waits for a change (or the heartbeat), then the new text if any.
async fn next_change(
    rx: &mut tokio::sync::watch::Receiver<u64>,
    heartbeat: Duration,
) -> Option<bool> {
    match tokio::time::timeout(heartbeat, rx.changed()).await {
        Ok(Ok(())) => Some(true),
        Ok(Err(_)) => None,
        Err(_) => Some(false),
    }
}

fn stream_response(content_type: &str, body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(body)
        .expect("a valid response")
}

/// Server-sent events for the resource at `path`.
pub(crate) fn sse(state: Arc<DemoState>, path: String) -> Response {
    let text_of = |state: &DemoState, path: &str| -> Option<String> {
        match state.store.lock().unwrap().get(path) {
            Some(crate::store::Entry::Live { text, .. }) => Some(text.clone()),
            _ => None,
        }
    };
    if text_of(&state, &path).is_none() {
        return crate::reply::json_error(StatusCode::NOT_FOUND, "no resource at this path");
    }
    let rx = state.changes.subscribe();
    let put = |text: Option<&str>| {
        let data = text
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null);
        Bytes::from(format!(
            "event: put\ndata: {}\n\n",
            json!({"path": "/", "data": data})
        ))
    };
    // State: (sent the first event, the last text sent).
    let stream = futures_util::stream::unfold(
        (state, path, rx, None::<Option<String>>),
        move |(state, path, mut rx, last)| async move {
            loop {
                if last.is_some() {
                    match next_change(&mut rx, Duration::from_secs(15)).await {
                        None => return None,
                        Some(false) => {
                            return Some((
                                Ok::<_, std::io::Error>(Bytes::from(": keep-alive\n\n")),
                                (state, path, rx, last),
                            ))
                        }
                        Some(true) => {}
                    }
                }
                let now = text_of(&state, &path);
                if last.as_ref() != Some(&now) {
                    let chunk = put(now.as_deref());
                    return Some((Ok(chunk), (state, path, rx, Some(now))));
                }
            }
        },
    );
    stream_response("text/event-stream", Body::from_stream(stream))
}

/// A Kubernetes-style watch of the ConfigMaps under the collection `path`.
pub(crate) fn kube_watch(state: Arc<DemoState>, path: String, query: &str) -> Response {
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.replace("%3D", "=").replace("%3d", "="))
    };
    let Some(name) =
        param("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=").map(str::to_string))
    else {
        return reply(
            400,
            json!({"kind": "Status", "status": "Failure", "code": 400, "reason": "BadRequest",
                   "message": "the demo watches one object: fieldSelector=metadata.name=NAME"}),
        );
    };
    let object = format!("{path}/{name}");
    let rv_of = move |state: &DemoState| -> Option<(u64, Value)> {
        let d = state.dialects.lock().unwrap();
        let v = d.get(&object)?.clone();
        let rv = v
            .pointer("/metadata/resourceVersion")?
            .as_str()?
            .parse()
            .ok()?;
        Some((rv, v))
    };
    let Some((current, _)) = rv_of(&state) else {
        return reply(
            404,
            json!({"kind": "Status", "status": "Failure", "code": 404, "reason": "NotFound",
                   "message": "not found"}),
        );
    };
    let from = param("resourceVersion")
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(current);
    let rx = state.changes.subscribe();
    let stream = futures_util::stream::unfold((state, rx, from), move |(state, mut rx, seen)| {
        let rv_of = rv_of.clone();
        async move {
            loop {
                if let Some((rv, v)) = rv_of(&state) {
                    if rv > seen {
                        let line = format!("{}\n", json!({"type": "MODIFIED", "object": v}));
                        return Some((Ok::<_, std::io::Error>(Bytes::from(line)), (state, rx, rv)));
                    }
                }
                // Kubernetes sends no heartbeat on a watch: wait for the next change.
                rx.changed().await.ok()?;
            }
        }
    });
    stream_response("application/json", Body::from_stream(stream))
}
