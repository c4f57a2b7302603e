//! POST: creates an item in a collection with a server-chosen id (how Gmail creates labels).

use super::store_and_answer;
use crate::reply::json_error;
use crate::store::Store;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Creates `body` under `path` as `path/Item_N`; the answer's Location names it.
pub(super) fn create(store: &mut Store, path: &str, body: &[u8], next_id: &AtomicU64) -> Response {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return json_error(StatusCode::BAD_REQUEST, "the body is not valid JSON");
    };
    let id = format!("Item_{}", next_id.fetch_add(1, Ordering::Relaxed));
    if let Value::Object(o) = &mut v {
        o.insert("id".into(), json!(id));
    }
    let new_path = format!("{path}/{id}");
    let mut r = store_and_answer(store, &new_path, v, StatusCode::CREATED);
    if let Ok(loc) = HeaderValue::from_str(&new_path) {
        r.headers_mut().insert("location", loc);
    }
    r
}
