//! GET and HEAD: the index at `/`, a collection (`GET /labels` lists every live `/labels/*` as
//! `{"labels": [...]}`, Gmail's shape), or one resource, each revalidated with If-None-Match.

use super::{doc_response, not_modified};
use crate::reply::json_error;
use crate::store::{etag_for, pretty, Entry, Store};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use ifmatch_engine::precondition::{evaluate, Conditions, Current, Evaluation};
use serde_json::{json, Value};
use std::time::SystemTime;

/// Answers a read of `path`.
pub(super) fn read(
    store: &Store,
    method: &Method,
    path: &str,
    conditions: &Conditions,
) -> Response {
    let head = method == Method::HEAD;
    if path == "/" {
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
            head,
        );
    }
    match store.get(path) {
        None => match collection(store, path) {
            Some(text) => {
                let tag = etag_for(&text);
                let current = Current {
                    etag: Some(&tag),
                    last_modified: None,
                };
                if evaluate(method.as_str(), conditions, Some(&current)) == Evaluation::NotModified
                {
                    return not_modified(&tag);
                }
                doc_response(StatusCode::OK, &text, &tag, SystemTime::now(), head)
            }
            None => json_error(StatusCode::NOT_FOUND, "no resource at this path"),
        },
        Some(Entry::Tombstone) => json_error(StatusCode::GONE, "this resource was deleted"),
        Some(Entry::Live {
            text,
            etag,
            modified,
        }) => {
            let current = Current {
                etag: Some(etag),
                last_modified: Some(*modified),
            };
            match evaluate(method.as_str(), conditions, Some(&current)) {
                Evaluation::NotModified => not_modified(etag),
                Evaluation::PreconditionFailed => {
                    json_error(StatusCode::PRECONDITION_FAILED, "precondition failed")
                }
                Evaluation::Malformed => {
                    json_error(StatusCode::BAD_REQUEST, "a conditional header is not valid")
                }
                Evaluation::Proceed => doc_response(StatusCode::OK, text, etag, *modified, head),
            }
        }
    }
}

/// The collection at `path` as text, when some live resource sits directly under it.
fn collection(store: &Store, path: &str) -> Option<String> {
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
    if items.is_empty() {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or("items");
    Some(pretty(&json!({ name: items })))
}
