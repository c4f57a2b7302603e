//! PUT (its preconditions already passed): replaces or creates the resource.

use super::store_and_answer;
use crate::reply::json_error;
use crate::store::{Entry, Store};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

/// Stores `body` at `path`: 200 when it replaced a live version, 201 when it created one.
pub(super) fn replace(store: &mut Store, path: &str, body: &[u8]) -> Response {
    let v = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not valid JSON: {e}"),
            )
        }
    };
    let status = if matches!(store.get(path), Some(Entry::Live { .. })) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    store_and_answer(store, path, v, status)
}
