//! Every answer to a request, classified into one typed outcome the UI and the CLI switch on.
//!
//! Owns: the stable `kind` names (serialised as `{"kind": "...", ...}`), the words that tell the
//! user what happened and what they can do, and the CLI exit code of each outcome.
//!
//! Must never: carry a secret (outcomes are shown and logged), or flatten a conflict and a network
//! failure into the same string.

use crate::precondition::Validator;
use serde::{Deserialize, Serialize};

/// A JSON document as received, with the validator that came with it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Received {
    /// The body text, exactly as received (documents cross every boundary as text).
    pub text: String,
    /// The validator the answer carried (None: the server gave none).
    pub validator: Option<Validator>,
    /// Things the user should know about this server's validators (weak, unquoted, garbled,
    /// second-granular, missing), in words.
    pub warnings: Vec<String>,
}

/// Where the validator after a save came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorSource {
    /// The write's answer carried it.
    Response,
    /// The answer had none (Apache's PUT), so a GET learned it and checked our write is there.
    Refetch,
    /// Neither the answer nor a GET gave one.
    None,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
/// What one request (with its redirects and retries) came to.
pub enum Outcome {
    /// A read succeeded (`from_cache`: the server said 304 and the cached body was served).
    Fetched {
        /// The document read.
        doc: Received,
        /// The server answered 304 and the cached copy was served.
        from_cache: bool,
    },
    /// A write was accepted. `doc` is the server's version when known (with its validator).
    Saved {
        /// The answer's status.
        status: u16,
        /// The version the server now holds, when known.
        doc: Option<Received>,
        /// Where its validator came from.
        validator_from: ValidatorSource,
    },
    /// The server acknowledged a write, and the read that would confirm it holds it failed:
    /// written, not confirmed (never "saved": nothing proved the server kept it).
    Unconfirmed {
        /// The write's status.
        status: u16,
        /// Why the read failed, in words.
        detail: String,
    },
    /// The server acknowledged a write and a read right after shows it still holds the version
    /// the write was made from: it was not applied (a server that answers 2xx and stores
    /// nothing, or a compare-and-set that answers `true` without setting).
    NotApplied {
        /// The write's status.
        status: u16,
    },
    /// A delete was accepted.
    Deleted {
        /// The answer's status.
        status: u16,
    },
    /// The server acknowledged the write, but the version it now holds is not what we wrote:
    /// someone else wrote in between (or the server's check is not atomic). Merge again.
    SavedThenChanged {
        /// The write's status.
        status: u16,
        /// What the server holds now.
        current: Received,
    },
    /// 412 (or the dialect's conflict status): the resource changed since it was loaded.
    Conflict {
        /// The answer's status.
        status: u16,
        /// Why this server answers this way, when the request explains it (a weak ETag, a create).
        hint: Option<String>,
    },
    /// 428: the server requires a conditional write.
    PreconditionRequired,
    /// 404: no such resource.
    NotFound,
    /// 410: the resource was removed for good.
    Gone,
    /// 401: credentials missing or refused.
    Unauthorized {
        /// The server's `WWW-Authenticate` challenge.
        challenge: Option<String>,
    },
    /// 403: the credentials do not allow this.
    Forbidden,
    /// 429 after the bounded retries.
    RateLimited {
        /// Seconds the server asked to wait.
        retry_after_secs: Option<u64>,
        /// Times the request was sent.
        attempts: u32,
    },
    /// 503 after the bounded retries.
    Unavailable {
        /// Seconds the server asked to wait.
        retry_after_secs: Option<u64>,
        /// Times the request was sent.
        attempts: u32,
    },
    /// Another 5xx.
    ServerError {
        /// The status.
        status: u16,
        /// The error body's message, when it has one (and what the read after a write showed).
        detail: String,
        /// A write answered with it whose effect the read after it could not settle: it may
        /// have landed (the window offers to reload; saving again blind could overwrite it).
        may_have_landed: bool,
    },
    /// Another status the request cannot go on from (400, 405, 409 outside a dialect, 415, a
    /// redirected write, ...).
    HttpError {
        /// The status.
        status: u16,
        /// The error body's message, or why the redirect was not followed.
        detail: String,
    },
    /// The answer came, but cannot be used: not JSON, too large.
    InvalidResponse {
        /// What is wrong with it.
        problem: AnswerProblem,
        /// In words, for the message.
        detail: String,
    },
    /// Nothing was sent: the request cannot be made in the connection's dialect (a patch where
    /// the version lives in the body, a validator from another server).
    NotSent {
        /// Why, in words.
        detail: String,
    },
    /// Nothing was sent: the connection could not be made (DNS, refused, TLS, connect timeout).
    NetworkBeforeSend {
        /// What failed (the URL is never included).
        detail: String,
    },
    /// The request went out and no complete answer came back: a write may or may not have landed.
    NetworkAfterSend {
        /// What broke (the URL is never included).
        detail: String,
    },
}

/// Why an answer that came cannot be used (serialised `not_json`, `too_large`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AnswerProblem {
    /// The body is not JSON (or not UTF-8), or the content type says it is something else.
    NotJson,
    /// The body is larger than the connection's limit.
    TooLarge,
    /// The body does not fit the connection's dialect (no version where it keeps it, no
    /// document where it puts it).
    Dialect,
}

/// CLI exit codes (documented in the README).
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// A local failure: a file, the terminal, output that could not be written.
    pub const LOCAL_ERROR: i32 = 1;
    /// Wrong arguments or input (invalid JSON, a bad flag); nothing was sent.
    pub const USAGE: i32 = 2;
    /// A conflict: the resource changed (or conflicts are left for the user).
    pub const CONFLICT: i32 = 3;
    /// 428: the server requires a condition and none could be given.
    pub const PRECONDITION_REQUIRED: i32 = 4;
    /// Another HTTP error (4xx / 5xx).
    pub const HTTP_ERROR: i32 = 5;
    /// Nothing was sent: the connection failed.
    pub const NETWORK: i32 = 6;
    /// The request went out and no answer came: a write may have landed.
    pub const NETWORK_AMBIGUOUS: i32 = 7;
    /// The server acknowledged the write, but ifmatch could not confirm that it holds it (the
    /// read after the write, or the overwrite watch's read, failed).
    pub const UNCONFIRMED: i32 = 10;
}

impl Outcome {
    /// The stable name the UI switches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Fetched { .. } => "fetched",
            Outcome::Saved { .. } => "saved",
            Outcome::Unconfirmed { .. } => "unconfirmed",
            Outcome::NotApplied { .. } => "not_applied",
            Outcome::Deleted { .. } => "deleted",
            Outcome::SavedThenChanged { .. } => "saved_then_changed",
            Outcome::Conflict { .. } => "conflict",
            Outcome::PreconditionRequired => "precondition_required",
            Outcome::NotFound => "not_found",
            Outcome::Gone => "gone",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::Unavailable { .. } => "unavailable",
            Outcome::ServerError { .. } => "server_error",
            Outcome::HttpError { .. } => "http_error",
            Outcome::InvalidResponse { .. } => "invalid_response",
            Outcome::NotSent { .. } => "not_sent",
            Outcome::NetworkBeforeSend { .. } => "network_before_send",
            Outcome::NetworkAfterSend { .. } => "network_after_send",
        }
    }

    /// Whether the request did what it asked (read, written, deleted).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Outcome::Fetched { .. } | Outcome::Saved { .. } | Outcome::Deleted { .. }
        )
    }

    /// The CLI's exit code for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Fetched { .. } | Outcome::Saved { .. } | Outcome::Deleted { .. } => exit::OK,
            Outcome::Conflict { .. } | Outcome::SavedThenChanged { .. } => exit::CONFLICT,
            Outcome::PreconditionRequired => exit::PRECONDITION_REQUIRED,
            Outcome::NetworkBeforeSend { .. } => exit::NETWORK,
            Outcome::NotSent { .. } => exit::USAGE,
            Outcome::NetworkAfterSend { .. } => exit::NETWORK_AMBIGUOUS,
            Outcome::Unconfirmed { .. } => exit::UNCONFIRMED,
            _ => exit::HTTP_ERROR,
        }
    }

    /// What happened, in a few words and without advice: for a sentence that says what else
    /// happened around it (a read after a write that failed).
    pub fn summary(&self) -> String {
        match self {
            Outcome::NetworkBeforeSend { detail } => {
                format!("the server could not be reached: {detail}")
            }
            Outcome::NetworkAfterSend { detail } => format!("no complete answer came: {detail}"),
            Outcome::ServerError { status, .. } | Outcome::HttpError { status, .. } => {
                format!("the server answered {status}")
            }
            Outcome::NotFound => "the server answered 404: no resource at this URL".into(),
            Outcome::Gone => "the server answered 410: the resource is gone".into(),
            Outcome::Unauthorized { .. } => "the server answered 401".into(),
            Outcome::Forbidden => "the server answered 403".into(),
            Outcome::RateLimited { .. } => "the server answered 429".into(),
            Outcome::Unavailable { .. } => "the server answered 503".into(),
            Outcome::InvalidResponse { detail, .. } => {
                format!("the answer could not be used: {detail}")
            }
            Outcome::NotSent { detail } => format!("the read was not made: {detail}"),
            other => other.kind().replace('_', " "),
        }
    }

    /// What happened and what the user can do, in words.
    pub fn message(&self) -> String {
        match self {
            Outcome::Fetched { from_cache: true, .. } => {
                "Loaded (not modified on the server since the last read).".into()
            }
            Outcome::Fetched { .. } => "Loaded.".into(),
            Outcome::Saved { validator_from: ValidatorSource::None, .. } => {
                "Saved, but the server gives this resource no validator (no ETag, no Last-Modified): \
                 the next write cannot be made conditional."
                    .into()
            }
            Outcome::Saved { .. } => "Saved.".into(),
            Outcome::Unconfirmed { status, detail } => format!(
                "The server acknowledged the write ({status}), but the read that would confirm it \
                 holds it failed ({detail}). Written, not confirmed: reload to see the server's \
                 version before saving again."
            ),
            Outcome::NotApplied { status } => format!(
                "The server acknowledged the write ({status}) but did not apply it: a read right \
                 after shows it still holds the version the write was made from. Nothing of this \
                 write is on the server; writing it again would be answered the same way. Check \
                 the API's write method (its documentation, or `ifmatch check`)."
            ),
            Outcome::Deleted { .. } => "Deleted.".into(),
            Outcome::SavedThenChanged { .. } => {
                "The server acknowledged the write, but what it holds now differs from what was \
                 sent: another change landed at the same moment. Nothing was lost on this side; \
                 merge with the server's version and save again."
                    .into()
            }
            Outcome::Conflict { status, hint } => {
                let mut m = format!(
                    "Conflict ({status}): the resource changed on the server since it was loaded, \
                     so the write was refused and nothing was overwritten. Fetch the current \
                     version, merge your edits into it, and save again."
                );
                if let Some(h) = hint {
                    m.push(' ');
                    m.push_str(h);
                }
                m
            }
            Outcome::PreconditionRequired => {
                "Precondition required (428): the server only accepts conditional writes and this \
                 one carried no validator. Load the resource first (or pass --if-match) and save \
                 again."
                    .into()
            }
            Outcome::NotFound => {
                "Not found (404): there is no resource at this URL. Check the path, or create it."
                    .into()
            }
            Outcome::Gone => {
                "Gone (410): the resource was deleted on the server. Your text is kept; create it \
                 again if it should exist."
                    .into()
            }
            Outcome::Unauthorized { .. } => {
                "Unauthorized (401): the server did not accept the credentials (missing, wrong or \
                 expired). Check the connection's token or password."
                    .into()
            }
            Outcome::Forbidden => {
                "Forbidden (403): the credentials were accepted but do not allow this. Ask for the \
                 permission or use another account."
                    .into()
            }
            Outcome::RateLimited { retry_after_secs, attempts } => format!(
                "Rate limited (429) after {attempts} attempt(s). {}",
                wait_words(*retry_after_secs)
            ),
            Outcome::Unavailable { retry_after_secs, attempts } => format!(
                "Service unavailable (503) after {attempts} attempt(s). {}",
                wait_words(*retry_after_secs)
            ),
            Outcome::ServerError { status, detail, .. } => format!(
                "Server error ({status}){}. Try again later, and if it persists report it to the \
                 API's owners.",
                detail_words(detail)
            ),
            Outcome::HttpError { status, detail } if (300..400).contains(status) => {
                format!("The request was redirected ({status}){}.", detail_words(detail))
            }
            Outcome::HttpError { status, detail } => {
                format!("The server refused the request ({status}){}.", detail_words(detail))
            }
            Outcome::InvalidResponse { problem, detail } => match problem {
                AnswerProblem::NotJson => format!(
                    "The server's answer is not JSON ({detail}). Is the URL pointing at the API \
                     (not a login or error page)?"
                ),
                AnswerProblem::TooLarge => {
                    format!("The server's answer is too large ({detail}).")
                }
                AnswerProblem::Dialect => format!(
                    "The server's answer does not fit the connection's dialect: {detail}. Is \
                     the dialect the one this API speaks (the connection's settings)?"
                ),
            },
            Outcome::NotSent { detail } => format!(
                "Not sent: {detail}. Nothing left this machine; change the connection's dialect \
                 or the write method, then try again."
            ),
            Outcome::NetworkBeforeSend { detail } => format!(
                "Could not reach the server ({detail}). Nothing was sent; check the URL and the \
                 network, then try again."
            ),
            Outcome::NetworkAfterSend { detail } => format!(
                "The request was sent but no complete answer came back ({detail}). A write may or \
                 may not have been applied: reload to see the server's version before saving \
                 again (ifmatch's save loop does this for you)."
            ),
        }
    }
}

fn wait_words(s: Option<u64>) -> String {
    match s {
        Some(s) => format!("The server asks to wait {s} s before trying again."),
        None => "Try again in a little while.".into(),
    }
}

fn detail_words(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(": {d}")
    }
}

/// One version of the resource, text and validator: what a tab loaded (a save's base) or what the
/// server holds now (a conflict's current version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The document text, exactly as received.
    pub text: String,
    /// Its validator (None: the server gave none).
    pub validator: Option<Validator>,
}
