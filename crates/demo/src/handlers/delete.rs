//! DELETE (its preconditions already passed): leaves a tombstone, so a later GET answers 410.

use crate::reply::json_error;
use crate::store::{Entry, Store};
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

/// Deletes the live resource at `path` (404 when there is none).
pub(super) fn remove(store: &mut Store, path: &str) -> Response {
    if !matches!(store.get(path), Some(Entry::Live { .. })) {
        return json_error(StatusCode::NOT_FOUND, "no resource at this path");
    }
    store.insert(path.to_string(), Entry::Tombstone);
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .expect("valid")
}
