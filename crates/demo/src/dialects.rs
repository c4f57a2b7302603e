//! Resources that speak other APIs' dialects of "version", for trying ifmatch's connection
//! dialects where the real servers cannot run (shapes taken from each API's documentation):
//!
//! - Kubernetes, `/api/v1/namespaces/NS/configmaps/NAME`: `metadata.resourceVersion` in the
//!   body; a PUT carrying another one is answered 409 with a `Status` whose `reason` is
//!   `Conflict`; a PUT without one updates unconditionally (as Kubernetes does).
//! - Grafana, `GET /api/dashboards/uid/UID` → `{"dashboard": {…, "version"}, "meta": {…}}`;
//!   `POST /api/dashboards/db` with `{"dashboard": {…}, "overwrite": false}`: another version →
//!   412 `{"status": "version-mismatch"}`; another dashboard's title → 412 `{"status":
//!   "name-exists"}`.
//! - Elasticsearch, `/INDEX/_doc/ID`: `_seq_no` / `_primary_term` beside `_source`; a write with
//!   `?if_seq_no=&if_primary_term=` naming another version → 409
//!   `version_conflict_engine_exception`; `?op_type=create` over an existing one → 409.
//! - Confluence, `/wiki/rest/api/content/ID`: `version.number`; a PUT must carry it plus one
//!   (409 "Version must be incremented…"); a title another page has → 400.
//! - Consul KV, `/v1/kv/KEY`: `GET ?raw` answers the stored value with its `ModifyIndex` in
//!   `X-Consul-Index` (the demo serves `?raw` only: real Consul's default answer carries the
//!   value base64-encoded); `PUT ?cas=N` writes only while the index is N (`cas=0`: only if the
//!   key is absent) and answers 200 `true` or `false`; `DELETE ?cas=N` likewise.
//!
//! Each write is one step under the lock (check and store together).

use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The dialect resources: path → (document as the API stores it, version counter).
pub(crate) struct Dialects {
    docs: HashMap<String, Value>,
    seq: u64,
}

pub(crate) fn seeded() -> Dialects {
    let mut d = Dialects {
        docs: HashMap::new(),
        seq: 1,
    };
    d.docs.insert(
        "/api/v1/namespaces/default/configmaps/settings".into(),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default", "uid": "6f1c", "resourceVersion": "1",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "data": {"theme": "light", "pageSize": "50"}
        }),
    );
    d.docs.insert(
        "/api/dashboards/uid/ops".into(),
        json!({"id": 7, "uid": "ops", "title": "Operations", "version": 1, "refresh": "30s",
               "panels": [{"id": 1, "title": "Errors"}, {"id": 2, "title": "Latency"}]}),
    );
    d.docs.insert(
        "/wiki/rest/api/content/42".into(),
        json!({"id": "42", "type": "page", "status": "current", "title": "Runbook",
               "space": {"key": "OPS"},
               "body": {"storage": {"value": "<p>Restart the service.</p>", "representation": "storage"}},
               "version": {"number": 1, "when": "2026-01-01T00:00:00.000Z", "by": {"displayName": "Admin"}},
               "_links": {"self": "/wiki/rest/api/content/42"}}),
    );
    d.docs.insert(
        "/wiki/rest/api/content/43".into(),
        json!({"id": "43", "type": "page", "status": "current", "title": "Postmortems",
               "space": {"key": "OPS"}, "version": {"number": 4}}),
    );
    d.docs.insert(
        "/v1/kv/settings".into(),
        json!({"ModifyIndex": 5, "Value": {"theme": "light", "pageSize": 50}}),
    );
    d.seq = 5;
    d.docs.insert(
        "/settings/_doc/1".into(),
        json!({"_seq_no": 0, "_primary_term": 1, "_version": 1,
               "_source": {"theme": "light", "pageSize": 50}}),
    );
    d
}

impl Dialects {
    /// The document at `path` as the API stores it.
    pub(crate) fn get(&self, path: &str) -> Option<&Value> {
        self.docs.get(path)
    }
}

/// Whether `path` is one of the dialect APIs' (then `answer` handles it).
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with("/api/v1/")
        || path.starts_with("/api/dashboards/")
        || path.starts_with("/wiki/rest/api/content/")
        || path.starts_with("/v1/kv/")
        || path.contains("/_doc/")
}

fn reply(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid response")
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// One request to a dialect resource.
pub(crate) fn answer(
    d: &mut Dialects,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> Response {
    let parsed = || serde_json::from_slice::<Value>(body).ok();
    if path.starts_with("/api/v1/") {
        return kubernetes(d, method, path, parsed());
    }
    if path.starts_with("/api/dashboards/") {
        return grafana(d, method, path, parsed());
    }
    if path.starts_with("/wiki/") {
        return confluence(d, method, path, parsed());
    }
    if path.starts_with("/v1/kv/") {
        return consul(d, method, path, query, parsed());
    }
    elasticsearch(d, method, path, query, parsed())
}

fn k8s_status(code: u16, reason: &str, message: &str) -> Response {
    reply(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
               "reason": reason, "code": code}),
    )
}

fn kubernetes(d: &mut Dialects, method: &Method, path: &str, body: Option<Value>) -> Response {
    match *method {
        Method::GET => match d.docs.get(path) {
            Some(v) => reply(200, v.clone()),
            None => k8s_status(404, "NotFound", "not found"),
        },
        Method::PUT => {
            let Some(mut new) = body.filter(Value::is_object) else {
                return k8s_status(400, "BadRequest", "the body is not an object");
            };
            let sent = new
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
            let current = d.docs.get(path);
            let Some(current) = current else {
                return k8s_status(404, "NotFound", "not found (create with POST)");
            };
            let have = current["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("");
            if sent.as_deref().is_some_and(|s| s != have) {
                return k8s_status(
                    409,
                    "Conflict",
                    "Operation cannot be fulfilled: the object has been modified; please apply \
                     your changes to the latest version and try again",
                );
            }
            d.seq += 1;
            let mut meta = current["metadata"].clone();
            meta["resourceVersion"] = json!(d.seq.to_string());
            new["metadata"] = meta;
            d.docs.insert(path.to_string(), new.clone());
            reply(200, new)
        }
        _ => k8s_status(405, "MethodNotAllowed", "not supported here"),
    }
}

/// Consul's KV store: a check-and-set index in the query, `true` / `false` in the answer.
fn consul(
    d: &mut Dialects,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<Value>,
) -> Response {
    let text = |code: u16, t: &str| {
        Response::builder()
            .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::from(t.to_string()))
            .expect("a valid response")
    };
    let index = d.docs.get(path).and_then(|v| v["ModifyIndex"].as_u64());
    let cas = query_value(query, "cas").map(|c| c.parse::<u64>());
    // Whether a cas-conditioned write may go ahead (no cas: always).
    let allowed = match cas {
        None => true,
        Some(Ok(0)) => index.is_none(),
        Some(Ok(n)) => index == Some(n),
        Some(Err(_)) => return text(400, "Invalid CAS index"),
    };
    match *method {
        Method::GET => {
            if query_value(query, "raw").is_none() && !query.split('&').any(|k| k == "raw") {
                return text(
                    400,
                    "this demo serves ?raw only (real Consul answers base64 without it)",
                );
            }
            match (d.docs.get(path), index) {
                (Some(v), Some(i)) => Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/json")
                    .header("X-Consul-Index", i.to_string())
                    .body(Body::from(v["Value"].to_string()))
                    .expect("a valid response"),
                _ => text(404, ""),
            }
        }
        Method::PUT => {
            let Some(value) = body else {
                return text(400, "the demo stores JSON values");
            };
            if !allowed {
                return text(200, "false");
            }
            d.seq += 1;
            d.docs.insert(
                path.to_string(),
                json!({"ModifyIndex": d.seq, "Value": value}),
            );
            text(200, "true")
        }
        Method::DELETE => {
            if !allowed {
                return text(200, "false");
            }
            d.docs.remove(path);
            text(200, "true")
        }
        _ => text(405, "method not allowed"),
    }
}

/// Confluence's content API: a PUT must carry `version.number` one above the current one (409
/// "Version must be incremented…" otherwise); a title another page has is 400.
fn confluence(d: &mut Dialects, method: &Method, path: &str, body: Option<Value>) -> Response {
    let message = |code: u16, m: String| reply(code, json!({"statusCode": code, "message": m}));
    match *method {
        Method::GET => match d.docs.get(path) {
            Some(v) => reply(200, v.clone()),
            None => message(404, "No content found with id".into()),
        },
        Method::PUT => {
            let Some(mut new) = body.filter(Value::is_object) else {
                return message(400, "Could not parse the request body".into());
            };
            let Some(current) = d.docs.get(path) else {
                return message(404, "No content found with id".into());
            };
            let have = current["version"]["number"].as_u64().unwrap_or(0);
            if new["version"]["number"].as_u64() != Some(have + 1) {
                return message(
                    409,
                    format!("Version must be incremented on update. Current version is: {have}"),
                );
            }
            if title_taken(d, "/wiki/", path, &new["title"]) {
                return message(
                    400,
                    "A page with this title already exists in this space".into(),
                );
            }
            let current = current.clone();
            new["version"] = json!({"number": have + 1, "when": "2026-01-01T00:00:01.000Z",
                                    "by": {"displayName": "ifmatch"}});
            new["_links"] = current["_links"].clone();
            d.docs.insert(path.to_string(), new.clone());
            reply(200, new)
        }
        _ => message(405, "Method not allowed".into()),
    }
}

/// Whether another resource under `prefix` than `key` has this title (Grafana's and
/// Confluence's name clash).
fn title_taken(d: &Dialects, prefix: &str, key: &str, title: &Value) -> bool {
    d.docs
        .iter()
        .any(|(k, v)| k.starts_with(prefix) && k != key && v["title"] == *title)
}

fn grafana(d: &mut Dialects, method: &Method, path: &str, body: Option<Value>) -> Response {
    if *method == Method::GET {
        return match d.docs.get(path) {
            Some(v) => reply(
                200,
                json!({"dashboard": v, "meta": {"slug": v["title"].as_str().unwrap_or("").to_lowercase(),
                                                 "canSave": true, "version": v["version"]}}),
            ),
            None => reply(404, json!({"message": "Dashboard not found"})),
        };
    }
    if !(*method == Method::POST && path == "/api/dashboards/db") {
        return reply(405, json!({"message": "Method not allowed"}));
    }
    let Some(mut dash) = body.and_then(|b| b.get("dashboard").cloned()) else {
        return reply(400, json!({"message": "bad request data"}));
    };
    let uid = dash["uid"].as_str().unwrap_or("").to_string();
    let key = format!("/api/dashboards/uid/{uid}");
    if title_taken(d, "/api/dashboards/uid/", &key, &dash["title"]) {
        return reply(
            412,
            json!({"status": "name-exists", "message": "A dashboard with the same name in the folder already exists"}),
        );
    }
    let version = match d.docs.get(&key) {
        Some(current) => {
            if dash["version"] != current["version"] {
                return reply(
                    412,
                    json!({"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}),
                );
            }
            current["version"].as_u64().unwrap_or(0) + 1
        }
        None => 1,
    };
    dash["version"] = json!(version);
    if dash.get("id").is_none_or(Value::is_null) {
        d.seq += 1;
        dash["id"] = json!(d.seq);
    }
    let id = dash["id"].clone();
    d.docs.insert(key, dash);
    reply(
        200,
        json!({"id": id, "uid": uid, "status": "success", "version": version, "slug": ""}),
    )
}

fn elasticsearch(
    d: &mut Dialects,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<Value>,
) -> Response {
    let (index, id) = path
        .trim_start_matches('/')
        .split_once("/_doc/")
        .unwrap_or(("", ""));
    let envelope = |v: &Value| {
        let mut e = json!({"_index": index, "_id": id, "found": true});
        for k in ["_version", "_seq_no", "_primary_term", "_source"] {
            e[k] = v[k].clone();
        }
        e
    };
    let conflict = |reason: String| {
        reply(
            409,
            json!({"error": {"type": "version_conflict_engine_exception", "reason": reason},
                   "status": 409}),
        )
    };
    let current = d.docs.get(path).cloned();
    let stale = |c: &Value| {
        let want = (
            query_value(query, "if_seq_no"),
            query_value(query, "if_primary_term"),
        );
        match want {
            (Some(s), Some(t)) => {
                let (seq, term) = (c["_seq_no"].to_string(), c["_primary_term"].to_string());
                (s != seq || t != term).then(|| {
                    format!(
                        "[{id}]: version conflict, required seqNo [{s}], primary term [{t}]. current document has seqNo [{}] and primary term [{}]",
                        c["_seq_no"], c["_primary_term"]
                    )
                })
            }
            _ => None,
        }
    };
    match *method {
        Method::GET => match current {
            Some(c) => reply(200, envelope(&c)),
            None => reply(404, json!({"_index": index, "_id": id, "found": false})),
        },
        Method::PUT => {
            let Some(source) = body.filter(Value::is_object) else {
                return reply(
                    400,
                    json!({"error": {"type": "mapper_parsing_exception"}, "status": 400}),
                );
            };
            if let Some(c) = &current {
                if query_value(query, "op_type") == Some("create") {
                    return conflict(format!("[{id}]: version conflict, document already exists"));
                }
                if let Some(why) = stale(c) {
                    return conflict(why);
                }
            } else if query_value(query, "if_seq_no").is_some() {
                return conflict(format!("[{id}]: version conflict, document does not exist"));
            }
            d.seq += 1;
            let version = current
                .as_ref()
                .and_then(|c| c["_version"].as_u64())
                .unwrap_or(0)
                + 1;
            let new = json!({"_seq_no": d.seq, "_primary_term": 1, "_version": version, "_source": source});
            d.docs.insert(path.to_string(), new);
            let status = if current.is_some() { 200 } else { 201 };
            reply(
                status,
                json!({"_index": index, "_id": id, "_version": version,
                       "result": if status == 201 { "created" } else { "updated" },
                       "_seq_no": d.seq, "_primary_term": 1}),
            )
        }
        Method::DELETE => match current {
            None => reply(404, json!({"result": "not_found"})),
            Some(c) => {
                if let Some(why) = stale(&c) {
                    return conflict(why);
                }
                d.docs.remove(path);
                reply(200, json!({"result": "deleted"}))
            }
        },
        _ => reply(405, json!({"error": "method not allowed", "status": 405})),
    }
}
