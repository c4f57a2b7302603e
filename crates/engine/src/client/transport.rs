//! One request on the wire: headers, credentials (own origin only), the body limit, and one
//! redacted trail record per request sent.
//!
//! Must never: keep or return a text with the connection's secret in it. Every trail record
//! passes through `Auth::redact` (and its URL through `redact_url`) as it is pushed, and every
//! error text a request produces is redacted before it leaves `send_once`.

use super::auth::{authorize, Auth};
use super::Client;
use crate::trail::{redact_url, rfc3339_now, TrailEntry};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use std::time::Instant;

/// A complete answer (after redirects).
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    /// How many times the request was sent (429 / 503 are retried).
    pub(super) attempts: u32,
    /// The status that made it send again (the first retried answer), if it did.
    pub(super) retried: Option<u16>,
}

/// Why a request got no usable answer.
pub(super) enum SendError {
    Before(String),
    After(String),
    TooLarge(String),
    /// More redirects than the limit: `status` is the last hop's (a redirect status).
    TooManyRedirects {
        status: u16,
        detail: String,
    },
}

impl SendError {
    /// The same error with the connection's secret blanked out of its words (a network
    /// library's message may quote what it was given).
    fn redacted(self, auth: &Auth) -> SendError {
        match self {
            SendError::Before(d) => SendError::Before(auth.redact(&d)),
            SendError::After(d) => SendError::After(auth.redact(&d)),
            SendError::TooLarge(d) => SendError::TooLarge(auth.redact(&d)),
            SendError::TooManyRedirects { status, detail } => SendError::TooManyRedirects {
                status,
                detail: auth.redact(&detail),
            },
        }
    }
}

const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "x-amz-request-id",
    "x-amzn-requestid",
    "x-correlation-id",
    "x-github-request-id",
    "cf-ray",
];

impl Client {
    pub(super) async fn send_once(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&'static str, String)],
        body: Option<&[u8]>,
        with_auth: bool,
    ) -> Result<Answer, SendError> {
        let started = Instant::now();
        let at = rfc3339_now();
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header("Accept", "application/json");
        let mut preconditions = vec![];
        for (name, value) in headers {
            if name.starts_with("If-") {
                preconditions.push((name.to_string(), value.clone()));
            }
            req = match reqwest::header::HeaderValue::from_bytes(&header_bytes(value)) {
                Ok(v) => req.header(*name, v),
                Err(_) => req.header(*name, value.as_str()),
            };
        }
        if with_auth {
            req = authorize(req, &self.auth);
        }
        if let Some(b) = body {
            req = req.body(b.to_vec());
        }
        let mut entry = TrailEntry {
            at,
            method: method.to_string(),
            url: redact_url(url),
            request_id: None,
            preconditions,
            status: None,
            validator: None,
            duration_ms: 0,
            note: None,
        };
        let result = async {
            let mut resp = req.send().await.map_err(classify_reqwest)?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if let Some(len) = resp.content_length() {
                if len as usize > self.cfg.max_body_bytes {
                    return Err(SendError::TooLarge(format!(
                        "{len} bytes, the limit is {} bytes",
                        self.cfg.max_body_bytes
                    )));
                }
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(classify_reqwest)? {
                if body.len() + chunk.len() > self.cfg.max_body_bytes {
                    return Err(SendError::TooLarge(format!(
                        "more than {} bytes",
                        self.cfg.max_body_bytes
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                headers,
                body,
                attempts: 1,
                retried: None,
            })
        }
        .await;
        entry.duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(a) => {
                entry.status = Some(a.status.as_u16());
                // Redacted before it is cut, so a secret across the limit is not kept in part.
                entry.request_id = REQUEST_ID_HEADERS.iter().find_map(|h| {
                    a.headers
                        .get(*h)
                        .and_then(|v| v.to_str().ok())
                        .map(|s| self.auth.excerpt(s, 200))
                });
                entry.validator = a
                    .headers
                    .get("etag")
                    .or_else(|| a.headers.get("last-modified"))
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if !with_auth && !matches!(self.auth, Auth::None) {
                    entry.note = Some("redirected to another origin: credentials not sent".into());
                }
            }
            Err(SendError::Before(d)) => entry.note = Some(format!("not sent: {d}")),
            Err(SendError::After(d)) => entry.note = Some(format!("no complete answer: {d}")),
            Err(SendError::TooLarge(d)) => entry.note = Some(format!("answer too large: {d}")),
            Err(SendError::TooManyRedirects { .. }) => {}
        }
        // A lock token is a credential for the resource: none reaches the trail, including the
        // one this very answer hands out (a LOCK) and any a server echoes later.
        if let Ok(a) = &result {
            if let Some(t) = a.headers.get("lock-token").and_then(|v| v.to_str().ok()) {
                self.remember_lock_token(t.trim().trim_start_matches('<').trim_end_matches('>'));
            }
        }
        let tokens = self.lock_tokens();
        self.trail.push(entry.redacted(|t| {
            let mut s = self.auth.redact(t);
            for token in &tokens {
                if s.contains(token.as_str()) {
                    s = s.replace(token.as_str(), "[lock token]");
                }
            }
            s
        }));
        result.map_err(|e| e.redacted(&self.auth))
    }
}

fn classify_reqwest(e: reqwest::Error) -> SendError {
    // reqwest's Display can include the URL; ours are redacted, so describe the kind only.
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the connection broke"
    };
    let mut detail = what.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    let mut depth = 0;
    while let Some(s) = src {
        let text = s.to_string();
        if !text.is_empty() && depth < 3 && !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        src = s.source();
        depth += 1;
    }
    if let Some(why) = tls_words(&detail) {
        detail = format!("{detail}. {why}");
    }
    if e.is_connect() || e.is_builder() {
        SendError::Before(detail)
    } else {
        SendError::After(detail)
    }
}

/// What a TLS certificate refusal means and what to do, for the refusals users meet with
/// self-signed servers. rustls names some by their variant (`UnknownIssuer`) and others in words
/// ("certificate expired: …", "certificate not valid for name …"), so both are looked for.
fn tls_words(detail: &str) -> Option<&'static str> {
    let d = detail.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
    if has(&["causedasendentity"]) {
        Some(
            "The server presents a CA certificate (basicConstraints CA:TRUE, what `openssl req \
             -x509` makes by default) as its own, and it is not one you trust. If it is your \
             server's own self-signed certificate, trust exactly that certificate with --cacert \
             FILE (the certificate file the server uses)",
        )
    } else if has(&["unknownissuer", "unknown issuer"]) {
        Some(
            "The server's certificate is not signed by an authority this machine trusts. If it \
             is your own server, trust its certificate (or its CA's) with --cacert",
        )
    } else if has(&["notvalidforname", "not valid for name"]) {
        Some(
            "The server's certificate is not made out for this host name or address (its \
             subjectAltName must list it)",
        )
    } else if has(&["expired"]) {
        Some("The server's certificate has expired")
    } else if has(&["notvalidyet", "not valid yet", "not valid before"]) {
        Some("The server's certificate is not valid yet (check this machine's clock)")
    } else if has(&["invalidpurpose", "extended key usage"]) {
        Some(
            "The server's certificate is not made for TLS servers (its extendedKeyUsage does not \
             list serverAuth)",
        )
    } else {
        None
    }
}

/// Header bytes as text, one char per byte (Latin-1): every byte survives the round trip.
pub(super) fn latin1_text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A header value's bytes: Latin-1 when every char fits in one byte (so a validator received
/// with obs-text goes back exactly as it came), UTF-8 otherwise.
pub(super) fn header_bytes(value: &str) -> Vec<u8> {
    if value.chars().all(|c| (c as u32) <= 0xff) {
        value.chars().map(|c| c as u8).collect()
    } else {
        value.as_bytes().to_vec()
    }
}
