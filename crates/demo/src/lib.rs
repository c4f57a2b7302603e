//! The built-in demo server: JSON resources shaped like the real use (Gmail-style labels, a
//! settings document, feature flags with rules, posts) behind RFC 9110 preconditions.
//!
//! Owns: strong ETags (a hash of the stored text), If-Match / If-None-Match / If-Unmodified-Since
//! evaluated in the order of RFC 9110 §13.2.2 (`precondition::evaluate`), 428 for unconditional
//! writes (switchable, RFC 6585 §3), PATCH with `application/merge-patch+json` (RFC 7396) or
//! `application/json-patch+json` (RFC 6902; a failed `test` answers 409), 410 after a delete,
//! and control endpoints under `/_demo/` so "another admin" can change a resource and tests can
//! inject faults (status codes, delays, dropped connections, odd bodies).
//!
//! Must never: listen beyond the address it is given (127.0.0.1 by default), or skip the
//! precondition check for a write.

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use ifmatch_engine::etag::EntityTag;
use ifmatch_engine::patch::{apply_json_patch, apply_merge_patch, JsonPatchError};
use ifmatch_engine::precondition::{evaluate, Conditions, Current, Evaluation};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Answer 428 to writes without If-Match / If-None-Match / If-Unmodified-Since.
    pub require_preconditions: bool,
    /// When set, every resource request needs `Authorization: Bearer <token>` (401 otherwise).
    pub bearer_token: Option<String>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            require_preconditions: true,
            bearer_token: None,
        }
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Live {
        text: String,
        etag: EntityTag,
        modified: SystemTime,
    },
    /// Deleted: GET answers 410 Gone; a create may bring it back.
    Tombstone,
}

/// A scripted misbehaviour, set through `POST /_demo/faults`.
#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    /// Applies to paths starting with this (all paths when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// Applies to this method only (all when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// Answer with this status instead of handling the request.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// The body of that answer (JSON error by default).
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Extra answer headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Handle the request for real, then break the connection instead of answering: the
    /// ambiguous failure (the write landed, the client cannot know).
    #[serde(default)]
    pub drop_after_apply: bool,
}

fn one() -> u32 {
    1
}

struct DemoState {
    cfg: Mutex<DemoConfig>,
    store: Mutex<BTreeMap<String, Entry>>,
    faults: Mutex<Vec<Fault>>,
    requests: AtomicU64,
    next_id: AtomicU64,
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
            store: Mutex::new(seed()),
            faults: Mutex::new(vec![]),
            requests: AtomicU64::new(0),
            next_id: AtomicU64::new(100),
        });
        let app = Router::new()
            .fallback(handle)
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
        another_admin(&self.state, path, patch)
    }

    /// The stored text of a resource (None when absent or deleted).
    pub fn text(&self, path: &str) -> Option<String> {
        match self.state.store.lock().unwrap().get(path) {
            Some(Entry::Live { text, .. }) => Some(text.clone()),
            _ => None,
        }
    }

    pub fn add_fault(&self, f: Fault) {
        self.state.faults.lock().unwrap().push(f);
    }

    pub fn clear_faults(&self) {
        self.state.faults.lock().unwrap().clear();
    }

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

/// A strong ETag derived from the stored text: same text, same tag.
fn etag_for(text: &str) -> EntityTag {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    EntityTag::strong(&format!("{:016x}", h.finish()))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a Value always serialises");
    s.push('\n');
    s
}

fn live(v: Value) -> Entry {
    let text = pretty(&v);
    Entry::Live {
        etag: etag_for(&text),
        text,
        modified: now_whole_seconds(),
    }
}

/// HTTP dates have one-second granularity; storing finer times would make a client's
/// If-Unmodified-Since (copied from Last-Modified) fail against its own version.
fn now_whole_seconds() -> SystemTime {
    let d = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    std::time::UNIX_EPOCH + Duration::from_secs(d.as_secs())
}

fn seed() -> BTreeMap<String, Entry> {
    let mut m = BTreeMap::new();
    let labels = [
        ("Label_1", "Customers", "#16a766", "#ffffff"),
        ("Label_2", "Invoices", "#fad165", "#000000"),
        ("Label_3", "Escalations", "#cc3a21", "#ffffff"),
        ("Label_4", "Newsletters", "#a4c2f4", "#000000"),
    ];
    for (id, name, bg, fg) in labels {
        m.insert(
            format!("/labels/{id}"),
            live(json!({
                "id": id,
                "name": name,
                "messageListVisibility": "show",
                "labelListVisibility": "labelShow",
                "type": "user",
                "color": {"textColor": fg, "backgroundColor": bg}
            })),
        );
    }
    m.insert(
        "/settings".into(),
        live(json!({
            "siteName": "Acme Support",
            "supportEmail": "help@acme.example",
            "timezone": "Europe/Berlin",
            "maintenanceMode": false,
            "session": {"timeoutMinutes": 30, "rememberMe": true},
            "notifications": {"email": true, "slack": false, "digest": "daily"},
            "limits": {"maxUploadMb": 25, "requestsPerMinute": 600},
            "branding": {"primaryColor": "#1a73e8", "logoUrl": "https://cdn.acme.example/logo.svg"},
            "allowedDomains": ["acme.example", "acme-support.example"]
        })),
    );
    m.insert(
        "/flags/new-checkout".into(),
        live(json!({
            "key": "new-checkout",
            "description": "The redesigned checkout flow",
            "enabled": true,
            "defaultVariant": "off",
            "variants": {"on": true, "off": false},
            "rules": [
                {"id": "beta-testers", "attribute": "group", "op": "in", "values": ["beta"], "variant": "on"},
                {"id": "dach-rollout", "attribute": "country", "op": "in", "values": ["DE", "AT", "CH"], "rollout": 25, "variant": "on"}
            ]
        })),
    );
    m.insert(
        "/flags/dark-mode".into(),
        live(json!({
            "key": "dark-mode",
            "description": "Dark theme for the admin console",
            "enabled": false,
            "defaultVariant": "off",
            "variants": {"on": true, "off": false},
            "rules": []
        })),
    );
    m.insert(
        "/posts/1".into(),
        live(json!({
            "id": 1,
            "title": "Scheduled maintenance on Saturday",
            "body": "The support portal will be read-only from 06:00 to 08:00 UTC.",
            "tags": ["maintenance", "status"],
            "published": false,
            "author": {"name": "Dana Admin", "email": "dana@acme.example"}
        })),
    );
    m.insert(
        "/system/info".into(),
        live(json!({
            "server": "ifmatch demo",
            "note": "read-only: writes here answer 403 Forbidden"
        })),
    );
    m
}

fn another_admin(state: &DemoState, path: &str, patch: Option<&Value>) -> Option<String> {
    let mut store = state.store.lock().unwrap();
    let Some(Entry::Live { text, .. }) = store.get(path) else {
        return None;
    };
    let mut v: Value = serde_json::from_str(text).ok()?;
    match patch {
        Some(p) => apply_merge_patch(&mut v, p),
        None => canned_change(&mut v),
    }
    let e = live(v);
    let Entry::Live { text, .. } = &e else {
        unreachable!()
    };
    let out = text.clone();
    store.insert(path.to_string(), e);
    Some(out)
}

/// A plausible edit by someone else: renames the `name`/`title`/`siteName`/`description` it finds,
/// and counts the edits in `adminEdits`.
fn canned_change(v: &mut Value) {
    let Value::Object(o) = v else { return };
    for key in ["name", "title", "siteName", "description"] {
        if let Some(Value::String(s)) = o.get_mut(key) {
            s.push_str(" (edited by another admin)");
            break;
        }
    }
    let n = o.get("adminEdits").and_then(Value::as_u64).unwrap_or(0) + 1;
    o.insert("adminEdits".into(), json!(n));
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = pretty(&json!({"error": {"code": status.as_u16(), "message": message}}));
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("static response parts are valid")
}

fn doc_response(
    status: StatusCode,
    text: &str,
    etag: &EntityTag,
    modified: SystemTime,
    head: bool,
) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("etag", etag.raw.as_str())
        .header("last-modified", httpdate::fmt_http_date(modified))
        .header("cache-control", "no-cache")
        .body(if head {
            Body::empty()
        } else {
            Body::from(text.to_string())
        })
        .expect("valid response parts")
}

fn take_fault(state: &DemoState, method: &Method, path: &str) -> Option<Fault> {
    let mut faults = state.faults.lock().unwrap();
    let i = faults.iter().position(|f| {
        f.count > 0
            && f.path.as_deref().is_none_or(|p| path.starts_with(p))
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    })?;
    faults[i].count -= 1;
    let f = faults[i].clone();
    if faults[i].count == 0 {
        faults.remove(i);
    }
    Some(f)
}

fn with_request_id(mut r: Response, n: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("demo-{n}")) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

async fn handle(
    State(state): State<Arc<DemoState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let path = uri.path().trim_end_matches('/').to_string();
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path
    };
    if let Some(rest) = path.strip_prefix("/_demo") {
        return with_request_id(control(&state, &method, rest, &body), n);
    }
    let fault = take_fault(&state, &method, &path);
    if let Some(f) = &fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if let Some(status) = f.status {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut b = Response::builder().status(status).header(
                "content-type",
                f.content_type.as_deref().unwrap_or("application/json"),
            );
            if let Some(s) = f.retry_after {
                b = b.header("retry-after", s.to_string());
            }
            for (k, v) in &f.headers {
                b = b.header(k.as_str(), v.as_str());
            }
            let body = f.body.clone().unwrap_or_else(|| {
                pretty(&json!({"error": {"code": status.as_u16(), "message": "injected by the demo server"}}))
            });
            return with_request_id(b.body(Body::from(body)).expect("valid fault response"), n);
        }
    }
    let resp = resource(&state, &method, &path, &headers, &body);
    if fault.as_ref().is_some_and(|f| f.drop_after_apply) {
        // Send the head, then fail the body: the connection breaks mid-answer.
        let (parts, _) = resp.into_parts();
        let broken = futures_util::stream::iter(vec![Err::<Bytes, std::io::Error>(
            std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped by fault"),
        )]);
        let mut r = Response::from_parts(parts, Body::from_stream(broken));
        r.headers_mut().remove("content-length");
        return r;
    }
    with_request_id(resp, n)
}

#[derive(Deserialize)]
struct ConfigPatch {
    require_preconditions: Option<bool>,
}

fn control(state: &DemoState, method: &Method, rest: &str, body: &[u8]) -> Response {
    let ok = |v: Value| {
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from(pretty(&v)))
            .expect("valid")
    };
    match (method.as_str(), rest) {
        ("POST", r) if r.starts_with("/another-admin/") => {
            let path = &r["/another-admin".len()..];
            let patch = if body.is_empty() {
                None
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        return json_error(
                            StatusCode::BAD_REQUEST,
                            &format!("the patch is not JSON: {e}"),
                        )
                    }
                }
            };
            match another_admin(state, path, patch.as_ref()) {
                Some(text) => ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
                None => json_error(StatusCode::NOT_FOUND, "no such resource"),
            }
        }
        ("POST", "/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                state.faults.lock().unwrap().push(f);
                ok(json!({"ok": true}))
            }
            Err(e) => json_error(StatusCode::BAD_REQUEST, &format!("not a fault: {e}")),
        },
        ("DELETE", "/faults") => {
            state.faults.lock().unwrap().clear();
            ok(json!({"ok": true}))
        }
        ("POST", "/config") => match serde_json::from_slice::<ConfigPatch>(body) {
            Ok(c) => {
                let mut cfg = state.cfg.lock().unwrap();
                if let Some(r) = c.require_preconditions {
                    cfg.require_preconditions = r;
                }
                ok(json!({"require_preconditions": cfg.require_preconditions}))
            }
            Err(e) => json_error(StatusCode::BAD_REQUEST, &format!("not a config: {e}")),
        },
        ("POST", "/reset") => {
            *state.store.lock().unwrap() = seed();
            state.faults.lock().unwrap().clear();
            ok(json!({"ok": true}))
        }
        _ => json_error(
            StatusCode::NOT_FOUND,
            "control endpoints: POST /_demo/another-admin/<path>, POST|DELETE /_demo/faults, \
             POST /_demo/config, POST /_demo/reset",
        ),
    }
}

fn resource(
    state: &DemoState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let cfg = state.cfg.lock().unwrap().clone();
    if let Some(token) = &cfg.bearer_token {
        let given = headers.get("authorization").and_then(|v| v.to_str().ok());
        if given != Some(format!("Bearer {token}").as_str()) {
            let mut r = json_error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Bearer realm=\"ifmatch-demo\""),
            );
            return r;
        }
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let conditions = Conditions {
        if_match: h("if-match"),
        if_none_match: h("if-none-match"),
        if_unmodified_since: h("if-unmodified-since"),
        if_modified_since: h("if-modified-since"),
    };
    let is_read = method == Method::GET || method == Method::HEAD;
    if !is_read && path.starts_with("/system") {
        return json_error(StatusCode::FORBIDDEN, "this resource is read-only");
    }
    let mut store = state.store.lock().unwrap();
    if path == "/" && is_read {
        let paths: Vec<&String> = store
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Live { .. }))
            .map(|(k, _)| k)
            .collect();
        let v = json!({"server": "ifmatch demo server", "resources": paths,
            "control": "POST /_demo/another-admin/<path> changes a resource as another admin would"});
        let text = pretty(&v);
        return doc_response(
            StatusCode::OK,
            &text,
            &etag_for(&text),
            SystemTime::now(),
            method == Method::HEAD,
        );
    }
    let entry = store.get(path).cloned();
    // A collection: GET /labels lists every live /labels/* as {"labels": [...]} (Gmail's shape).
    if entry.is_none() && is_read {
        let prefix = format!("{path}/");
        let items: Vec<Value> = store
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, e)| match e {
                Entry::Live { text, .. } if !k[prefix.len()..].contains('/') => {
                    serde_json::from_str(text).ok()
                }
                _ => None,
            })
            .collect();
        if !items.is_empty() {
            let name = path.rsplit('/').next().unwrap_or("items");
            let text = pretty(&json!({ name: items }));
            let tag = etag_for(&text);
            if evaluate(
                method.as_str(),
                &conditions,
                Some(&Current {
                    etag: Some(&tag),
                    last_modified: None,
                }),
            ) == Evaluation::NotModified
            {
                return not_modified(&tag);
            }
            return doc_response(
                StatusCode::OK,
                &text,
                &tag,
                SystemTime::now(),
                method == Method::HEAD,
            );
        }
    }
    let current = match &entry {
        Some(Entry::Live { etag, modified, .. }) => Some(Current {
            etag: Some(etag),
            last_modified: Some(*modified),
        }),
        _ => None,
    };
    if is_read {
        return match &entry {
            None => json_error(StatusCode::NOT_FOUND, "no resource at this path"),
            Some(Entry::Tombstone) => json_error(StatusCode::GONE, "this resource was deleted"),
            Some(Entry::Live {
                text,
                etag,
                modified,
            }) => match evaluate(method.as_str(), &conditions, current.as_ref()) {
                Evaluation::NotModified => not_modified(etag),
                Evaluation::PreconditionFailed => {
                    json_error(StatusCode::PRECONDITION_FAILED, "precondition failed")
                }
                Evaluation::Malformed => {
                    json_error(StatusCode::BAD_REQUEST, "a conditional header is not valid")
                }
                Evaluation::Proceed => doc_response(
                    StatusCode::OK,
                    text,
                    etag,
                    *modified,
                    method == Method::HEAD,
                ),
            },
        };
    }
    if method == Method::POST {
        // Create in a collection with a server-chosen id (how Gmail creates labels).
        let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
            return json_error(StatusCode::BAD_REQUEST, "the body is not valid JSON");
        };
        let id = format!("Item_{}", state.next_id.fetch_add(1, Ordering::Relaxed));
        if let Value::Object(o) = &mut v {
            o.insert("id".into(), json!(id));
        }
        let new_path = format!("{path}/{id}");
        let e = live(v);
        let Entry::Live {
            text,
            etag,
            modified,
        } = &e
        else {
            unreachable!()
        };
        let mut r = doc_response(StatusCode::CREATED, text, etag, *modified, false);
        if let Ok(loc) = HeaderValue::from_str(&new_path) {
            r.headers_mut().insert("location", loc);
        }
        store.insert(new_path, e);
        return r;
    }
    if !matches!(method.as_str(), "PUT" | "PATCH" | "DELETE") {
        let mut r = json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET, HEAD, PUT, PATCH, DELETE or POST",
        );
        r.headers_mut().insert(
            "allow",
            HeaderValue::from_static("GET, HEAD, PUT, PATCH, DELETE, POST"),
        );
        return r;
    }
    if cfg.require_preconditions && !conditions.any() {
        return json_error(
            StatusCode::PRECONDITION_REQUIRED,
            "this server requires a conditional write: send If-Match with the ETag you read \
             (or If-None-Match: * to create)",
        );
    }
    match evaluate(method.as_str(), &conditions, current.as_ref()) {
        Evaluation::Proceed => {}
        Evaluation::Malformed => {
            return json_error(StatusCode::BAD_REQUEST, "a conditional header is not valid")
        }
        _ => {
            return json_error(
                StatusCode::PRECONDITION_FAILED,
                "the resource changed since the version named in the precondition",
            )
        }
    }
    let existed = matches!(entry, Some(Entry::Live { .. }));
    match method.as_str() {
        "DELETE" => {
            if !existed {
                return json_error(StatusCode::NOT_FOUND, "no resource at this path");
            }
            store.insert(path.to_string(), Entry::Tombstone);
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::empty())
                .expect("valid")
        }
        "PUT" => {
            let v = match serde_json::from_slice::<Value>(body) {
                Ok(v) => v,
                Err(e) => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        &format!("the body is not valid JSON: {e}"),
                    )
                }
            };
            let e = live(v);
            let Entry::Live {
                text,
                etag,
                modified,
            } = &e
            else {
                unreachable!()
            };
            let r = doc_response(
                if existed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                text,
                etag,
                *modified,
                false,
            );
            store.insert(path.to_string(), e);
            r
        }
        _ => {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let json_patch = ct.starts_with("application/json-patch+json");
            if !json_patch && !ct.starts_with("application/merge-patch+json") {
                let mut r = json_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "PATCH takes application/merge-patch+json or application/json-patch+json",
                );
                r.headers_mut().insert(
                    "accept-patch",
                    HeaderValue::from_static(
                        "application/merge-patch+json, application/json-patch+json",
                    ),
                );
                return r;
            }
            let Some(Entry::Live { text, .. }) = &entry else {
                return json_error(StatusCode::NOT_FOUND, "no resource at this path");
            };
            let patch = match serde_json::from_slice::<Value>(body) {
                Ok(v) => v,
                Err(e) => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        &format!("the patch is not valid JSON: {e}"),
                    )
                }
            };
            let mut v: Value = serde_json::from_str(text).expect("stored text is JSON");
            if json_patch {
                match apply_json_patch(&mut v, &patch) {
                    Ok(()) => {}
                    // RFC 5789 §2.2: the patch does not apply to the resource's current state.
                    Err(e @ JsonPatchError::TestFailed { .. }) => {
                        return json_error(StatusCode::CONFLICT, &e.to_string())
                    }
                    Err(e) => return json_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
                }
            } else {
                apply_merge_patch(&mut v, &patch);
            }
            let e = live(v);
            let Entry::Live {
                text,
                etag,
                modified,
            } = &e
            else {
                unreachable!()
            };
            let r = doc_response(StatusCode::OK, text, etag, *modified, false);
            store.insert(path.to_string(), e);
            r
        }
    }
}

fn not_modified(tag: &EntityTag) -> Response {
    Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .header("etag", tag.raw.as_str())
        .body(Body::empty())
        .expect("valid")
}
