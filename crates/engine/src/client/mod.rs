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

mod auth;
mod cache;
mod classify;
pub mod lock;
mod redirect;
mod retry;
mod stream;
mod transport;
mod trust;
mod verify;
pub mod write;

pub use auth::{Auth, CredentialsError, Secret};
pub use stream::{StreamBroke, Streaming};

use crate::dialect::{Dialect, DialectError};
use crate::outcome::{AnswerProblem, Outcome, Received};
use crate::precondition::Precondition;
use crate::trail::Trail;
use cache::Cache;
use reqwest::{Method, StatusCode};
use std::time::Duration;

#[derive(Debug, Clone)]
/// How a connection's client behaves: time limits, the body limit, retries, redirects, the
/// statuses that mean a stale write, and an extra trusted certificate.
pub struct ClientConfig {
    /// Whole-request time limit.
    pub timeout: Duration,
    /// Time limit for making the connection (nothing has been sent when it runs out).
    pub connect_timeout: Duration,
    /// Answers larger than this are refused (not read into memory).
    pub max_body_bytes: usize,
    /// Attempts for 429 / 503, the first included.
    pub max_attempts: u32,
    /// The longest Retry-After the client waits for by itself; longer ones are reported.
    pub max_retry_wait: Duration,
    /// First back-off when the server gives no Retry-After (doubles each attempt).
    pub backoff_base: Duration,
    /// Redirects followed at most (each one a trail record).
    pub max_redirects: u32,
    /// Statuses that mean "stale write" on this server (412; a dialect may add 409).
    pub conflict_statuses: Vec<u16>,
    /// A PEM certificate the user explicitly trusts for this connection (self-signed servers).
    pub extra_root_pem: Option<Vec<u8>>,
    /// How the server spells "version" (plain RFC 9110 by default): every read and write goes
    /// through it.
    pub dialect: Dialect,
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
            dialect: Dialect::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
/// Why a client could not be made.
pub enum ClientError {
    /// reqwest refused the configuration (an invalid certificate, a TLS back end missing).
    #[error("the HTTP client could not be set up: {0}")]
    Setup(String),
    /// The trusted certificate file is unusable: what is wrong with it, in words that follow its
    /// name ("holds no PEM certificate (it is empty)").
    #[error("the trusted certificate file {0}")]
    Certificate(String),
}

/// What one request got back, as the server said it (`Client::exchange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The answer's status.
    pub status: u16,
    /// The ETag header exactly as sent (not parsed).
    pub etag: Option<String>,
    /// The Last-Modified header.
    pub last_modified: Option<String>,
    /// The Content-Type header.
    pub content_type: Option<String>,
    /// The Server header (which software answered).
    pub server: Option<String>,
    /// The DAV header (the WebDAV classes the server offers: `1,2` has locks).
    pub dav: Option<String>,
    /// The body as text (invalid UTF-8 replaced), with the connection's secret redacted.
    pub body: String,
}

/// A write as it will be sent (`Client::request_for`), credentials masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    /// The HTTP method (the dialect's, e.g. Grafana's POST).
    pub method: String,
    /// Where it goes, with the dialect's query (the version for Elasticsearch).
    pub url: String,
    /// Its headers, credentials masked.
    pub headers: Vec<(String, String)>,
    /// Its body (under a dialect: the API's envelope with the version put back).
    pub body: String,
}

/// The conditional HTTP client of one connection.
pub struct Client {
    http: reqwest::Client,
    cfg: ClientConfig,
    auth: Auth,
    cache: Cache,
    trail: Trail,
    /// The server write locks this client holds (URL → token), see `lock`.
    locks: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Every lock token a server handed this client, kept out of the trail in any answer that
    /// echoes one (a request id, a validator), also after the lock is released.
    lock_tokens: std::sync::Mutex<Vec<String>>,
    /// Saves take the server's write lock (`use_server_lock`).
    lock_wanted: std::sync::atomic::AtomicBool,
}

impl Client {
    /// The connection's dialect (how the server spells "version").
    pub fn dialect(&self) -> &Dialect {
        &self.cfg.dialect
    }

    /// How this client authenticates (to show a request with the secret masked).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The request a write of `plan` to `url` sends on this connection, as the window shows it
    /// before it goes (credentials masked). Under a dialect that is the dialect's own request
    /// (its method and path, the version in the body or the query).
    pub fn request_for(
        &self,
        plan: &write::WritePlan,
        url: &str,
    ) -> Result<PlannedRequest, DialectError> {
        let d = &self.cfg.dialect;
        if d.is_plain() {
            return Ok(PlannedRequest {
                method: plan.http_method().into(),
                url: url.into(),
                headers: plan.headers(&self.auth),
                body: plan.body.clone(),
            });
        }
        let pre = plan.precondition.clone().unwrap_or(Precondition::None);
        let w = dialect_put(
            d,
            url,
            plan.http_method(),
            plan.content_type,
            &plan.body,
            &pre,
        )?;
        let mut headers: Vec<(String, String)> = w
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        headers.extend(self.auth.masked_header());
        Ok(PlannedRequest {
            method: w.method.to_string(),
            url: w.url,
            headers,
            body: w.body,
        })
    }

    /// A client for one connection.
    pub fn new(cfg: ClientConfig, auth: Auth) -> Result<Self, ClientError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("ifmatch/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &cfg.extra_root_pem {
            // The certificate is added to the built-in roots, and trusted as the server's own
            // even when it is marked as a CA, as curl does (`trust`).
            let certs = trust::certificates(pem)?;
            b = b.use_preconfigured_tls(trust::tls_config(certs)?);
        }
        let http = b.build().map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            cfg,
            auth,
            cache: Cache::default(),
            trail: Trail::default(),
            locks: Default::default(),
            lock_tokens: Default::default(),
            lock_wanted: Default::default(),
        })
    }

    /// The record of every request this client sent (redacted).
    pub fn trail(&self) -> &Trail {
        &self.trail
    }

    /// The configuration the client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Reads a resource, revalidating the cached copy with If-None-Match (or If-Modified-Since).
    pub async fn get(&self, url: &str) -> Outcome {
        self.scrubbed(self.read(url, true).await)
    }

    /// Reads a resource without the cache (no If-None-Match).
    pub async fn get_fresh(&self, url: &str) -> Outcome {
        self.scrubbed(self.read(url, false).await)
    }

    /// `out` with the connection's secret redacted wherever the server's words echoed it (error
    /// details, a challenge, warnings): outcomes are printed and shown, a secret never is.
    fn scrubbed(&self, out: Outcome) -> Outcome {
        if matches!(self.auth, Auth::None) {
            return out;
        }
        let r = |t: String| self.auth.redact(&t);
        let doc = |mut d: Received| {
            d.warnings = d.warnings.into_iter().map(r).collect();
            // A validator built from the request (the credential in the ETag, in any spelling)
            // is not kept: everything downstream shows or stores validators (the CLI's stdout,
            // a tab's history, a draft). Writes here are compared before and read back after.
            if d.validator
                .as_ref()
                .is_some_and(|v| self.auth.redact(&v.text()) != v.text())
            {
                d.validator = None;
                d.warnings.push(
                    "The server's validator holds your credential (it was built from the \
                     request): ifmatch does not keep it or send it back, so writes to this \
                     resource are compared just before and read back after instead."
                        .into(),
                );
            }
            d
        };
        match out {
            Outcome::ServerError {
                status,
                detail,
                may_have_landed,
            } => Outcome::ServerError {
                status,
                detail: r(detail),
                may_have_landed,
            },
            Outcome::HttpError { status, detail } => Outcome::HttpError {
                status,
                detail: r(detail),
            },
            Outcome::InvalidResponse { problem, detail } => Outcome::InvalidResponse {
                problem,
                detail: r(detail),
            },
            Outcome::Unauthorized { challenge } => Outcome::Unauthorized {
                challenge: challenge.map(r),
            },
            Outcome::Conflict { status, hint } => Outcome::Conflict {
                status,
                hint: hint.map(r),
            },
            Outcome::Fetched { doc: d, from_cache } => Outcome::Fetched {
                doc: doc(d),
                from_cache,
            },
            Outcome::Saved {
                status,
                doc: d,
                validator_from,
            } => Outcome::Saved {
                status,
                doc: d.map(doc),
                validator_from,
            },
            other => other,
        }
    }

    /// Replaces a resource: `PUT` with the given precondition.
    pub async fn put(&self, url: &str, body: &str, pre: Precondition) -> Outcome {
        let out = self
            .write(
                Method::PUT,
                url,
                Some((body, "application/json")),
                pre,
                Some(body),
            )
            .await;
        self.scrubbed(out)
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
        let out = self
            .write(
                Method::PATCH,
                url,
                Some((patch, content_type)),
                pre,
                expected,
            )
            .await;
        self.scrubbed(out)
    }

    /// Deletes a resource: `DELETE` with the given precondition.
    pub async fn delete(&self, url: &str, pre: Precondition) -> Outcome {
        let out = self.write(Method::DELETE, url, None, pre, None).await;
        if out.is_success() {
            self.cache.forget(url);
        }
        self.scrubbed(out)
    }

    /// One request exactly as given (redirects, retries, credentials and the trail as for every
    /// other request; no cache, no interpretation): for the server check, which needs to see what
    /// the server answered, not what ifmatch makes of it.
    pub async fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(&'static str, String)],
        body: Option<(&str, &str)>,
    ) -> Result<Exchange, Outcome> {
        let method =
            Method::from_bytes(method.as_bytes()).map_err(|_| Outcome::NetworkBeforeSend {
                detail: format!("{method:?} is not an HTTP method"),
            })?;
        let mut headers = headers.to_vec();
        if let Some((_, ct)) = body {
            headers.push(("Content-Type", ct.to_string()));
        }
        let answer = self
            .execute(method, url, &headers, body.map(|(b, _)| b.as_bytes()))
            .await
            .map_err(|out| self.scrubbed(out))?;
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .map(|v| transport::latin1_text(v.as_bytes()))
        };
        Ok(Exchange {
            status: answer.status.as_u16(),
            etag: header("etag"),
            last_modified: header("last-modified"),
            content_type: header("content-type"),
            server: header("server"),
            dav: header("dav"),
            body: self.auth.redact(&String::from_utf8_lossy(&answer.body)),
        })
    }

    async fn read(&self, url: &str, use_cache: bool) -> Outcome {
        self.read_counted(url, use_cache, &mut 0).await
    }

    /// `read`, adding the answer body's length to `bytes` (the live watch counts what it costs).
    async fn read_counted(&self, url: &str, use_cache: bool, bytes: &mut u64) -> Outcome {
        // A version kept in the body cannot revalidate a cached copy.
        let use_cache = use_cache && self.cfg.dialect.header_version();
        let cached = if use_cache { self.cache.get(url) } else { None };
        let headers: Vec<(&'static str, String)> = cached
            .iter()
            .map(|c| c.validator.revalidate_header())
            .collect();
        let answer = match self.execute(Method::GET, url, &headers, None).await {
            Ok(a) => a,
            Err(out) => return out,
        };
        *bytes += answer.body.len() as u64;
        if answer.status == StatusCode::NOT_MODIFIED {
            if let Some(c) = cached {
                return Outcome::Fetched {
                    doc: Received {
                        warnings: classify::validator_warnings(Some(&c.validator), &answer.headers),
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
            return classify::failure(&answer, None, &self.cfg.conflict_statuses, &self.auth);
        }
        match classify::received(&answer, &self.auth).and_then(|doc| {
            self.cfg
                .dialect
                .on_read_with(doc, &|name| {
                    answer
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                })
                .map_err(|e| Outcome::InvalidResponse {
                    problem: AnswerProblem::Dialect,
                    detail: e.to_string(),
                })
        }) {
            Ok(doc) => {
                if use_cache {
                    self.cache.remember(url, &doc);
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
        if !self.cfg.dialect.is_plain() {
            return self.write_in_dialect(method, url, body, pre).await;
        }
        let mut headers = pre.headers();
        headers.extend(self.lock_header(url));
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
        if method == Method::PATCH && answer.status == StatusCode::NOT_FOUND {
            // Some servers (pouchdb-server) answer a PATCH they do not route with 404 although
            // the resource is there: "no resource at this URL" would be false. Nothing was
            // applied either way.
            if let Outcome::Fetched { .. } = self.get_fresh(url).await {
                return Outcome::HttpError {
                    status: 404,
                    detail: "the resource is there (a read finds it), but this server answers \
                             PATCH with 404 here: it does not support PATCH for this resource. \
                             Nothing was changed; write the whole document with PUT instead"
                        .into(),
                };
            }
        }
        if !answer.status.is_success() {
            let failure =
                classify::failure(&answer, Some(&pre), &self.cfg.conflict_statuses, &self.auth);
            // A 5xx may come from a gateway after the upstream committed the write, and a
            // conflict after a retried 503 may be our own first attempt: settle it by a read.
            let may_have_landed = match &failure {
                Outcome::ServerError { .. } | Outcome::Unavailable { .. } => true,
                Outcome::Conflict { .. } => answer.attempts > 1,
                _ => false,
            };
            return match expected.filter(|_| may_have_landed && method != Method::DELETE) {
                Some(exp) => {
                    self.cache.forget(url);
                    let read = self.get_fresh(url).await;
                    // What the server said, in order: "503, then 412 to the retry".
                    let said = match answer.retried {
                        Some(first) => format!(
                            "{first}, then {} to the retry (the first attempt had landed)",
                            answer.status.as_u16()
                        ),
                        None => answer.status.as_u16().to_string(),
                    };
                    let out = verify::settle(answer.status.as_u16(), &said, failure, exp, read);
                    if let Outcome::Saved { doc: Some(d), .. } = &out {
                        self.cache.remember(url, d);
                    }
                    out
                }
                None => failure,
            };
        }
        if method == Method::DELETE {
            return Outcome::Deleted {
                status: answer.status.as_u16(),
            };
        }
        if let Some(out) = verify::from_answer(&answer, expected) {
            if let Outcome::Saved { doc: Some(d), .. } = &out {
                self.cache.remember(url, d);
            }
            return out;
        }
        // No ETag on the answer (Apache's PUT): GET to learn the validator, and check the server
        // now holds what we wrote. A read that does not parse is retried once before it is
        // believed (a server may serve a half-written file).
        self.cache.forget(url);
        let mut fetched = self.get_fresh(url).await;
        if matches!(&fetched, Outcome::InvalidResponse { problem, .. } if *problem == AnswerProblem::NotJson)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
            fetched = self.get_fresh(url).await;
        }
        let out = verify::from_read(answer.status.as_u16(), expected, fetched);
        if let Outcome::Saved { doc: Some(d), .. } = &out {
            self.cache.remember(url, d);
        }
        out
    }

    /// A write in the connection's dialect: the document put into the body it wants (the
    /// version in its field or the query), sent where and how the dialect says, the answer
    /// judged by the dialect's conflict rule, and what the server holds read back (the answer
    /// of such APIs is rarely the document): saved only when it holds what was sent.
    async fn write_in_dialect(
        &self,
        method: Method,
        url: &str,
        body: Option<(&str, &str)>,
        pre: Precondition,
    ) -> Outcome {
        let d = &self.cfg.dialect;
        let not_sent = |detail: String| Outcome::NotSent { detail };
        let (method, wurl, headers, bytes, document) = if method == Method::DELETE {
            if d.write_path.is_some() {
                return not_sent(
                    DialectError::DeleteElsewhere {
                        dialect: d.name.clone(),
                    }
                    .to_string(),
                );
            }
            let (query, pre) = match d.on_delete(&pre) {
                Ok(q) => q,
                Err(e) => return not_sent(e.to_string()),
            };
            let wurl = match d.write_url(url, &query) {
                Ok(u) => u,
                Err(e) => return not_sent(e.to_string()),
            };
            (Method::DELETE, wurl, pre.headers(), None, None)
        } else {
            let Some((doc, ct)) = body else {
                return not_sent("a write without a body".into());
            };
            let w = match dialect_put(d, url, method.as_str(), ct, doc, &pre) {
                Ok(w) => w,
                Err(e) => return not_sent(e.to_string()),
            };
            if w.read_first {
                match self.get_fresh(url).await {
                    Outcome::NotFound | Outcome::Gone => {}
                    Outcome::Fetched { .. } => {
                        return Outcome::Conflict {
                            status: 200,
                            hint: Some(format!(
                                "(A read just before showed the resource exists, and a create \
                                 never overwrites. The {} dialect cannot make a create \
                                 conditional: one made by someone else in the same moment \
                                 could still be replaced.)",
                                d.name
                            )),
                        }
                    }
                    other => return other,
                }
            }
            (w.method, w.url, w.headers, Some(w.body), Some(d.strip(doc)))
        };
        self.cache.forget(url);
        let answer = match self
            .execute(
                method.clone(),
                &wurl,
                &headers,
                bytes.as_deref().map(str::as_bytes),
            )
            .await
        {
            Ok(a) => a,
            Err(out) => return out,
        };
        let status = answer.status.as_u16();
        if d.is_conflict(status, &answer.body) {
            let hint = answer.status.is_success().then(|| {
                "(The server answered `false`: its compare-and-set found a newer version.)"
                    .to_string()
            });
            return Outcome::Conflict { status, hint };
        }
        if !answer.status.is_success() {
            let failure = classify::failure(&answer, Some(&pre), &[], &self.auth);
            let may_have_landed = matches!(
                failure,
                Outcome::ServerError { .. } | Outcome::Unavailable { .. }
            );
            return match document.filter(|_| may_have_landed) {
                Some(exp) => {
                    let read = self.get_fresh(url).await;
                    verify::settle(status, &status.to_string(), failure, &exp, read)
                }
                None => failure,
            };
        }
        if method == Method::DELETE {
            return Outcome::Deleted { status };
        }
        let fetched = self.get_fresh(url).await;
        verify::from_read(status, document.as_deref(), fetched)
    }
}

/// A whole-document write as a dialect sends it: where, how, with which headers and body.
/// The one place that builds it, for the write and for the window's preview alike.
struct DialectPut {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// A create the dialect cannot make conditional: read first, never overwrite.
    read_first: bool,
}

/// The request that writes `doc` (asked for with `method` and content type `ct`) to `url` in
/// dialect `d` under precondition `pre`; an error says why it cannot be sent.
fn dialect_put(
    d: &Dialect,
    url: &str,
    method: &str,
    ct: &str,
    doc: &str,
    pre: &Precondition,
) -> Result<DialectPut, DialectError> {
    if method != "PUT" {
        return Err(DialectError::PatchNotSupported {
            dialect: d.name.clone(),
            content_type: ct.to_string(),
        });
    }
    let w = d.on_write(doc, pre)?;
    let url = d.write_url(url, &w.query)?;
    let method = match &d.write_method {
        Some(m) => Method::from_bytes(m.as_bytes())
            .map_err(|_| DialectError::NotAMethod { method: m.clone() })?,
        None => Method::PUT,
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    headers.extend(w.pre.headers());
    Ok(DialectPut {
        method,
        url,
        headers,
        body: w.body,
        read_first: w.read_first,
    })
}

#[cfg(test)]
mod tests {
    use super::auth::CredentialsError;
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

    #[test]
    fn secret_debug_is_redacted() {
        let a = Auth::Bearer(Secret::new("tok-123"));
        assert!(!format!("{a:?}").contains("tok-123"));
    }
}
