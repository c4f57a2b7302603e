//! Scripted misbehaviour for tests: a status instead of the answer, a delay, extra headers, odd
//! bodies, or a connection broken after the request was handled.

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

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
    /// Handle the request for real, then answer with this status instead (a gateway's 500 or
    /// 503 after the upstream committed the write).
    #[serde(default)]
    pub status_after_apply: Option<u16>,
    /// Break the connection without handling the request (the write never reached the store).
    #[serde(default)]
    pub drop_before_apply: bool,
}

fn one() -> u32 {
    1
}

/// Takes one use of the first fault that applies to `method` and `path` (dropping it when used up).
pub(crate) fn take(faults: &mut Vec<Fault>, method: &Method, path: &str) -> Option<Fault> {
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

/// The answer a fault with a status gives instead of handling the request.
pub(crate) fn answer(f: &Fault, status: u16) -> Response {
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
        crate::store::pretty(
            &json!({"error": {"code": status.as_u16(), "message": "injected by the demo server"}}),
        )
    });
    b.body(Body::from(body)).expect("valid fault response")
}

/// `resp` with its head sent and its body failing: the connection breaks mid-answer.
pub(crate) fn broken(resp: Response) -> Response {
    let (parts, _) = resp.into_parts();
    let stream = futures_util::stream::iter(vec![Err::<Bytes, std::io::Error>(
        std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped by fault"),
    )]);
    let mut r = Response::from_parts(parts, Body::from_stream(stream));
    r.headers_mut().remove("content-length");
    r
}
