//! The resource handlers: one request in, one answer out. `handle` routes control requests,
//! applies faults, checks credentials and, for a write, the preconditions (RFC 9110 §13.2.2
//! order, 428 when required), then hands the request to its method's handler.

mod delete;
mod get;
mod patch;
mod post;
mod put;

use crate::reply::json_error;
use crate::store::{Entry, Store};
use crate::{control, faults, store, DemoConfig, DemoState};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use ifmatch_engine::etag::EntityTag;
use ifmatch_engine::precondition::{evaluate, Conditions, Current, Evaluation};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Every request the server gets.
pub(crate) async fn handle(
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
        let resp = control::control(&state, &method, rest, &body);
        if method != Method::GET && resp.status().is_success() {
            let changed = rest.strip_prefix("/another-admin").unwrap_or(path.as_str());
            crate::live::changed(&state, changed);
        }
        return with_request_id(resp, n);
    }
    if method == Method::GET {
        if let Some(resp) = feed(&state, &path, &uri, &headers) {
            return with_request_id(resp, n);
        }
    }
    let fault = faults::take(&mut state.faults.lock().unwrap(), &method, &path);
    if let Some(f) = &fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if let Some(status) = f.status {
            return with_request_id(faults::answer(f, status), n);
        }
    }
    if let Some(f) = fault.as_ref().filter(|f| f.drop_before_apply) {
        return faults::broken(faults::answer(f, 500));
    }
    let resp = if crate::dialects::owns(&path) {
        let cfg = state.cfg.lock().unwrap().clone();
        match unauthorized(&cfg, &headers) {
            Some(refused) => refused,
            None => crate::dialects::answer(
                &mut state.dialects.lock().unwrap(),
                &method,
                &path,
                uri.query().unwrap_or(""),
                &body,
            ),
        }
    } else {
        resource(&state, &method, &path, &headers, &body)
    };
    if method != Method::GET && method != Method::HEAD && resp.status().is_success() {
        crate::live::changed(&state, &path);
    }
    if let Some(f) = &fault {
        if f.drop_after_apply {
            return faults::broken(resp);
        }
        if let Some(status) = f.status_after_apply {
            return with_request_id(faults::answer(f, status), n);
        }
    }
    with_request_id(resp, n)
}

/// A change feed (`live`), when the GET asks for one: the labels' history and the profile, an
/// event stream, a Kubernetes-style watch.
fn feed(state: &Arc<DemoState>, path: &str, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let query = uri.query().unwrap_or("");
    let wants_events = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    let watch = query
        .split('&')
        .any(|kv| kv == "watch=1" || kv == "watch=true");
    let is_feed = path == "/history"
        || path == "/profile"
        || (wants_events && !crate::dialects::owns(path))
        || (watch && path.starts_with("/api/v1/"));
    if !is_feed {
        return None;
    }
    let cfg = state.cfg.lock().unwrap().clone();
    if let Some(refused) = unauthorized(&cfg, headers) {
        return Some(refused);
    }
    Some(match path {
        "/history" => crate::live::history(state, query),
        "/profile" => crate::live::profile(state),
        _ if watch => crate::live::kube_watch(state.clone(), path.to_string(), query),
        _ => crate::live::sse(state.clone(), path.to_string()),
    })
}

/// One request to a resource.
fn resource(
    state: &DemoState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let cfg = state.cfg.lock().unwrap().clone();
    if let Some(refused) = unauthorized(&cfg, headers) {
        return refused;
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
    if is_read {
        return get::read(&store, method, path, &conditions);
    }
    match method.as_str() {
        "POST" => post::create(&mut store, path, body, &state.next_id),
        "PUT" | "PATCH" | "DELETE" => {
            if cfg.careless {
                return careless_write(&mut store, method, path, body);
            }
            if let Some(refused) = refuse_write(&cfg, &store, method, path, &conditions) {
                return refused;
            }
            match method.as_str() {
                "PUT" => put::replace(&mut store, path, body),
                "PATCH" => patch::apply(&mut store, path, headers, body),
                _ => delete::remove(&mut store, path),
            }
        }
        _ => {
            let mut r = json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "use GET, HEAD, PUT, PATCH, DELETE or POST",
            );
            r.headers_mut().insert(
                "allow",
                HeaderValue::from_static("GET, HEAD, PUT, PATCH, DELETE, POST"),
            );
            r
        }
    }
}

/// A write on the careless demo: no precondition is looked at, and a PATCH is acknowledged with
/// the unchanged document (and its ETag) without being applied.
fn careless_write(store: &mut Store, method: &Method, path: &str, body: &[u8]) -> Response {
    match method.as_str() {
        "PUT" => put::replace(store, path, body),
        "PATCH" => match store.get(path) {
            Some(Entry::Live {
                text,
                etag,
                modified,
            }) => doc_response(StatusCode::OK, text, etag, *modified, false),
            _ => json_error(StatusCode::NOT_FOUND, "no resource at this path"),
        },
        _ => delete::remove(store, path),
    }
}

/// 401 when the server wants a bearer token and the request does not carry it.
fn unauthorized(cfg: &DemoConfig, headers: &HeaderMap) -> Option<Response> {
    let token = cfg.bearer_token.as_ref()?;
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if given == Some(format!("Bearer {token}").as_str()) {
        return None;
    }
    let mut r = json_error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"ifmatch-demo\""),
    );
    Some(r)
}

/// The answer that refuses a write before it is applied: 428 for an unconditional write when
/// conditions are required, 400 for a malformed condition, 412 for a false one.
fn refuse_write(
    cfg: &DemoConfig,
    store: &Store,
    method: &Method,
    path: &str,
    conditions: &Conditions,
) -> Option<Response> {
    if cfg.require_preconditions && !conditions.any() {
        return Some(json_error(
            StatusCode::PRECONDITION_REQUIRED,
            "this server requires a conditional write: send If-Match with the ETag you read \
             (or If-None-Match: * to create)",
        ));
    }
    match evaluate(method.as_str(), conditions, current(store, path).as_ref()) {
        Evaluation::Proceed => None,
        Evaluation::Malformed => Some(json_error(
            StatusCode::BAD_REQUEST,
            "a conditional header is not valid",
        )),
        // A CouchDB-style server answers a stale write 409 {"error": "conflict"}.
        _ if cfg.stale_status == 409 => Some(json_error(
            StatusCode::CONFLICT,
            "conflict: the resource changed since the version named in the precondition",
        )),
        _ => Some(json_error(
            StatusCode::PRECONDITION_FAILED,
            "the resource changed since the version named in the precondition",
        )),
    }
}

/// What the preconditions are evaluated against: the live version at `path`, if any.
fn current<'s>(store: &'s Store, path: &str) -> Option<Current<'s>> {
    match store.get(path) {
        Some(Entry::Live { etag, modified, .. }) => Some(Current {
            etag: Some(etag),
            last_modified: Some(*modified),
        }),
        _ => None,
    }
}

/// Stores `v` at `path` and answers with the new version (`status`).
fn store_and_answer(
    store: &mut Store,
    path: &str,
    v: serde_json::Value,
    status: StatusCode,
) -> Response {
    let e = store::live(v);
    let r = match &e {
        Entry::Live {
            text,
            etag,
            modified,
        } => doc_response(status, text, etag, *modified, false),
        Entry::Tombstone => unreachable!("live() makes a live entry"),
    };
    store.insert(path.to_string(), e);
    r
}

/// A document answer with its validators (`head`: no body).
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

/// 304 with the current tag.
fn not_modified(tag: &EntityTag) -> Response {
    Response::builder()
        .status(StatusCode::NOT_MODIFIED)
        .header("etag", tag.raw.as_str())
        .body(Body::empty())
        .expect("valid")
}

/// Tags an answer with `x-request-id: demo-N` (what the trail records).
fn with_request_id(mut r: Response, n: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("demo-{n}")) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}
