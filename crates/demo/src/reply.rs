//! Answers every part of the demo server gives the same way: a JSON error. Below the handlers,
//! the control endpoints and the change feeds, so none of them imports another for it.

use crate::store;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

/// A JSON error answer: `{"error": {"code", "message"}}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let body = store::pretty(&json!({"error": {"code": status.as_u16(), "message": message}}));
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("static response parts are valid")
}
