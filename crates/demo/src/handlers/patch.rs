//! PATCH (its preconditions already passed): `application/merge-patch+json` (RFC 7396) or
//! `application/json-patch+json` (RFC 6902; a failed `test` answers 409, RFC 5789 §2.2).

use super::store_and_answer;
use crate::reply::json_error;
use crate::store::{Entry, Store};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use ifmatch_engine::patch::{apply_json_patch, apply_merge_patch, JsonPatchError};
use serde_json::Value;

/// Applies the patch in `body` to the live resource at `path`.
pub(super) fn apply(store: &mut Store, path: &str, headers: &HeaderMap, body: &[u8]) -> Response {
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
            HeaderValue::from_static("application/merge-patch+json, application/json-patch+json"),
        );
        return r;
    }
    let Some(Entry::Live { text, .. }) = store.get(path) else {
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
            Err(e @ JsonPatchError::TestFailed { .. }) => {
                return json_error(StatusCode::CONFLICT, &e.to_string())
            }
            Err(e) => return json_error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        }
    } else {
        apply_merge_patch(&mut v, &patch);
    }
    store_and_answer(store, path, v, StatusCode::OK)
}
