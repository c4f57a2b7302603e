//! The control endpoints under `/_demo/`: "another admin" changes a resource, faults are set
//! and cleared, the precondition requirement switched, the store reset to the seed.

use crate::faults::Fault;
use crate::reply::json_error;
use crate::store::{another_admin, pretty, seeded};
use crate::DemoState;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct ConfigPatch {
    require_preconditions: Option<bool>,
    stale_status: Option<u16>,
}

/// Answers one control request (`rest` is the path after `/_demo`).
pub(crate) fn control(state: &DemoState, method: &Method, rest: &str, body: &[u8]) -> Response {
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
            match another_admin(&mut state.store.lock().unwrap(), path, patch.as_ref()) {
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
                match c.stale_status {
                    Some(s @ (409 | 412)) => cfg.stale_status = s,
                    Some(s) => {
                        return json_error(
                            StatusCode::BAD_REQUEST,
                            &format!("stale_status must be 409 or 412, not {s}"),
                        )
                    }
                    None => {}
                }
                ok(json!({
                    "require_preconditions": cfg.require_preconditions,
                    "stale_status": cfg.stale_status,
                }))
            }
            Err(e) => json_error(StatusCode::BAD_REQUEST, &format!("not a config: {e}")),
        },
        ("POST", "/reset") => {
            *state.store.lock().unwrap() = seeded();
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
