//! Conditional HTTP over reqwest: reads with If-None-Match from a per-resource cache, writes with
//! If-Match / If-None-Match: * / If-Unmodified-Since, and one typed `Outcome` per operation.
//!
//! Owns: timeouts, the response size limit, bounded retry of 429/503 honouring Retry-After,
//! redirects (followed by hand so Authorization never reaches another origin), the re-GET that
//! learns a validator a write's answer lacked (and checks our write is what the server now holds),
//! and the redacted request trail.
//!
//! Must never: retry a 412 (a conflict is the user's decision, not a transient failure), send a
//! secret to another origin, or write a secret into the trail or an outcome.

use crate::etag::EntityTag;
use crate::outcome::{Doc, Outcome, ValidatorSource};
use crate::precondition::{Precondition, Validator};
use crate::trail::{redact_url, rfc3339_now, Trail, TrailEntry};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A secret value: never printed by Debug or Display.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How requests authenticate. Attached only to requests for the connection's own origin.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(Secret),
    Basic {
        user: String,
        password: Secret,
    },
    Header {
        name: String,
        value: Secret,
    },
}

/// Why the credentials in the environment cannot be used (nothing is sent with them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The variable's value is not UTF-8 text.
    #[error("${0} is not valid UTF-8 text, so it cannot go into a header; nothing was sent")]
    NotText(&'static str),
    /// The value holds a line break or another control character (a header cannot).
    #[error("${0} holds a line break or another control character (a copy-paste accident?); nothing was sent")]
    ControlCharacter(&'static str),
    /// One half of a pair is set without the other.
    #[error("${0} is set but ${1} is not; set both, or neither")]
    Incomplete(&'static str, &'static str),
}

impl Auth {
    /// Credentials from the environment — the one place both the CLI and the desktop read them
    /// (arguments show up in `ps` and shell history): `IFMATCH_TOKEN` (bearer), else
    /// `IFMATCH_USER` + `IFMATCH_PASSWORD` (basic), else `IFMATCH_AUTH_HEADER` +
    /// `IFMATCH_AUTH_VALUE` (a custom header). Empty variables count as unset.
    pub fn from_env() -> Result<Auth, CredentialsError> {
        Auth::from_vars(|k| std::env::var_os(k))
    }

    /// `from_env` over any source of variables (tests).
    pub fn from_vars(
        get: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Auth, CredentialsError> {
        let var = |k: &'static str| -> Result<Option<String>, CredentialsError> {
            match get(k) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => {
                    let s = v.into_string().map_err(|_| CredentialsError::NotText(k))?;
                    if s.chars().any(|c| c.is_control()) {
                        return Err(CredentialsError::ControlCharacter(k));
                    }
                    Ok(Some(s))
                }
            }
        };
        if let Some(t) = var("IFMATCH_TOKEN")? {
            return Ok(Auth::Bearer(Secret::new(t)));
        }
        let pair = |a: &'static str,
                    b: &'static str|
         -> Result<Option<(String, String)>, CredentialsError> {
            match (var(a)?, var(b)?) {
                (Some(x), Some(y)) => Ok(Some((x, y))),
                (None, None) => Ok(None),
                (Some(_), None) => Err(CredentialsError::Incomplete(a, b)),
                (None, Some(_)) => Err(CredentialsError::Incomplete(b, a)),
            }
        };
        if let Some((user, p)) = pair("IFMATCH_USER", "IFMATCH_PASSWORD")? {
            return Ok(Auth::Basic {
                user,
                password: Secret::new(p),
            });
        }
        if let Some((name, v)) = pair("IFMATCH_AUTH_HEADER", "IFMATCH_AUTH_VALUE")? {
            return Ok(Auth::Header {
                name,
                value: Secret::new(v),
            });
        }
        Ok(Auth::None)
    }

    /// The credentials header as a request carries it, with the secret masked (`••••••`): for
    /// showing a request, never for sending one.
    pub fn masked_header(&self) -> Option<(String, String)> {
        match self {
            Auth::None => None,
            Auth::Bearer(_) => Some(("Authorization".into(), "Bearer ••••••".into())),
            Auth::Basic { user, .. } => {
                Some(("Authorization".into(), format!("Basic ({user}:••••••)")))
            }
            Auth::Header { name, .. } => Some((name.clone(), "••••••".into())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request time limit.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Answers larger than this are refused (not read into memory).
    pub max_body_bytes: usize,
    /// Attempts for 429 / 503, the first included.
    pub max_attempts: u32,
    /// The longest Retry-After the client waits for by itself; longer ones are reported.
    pub max_retry_wait: Duration,
    /// First back-off when the server gives no Retry-After (doubles each attempt).
    pub backoff_base: Duration,
    pub max_redirects: u32,
    /// Statuses that mean "stale write" on this server (412; a dialect may add 409).
    pub conflict_statuses: Vec<u16>,
    /// A PEM certificate the user explicitly trusts for this connection (self-signed servers).
    pub extra_root_pem: Option<Vec<u8>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024 * 1024,
            max_attempts: 3,
            max_retry_wait: Duration::from_secs(30),
            backoff_base: Duration::from_millis(250),
            max_redirects: 5,
            conflict_statuses: vec![412],
            extra_root_pem: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the HTTP client could not be set up: {0}")]
    Setup(String),
}

#[derive(Debug, Clone)]
struct CacheEntry {
    text: String,
    validator: Validator,
}

/// The conditional HTTP client of one connection.
pub struct Client {
    http: reqwest::Client,
    cfg: ClientConfig,
    auth: Auth,
    cache: Mutex<HashMap<String, CacheEntry>>,
    trail: Trail,
}

/// A complete answer (after redirects).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// How many times the request was sent (429 / 503 are retried).
    attempts: u32,
}

enum SendError {
    Before(String),
    After(String),
    TooLarge(String),
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
    /// How this client authenticates (to show a request with the secret masked).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn new(cfg: ClientConfig, auth: Auth) -> Result<Self, ClientError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("ifmatch/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &cfg.extra_root_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                ClientError::Setup(format!("the trusted certificate is not valid PEM: {e}"))
            })?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            cfg,
            auth,
            cache: Mutex::new(HashMap::new()),
            trail: Trail::default(),
        })
    }

    pub fn trail(&self) -> &Trail {
        &self.trail
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Reads a resource, revalidating the cached copy with If-None-Match (or If-Modified-Since).
    pub async fn get(&self, url: &str) -> Outcome {
        self.read(url, true).await
    }

    /// Reads a resource without the cache (no If-None-Match).
    pub async fn get_fresh(&self, url: &str) -> Outcome {
        self.read(url, false).await
    }

    /// Replaces a resource: `PUT` with the given precondition.
    pub async fn put(&self, url: &str, body: &str, pre: Precondition) -> Outcome {
        self.write(
            Method::PUT,
            url,
            Some((body, "application/json")),
            pre,
            Some(body),
        )
        .await
    }

    /// Creates a resource that must not exist yet: `PUT` with `If-None-Match: *`.
    pub async fn create(&self, url: &str, body: &str) -> Outcome {
        self.put(url, body, Precondition::IfNoneMatchAny).await
    }

    /// `PATCH` with a patch document; `expected` is the document the patch should produce (used to
    /// check the server's version after the write), when known.
    pub async fn patch(
        &self,
        url: &str,
        patch: &str,
        content_type: &str,
        pre: Precondition,
        expected: Option<&str>,
    ) -> Outcome {
        self.write(
            Method::PATCH,
            url,
            Some((patch, content_type)),
            pre,
            expected,
        )
        .await
    }

    pub async fn delete(&self, url: &str, pre: Precondition) -> Outcome {
        let out = self.write(Method::DELETE, url, None, pre, None).await;
        if out.is_success() {
            self.forget(url);
        }
        out
    }

    fn forget(&self, url: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(url);
    }

    fn remember(&self, url: &str, doc: &Doc) {
        if let Some(v) = &doc.validator {
            self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(
                url.to_string(),
                CacheEntry {
                    text: doc.text.clone(),
                    validator: v.clone(),
                },
            );
        }
    }

    async fn read(&self, url: &str, use_cache: bool) -> Outcome {
        let cached = if use_cache {
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(url)
                .cloned()
        } else {
            None
        };
        let mut headers: Vec<(&'static str, String)> = vec![];
        if let Some(c) = &cached {
            match &c.validator {
                Validator::Etag { tag } => headers.push(("If-None-Match", tag.raw.clone())),
                Validator::LastModified { raw } => headers.push(("If-Modified-Since", raw.clone())),
            }
        }
        let answer = match self.execute(Method::GET, url, &headers, None).await {
            Ok(a) => a,
            Err(out) => return out,
        };
        if answer.status == StatusCode::NOT_MODIFIED {
            if let Some(c) = cached {
                return Outcome::Fetched {
                    doc: Doc {
                        warnings: validator_warnings(Some(&c.validator), &answer.headers),
                        text: c.text,
                        validator: Some(c.validator),
                    },
                    from_cache: true,
                };
            }
            return Outcome::HttpError {
                status: 304,
                detail: "the server answered 304 Not Modified to a request that had no \
                         condition"
                    .into(),
            };
        }
        if !answer.status.is_success() {
            return self.classify_failure(&answer, None);
        }
        match doc_from(&answer) {
            Ok(doc) => {
                if use_cache {
                    self.remember(url, &doc);
                }
                Outcome::Fetched {
                    doc,
                    from_cache: false,
                }
            }
            Err(out) => out,
        }
    }

    async fn write(
        &self,
        method: Method,
        url: &str,
        body: Option<(&str, &str)>,
        pre: Precondition,
        expected: Option<&str>,
    ) -> Outcome {
        let mut headers = pre.headers();
        let body_bytes = body.map(|(b, ct)| {
            headers.push(("Content-Type", ct.to_string()));
            b.as_bytes().to_vec()
        });
        let answer = match self
            .execute(method.clone(), url, &headers, body_bytes.as_deref())
            .await
        {
            Ok(a) => a,
            Err(out) => return out,
        };
        let status = answer.status.as_u16();
        if !answer.status.is_success() {
            return self.classify_failure(&answer, Some(&pre));
        }
        if method == Method::DELETE {
            return Outcome::Deleted { status };
        }
        // The answer's validator, if any.
        let (validator, _) = validator_of(&answer.headers);
        if let Some(Validator::Etag { .. }) = &validator {
            // Trust a validator the write's answer carried; the body, when it is JSON, is the
            // server's version, otherwise ours is.
            let text = match std::str::from_utf8(&answer.body) {
                Ok(t) if is_json(t) => Some(t.to_string()),
                _ => expected.map(str::to_string),
            };
            let doc = text.map(|text| Doc {
                text,
                warnings: validator_warnings(validator.as_ref(), &answer.headers),
                validator: validator.clone(),
            });
            if let Some(d) = &doc {
                self.remember(url, d);
            }
            return Outcome::Saved {
                status,
                doc,
                validator_from: ValidatorSource::Response,
            };
        }
        // No ETag on the answer (Apache's PUT): GET to learn the validator, and check the server
        // now holds what we wrote. A read that does not parse is retried once before it is
        // believed (a server may serve a half-written file).
        self.forget(url);
        let mut fetched = self.get_fresh(url).await;
        if matches!(&fetched, Outcome::InvalidResponse { problem, .. } if problem == "not_json") {
            tokio::time::sleep(Duration::from_millis(100)).await;
            fetched = self.get_fresh(url).await;
        }
        match fetched {
            Outcome::Fetched { doc, .. } => {
                if let Some(exp) = expected {
                    if !same_json(exp, &doc.text) {
                        return Outcome::SavedThenChanged {
                            status,
                            current: doc,
                        };
                    }
                }
                self.remember(url, &doc);
                let from = if doc.validator.is_some() {
                    ValidatorSource::Refetch
                } else {
                    ValidatorSource::None
                };
                Outcome::Saved {
                    status,
                    doc: Some(doc),
                    validator_from: from,
                }
            }
            // The write was acknowledged; only learning the validator failed.
            _ => Outcome::Saved {
                status,
                doc: None,
                validator_from: ValidatorSource::None,
            },
        }
    }

    fn classify_failure(&self, a: &Answer, pre: Option<&Precondition>) -> Outcome {
        let status = a.status.as_u16();
        if self.cfg.conflict_statuses.contains(&status) {
            let hint = match pre {
                Some(Precondition::IfMatch(t)) if t.weak => Some(format!(
                    "The validator {} is a weak ETag; RFC 9110 requires servers to refuse \
                     If-Match with a weak tag, so every conditional write to this server will be \
                     refused this way. Use a connection dialect that carries the version \
                     elsewhere (a body revision field), or ask the API's owners for strong ETags.",
                    t.raw
                )),
                Some(Precondition::IfNoneMatchAny) => {
                    Some("(The resource already exists: a create never overwrites.)".to_string())
                }
                _ => None,
            };
            return Outcome::Conflict { status, hint };
        }
        match status {
            401 => Outcome::Unauthorized {
                challenge: a
                    .headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            },
            403 => Outcome::Forbidden,
            404 => Outcome::NotFound,
            410 => Outcome::Gone,
            428 => Outcome::PreconditionRequired,
            429 => Outcome::RateLimited {
                retry_after_secs: retry_after(&a.headers).map(|d| d.as_secs()),
                attempts: a.attempts,
            },
            503 => Outcome::Unavailable {
                retry_after_secs: retry_after(&a.headers).map(|d| d.as_secs()),
                attempts: a.attempts,
            },
            300..=399 => Outcome::HttpError {
                status,
                detail: match a.headers.get("location").and_then(|v| v.to_str().ok()) {
                    Some(loc) => format!(
                        "the server redirected the request to {loc}, which ifmatch does not \
                         follow for a write (it would change the method or drop the \
                         precondition); point the connection at that URL instead"
                    ),
                    None => "a redirect without a Location".into(),
                },
            },
            500..=599 => Outcome::ServerError {
                status,
                detail: error_detail(&a.body),
            },
            _ => Outcome::HttpError {
                status,
                detail: error_detail(&a.body),
            },
        }
    }

    /// Sends with bounded retry of 429 / 503 (never of anything else).
    async fn execute(
        &self,
        method: Method,
        url: &str,
        headers: &[(&'static str, String)],
        body: Option<&[u8]>,
    ) -> Result<Answer, Outcome> {
        let parsed: Url = match url.parse() {
            Ok(u) => u,
            Err(e) => {
                return Err(Outcome::NetworkBeforeSend {
                    detail: format!("the URL is not valid: {e}"),
                })
            }
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Outcome::NetworkBeforeSend {
                detail: format!(
                    "the URL must start with http:// or https://, not {}:",
                    parsed.scheme()
                ),
            });
        }
        let mut attempt = 1;
        loop {
            let res = self
                .send_following(method.clone(), &parsed, headers, body)
                .await;
            match res {
                Ok(a) => {
                    let code = a.status.as_u16();
                    if (code == 429 || code == 503) && attempt < self.cfg.max_attempts {
                        let wait = retry_after(&a.headers).unwrap_or_else(|| {
                            self.cfg.backoff_base * 2u32.saturating_pow(attempt - 1)
                        });
                        if wait <= self.cfg.max_retry_wait {
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            continue;
                        }
                    }
                    return Ok(Answer {
                        attempts: attempt,
                        ..a
                    });
                }
                Err(SendError::Before(d)) => return Err(Outcome::NetworkBeforeSend { detail: d }),
                Err(SendError::After(d)) => return Err(Outcome::NetworkAfterSend { detail: d }),
                Err(SendError::TooLarge(d)) => {
                    return Err(Outcome::InvalidResponse {
                        problem: "too_large".into(),
                        detail: d,
                    })
                }
            }
        }
    }

    /// One logical request: follows redirects by hand, attaching credentials only for the
    /// original origin; each hop is one trail record.
    async fn send_following(
        &self,
        mut method: Method,
        start: &Url,
        headers: &[(&'static str, String)],
        mut body: Option<&[u8]>,
    ) -> Result<Answer, SendError> {
        let origin = start.origin();
        let mut url = start.clone();
        let mut hops = 0;
        loop {
            let same_origin = url.origin() == origin;
            let answer = self
                .send_once(method.clone(), &url, headers, body, same_origin)
                .await?;
            let code = answer.status.as_u16();
            let location = answer
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(next) = location.filter(|_| matches!(code, 301 | 302 | 303 | 307 | 308))
            else {
                return Ok(answer);
            };
            let read_only = method == Method::GET || method == Method::HEAD;
            match (read_only, code) {
                (true, _) => {}
                // 307/308 keep the method and the body: the precondition goes along.
                (false, 307 | 308) => {}
                (false, 303) if method == Method::DELETE => {
                    // 303 after a DELETE points at a status page: the delete happened.
                    return Ok(Answer {
                        status: StatusCode::NO_CONTENT,
                        ..answer
                    });
                }
                // 301/302/303 would turn a write into a GET: report instead of following.
                _ => return Ok(answer),
            }
            if code == 303 {
                method = Method::GET;
                body = None;
            }
            hops += 1;
            if hops > self.cfg.max_redirects {
                return Ok(Answer {
                    status: StatusCode::LOOP_DETECTED,
                    headers: HeaderMap::new(),
                    attempts: 1,
                    body: format!(
                        "more than {} redirects; the last one pointed at {}",
                        self.cfg.max_redirects,
                        redact_url(&next)
                    )
                    .into_bytes(),
                });
            }
            url = next;
        }
    }

    async fn send_once(
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
            req = req.header(*name, value.as_str());
        }
        if with_auth {
            req = match &self.auth {
                Auth::None => req,
                Auth::Bearer(t) => req.bearer_auth(t.expose()),
                Auth::Basic { user, password } => req.basic_auth(user, Some(password.expose())),
                Auth::Header { name, value } => req.header(name.as_str(), value.expose()),
            };
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
            })
        }
        .await;
        entry.duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(a) => {
                entry.status = Some(a.status.as_u16());
                entry.request_id = REQUEST_ID_HEADERS.iter().find_map(|h| {
                    a.headers
                        .get(*h)
                        .and_then(|v| v.to_str().ok())
                        .map(|s| s.chars().take(200).collect())
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
        }
        self.trail.push(entry);
        result
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
    if e.is_connect() || e.is_builder() {
        SendError::Before(detail)
    } else {
        SendError::After(detail)
    }
}

/// The validator an answer carries: a parseable ETag first, else Last-Modified. The second value
/// is the raw ETag when it was present but unparseable.
fn validator_of(h: &HeaderMap) -> (Option<Validator>, Option<String>) {
    let mut garbled = None;
    if let Some(raw) = h.get("etag") {
        let text = String::from_utf8_lossy(raw.as_bytes()).into_owned();
        match EntityTag::parse(&text) {
            Ok(tag) => return (Some(Validator::Etag { tag }), None),
            Err(_) => garbled = Some(text),
        }
    }
    if let Some(lm) = h.get("last-modified").and_then(|v| v.to_str().ok()) {
        if httpdate::parse_http_date(lm).is_ok() {
            return (
                Some(Validator::LastModified {
                    raw: lm.to_string(),
                }),
                garbled,
            );
        }
    }
    (None, garbled)
}

fn validator_warnings(v: Option<&Validator>, h: &HeaderMap) -> Vec<String> {
    let mut w = vec![];
    let (_, garbled) = validator_of(h);
    if let Some(g) = garbled {
        w.push(format!(
            "The server sent an ETag that is not an entity tag ({g:?}); it was ignored."
        ));
    }
    match v {
        Some(Validator::Etag { tag }) => {
            if tag.weak {
                w.push(format!(
                    "The server's ETag {} is weak. RFC 9110 requires servers to refuse If-Match \
                     with a weak tag, so a compliant server will refuse every save; some servers \
                     accept it anyway.",
                    tag.raw
                ));
            }
            if !tag.quoted {
                w.push(format!(
                    "The server's ETag {} has no double quotes (RFC 9110 requires them); it is \
                     sent back exactly as received.",
                    tag.raw
                ));
            }
        }
        Some(Validator::LastModified { .. }) => w.push(
            "The server gives no ETag, only Last-Modified: saves use If-Unmodified-Since, which \
             has one-second granularity (two changes within one second look the same)."
                .into(),
        ),
        None => w.push(
            "The server gives no validator (no ETag, no Last-Modified): saves cannot be \
             conditional, so another change in the meantime could be overwritten."
                .into(),
        ),
    }
    w
}

fn doc_from(a: &Answer) -> Result<Doc, Outcome> {
    let text = match std::str::from_utf8(&a.body) {
        Ok(t) => t,
        Err(e) => {
            return Err(Outcome::InvalidResponse {
                problem: "not_json".into(),
                detail: format!("the body is not UTF-8 text: {e}"),
            })
        }
    };
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let ct = a
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no Content-Type");
        return Err(Outcome::InvalidResponse {
            problem: "not_json".into(),
            detail: format!(
                "{ct}, {} bytes, starting {:?}; JSON error: {e}",
                a.body.len(),
                text.chars().take(60).collect::<String>()
            ),
        });
    }
    let (validator, _) = validator_of(&a.headers);
    Ok(Doc {
        text: text.to_string(),
        warnings: validator_warnings(validator.as_ref(), &a.headers),
        validator,
    })
}

fn is_json(t: &str) -> bool {
    !t.trim().is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// Semantic JSON equality (key order ignored); byte equality first.
pub fn same_json(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => json_eq_unordered(&x, &y),
        _ => false,
    }
}

fn json_eq_unordered(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq_unordered(v, w)))
        }
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq_unordered(v, w))
        }
        _ => a == b,
    }
}

/// Retry-After: delta-seconds or an HTTP date.
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A short, readable detail from an error body: a JSON error message if there is one, else the
/// start of the text.
fn error_detail(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        let msg = v
            .pointer("/error/message")
            .or_else(|| v.pointer("/message"))
            .or_else(|| v.pointer("/error"))
            .or_else(|| v.pointer("/detail"))
            .or_else(|| v.pointer("/reason"));
        if let Some(serde_json::Value::String(s)) = msg {
            return s.chars().take(300).collect();
        }
    }
    let t = text.trim();
    if t.starts_with('<') {
        return String::new(); // an HTML error page says nothing useful in a sentence
    }
    t.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    fn vars(list: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: Vec<(String, OsString)> = list
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn credentials_from_the_environment() {
        assert!(matches!(Auth::from_vars(vars(&[])), Ok(Auth::None)));
        assert!(matches!(
            Auth::from_vars(vars(&[("IFMATCH_TOKEN", "t")])),
            Ok(Auth::Bearer(_))
        ));
        assert!(matches!(
            Auth::from_vars(vars(&[("IFMATCH_USER", "u"), ("IFMATCH_PASSWORD", "p")])),
            Ok(Auth::Basic { .. })
        ));
        assert!(matches!(
            Auth::from_vars(vars(&[
                ("IFMATCH_AUTH_HEADER", "X-Api-Key"),
                ("IFMATCH_AUTH_VALUE", "k")
            ])),
            Ok(Auth::Header { .. })
        ));
        assert_eq!(
            Auth::from_vars(vars(&[("IFMATCH_TOKEN", "abc\n")])).unwrap_err(),
            CredentialsError::ControlCharacter("IFMATCH_TOKEN")
        );
        assert_eq!(
            Auth::from_vars(vars(&[("IFMATCH_USER", "u")])).unwrap_err(),
            CredentialsError::Incomplete("IFMATCH_USER", "IFMATCH_PASSWORD")
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = OsString::from_vec(vec![0xff, 0xfe]);
            let r = Auth::from_vars(move |k| (k == "IFMATCH_TOKEN").then(|| bad.clone()));
            assert_eq!(r.unwrap_err(), CredentialsError::NotText("IFMATCH_TOKEN"));
        }
        // The message names the variable, never the value.
        let e = Auth::from_vars(vars(&[("IFMATCH_TOKEN", "sekrit\r")])).unwrap_err();
        assert!(!e.to_string().contains("sekrit"));
    }

    #[test]
    fn write_methods_by_either_spelling() {
        use crate::session::WriteMethod;
        assert_eq!(
            WriteMethod::from_name("merge-patch"),
            Some(WriteMethod::MergePatch)
        );
        assert_eq!(
            WriteMethod::from_name("merge_patch"),
            Some(WriteMethod::MergePatch)
        );
        assert_eq!(
            WriteMethod::from_name("JSON-PATCH"),
            Some(WriteMethod::JsonPatch)
        );
        assert_eq!(WriteMethod::from_name("put"), Some(WriteMethod::Put));
        assert_eq!(WriteMethod::from_name("post"), None);
    }

    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn secret_debug_is_redacted() {
        let a = Auth::Bearer(Secret::new("tok-123"));
        assert!(!format!("{a:?}").contains("tok-123"));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn validators_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("W/\"a\""));
        let (v, g) = validator_of(&h);
        assert!(matches!(v, Some(Validator::Etag { ref tag }) if tag.weak));
        assert!(g.is_none());
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("\"open"));
        h.insert(
            "last-modified",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        let (v, g) = validator_of(&h);
        assert!(matches!(v, Some(Validator::LastModified { .. })));
        assert_eq!(g.as_deref(), Some("\"open"));
        assert!(validator_warnings(v.as_ref(), &h)
            .iter()
            .any(|w| w.contains("not an entity tag")));
    }

    #[test]
    fn json_equality_ignores_key_order_only() {
        assert!(same_json(
            "{\"a\":1,\"b\":[1,2]}",
            "{ \"b\": [1, 2], \"a\": 1 }"
        ));
        assert!(!same_json("{\"b\":[2,1]}", "{\"b\":[1,2]}"));
        assert!(!same_json("{\"a\":1}", "not json"));
    }

    #[test]
    fn error_details() {
        assert_eq!(
            error_detail(br#"{"error":{"message":"bad label"}}"#),
            "bad label"
        );
        assert_eq!(error_detail(b"<html>oops</html>"), "");
        assert_eq!(error_detail(b"plain words"), "plain words");
    }
}
