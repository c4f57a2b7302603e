//! The request trail: one redacted record per HTTP exchange, for the user's eyes and for a
//! support ticket.
//!
//! Must never hold: Authorization, cookies, tokens, passwords, or credentials in URLs, in any
//! spelling. Records are built from already-redacted parts (`redact_url`) and never from raw
//! header maps, and every text of a record passes through the connection's redaction
//! (`TrailEntry::redacted`) before it is kept: a secret the server put into a redirect's
//! `Location`, an ETag or a request id does not reach the trail either.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// How many records a trail keeps (oldest dropped first).
pub const TRAIL_CAPACITY: usize = 1000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// One request as sent and answered, redacted (no secret, no query values).
pub struct TrailEntry {
    /// When the request started, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// The HTTP method.
    pub method: String,
    /// The URL without user info, with secret-looking query values replaced.
    pub url: String,
    /// The server's request id (X-Request-Id and friends), when it sent one.
    pub request_id: Option<String>,
    /// Conditional headers sent, as (name, value).
    pub preconditions: Vec<(String, String)>,
    /// None when no answer came back.
    pub status: Option<u16>,
    /// The ETag (or Last-Modified) the answer carried.
    pub validator: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// What went wrong or what was special (retry, redirect, network failure), in words.
    pub note: Option<String>,
}

impl TrailEntry {
    /// This record with `redact` applied to every text it holds (the URL, the method, the
    /// request id, each precondition's name and value, the validator, the note): what the trail
    /// keeps. Every field is named here, so a new one cannot be added without deciding how it
    /// is redacted.
    pub fn redacted(self, redact: impl Fn(&str) -> String) -> TrailEntry {
        let TrailEntry {
            at,
            method,
            url,
            request_id,
            preconditions,
            status,
            validator,
            duration_ms,
            note,
        } = self;
        TrailEntry {
            at,
            method: redact(&method),
            url: redact(&url),
            request_id: request_id.map(|r| redact(&r)),
            preconditions: preconditions
                .into_iter()
                .map(|(k, v)| (redact(&k), redact(&v)))
                .collect(),
            status,
            validator: validator.map(|v| redact(&v)),
            duration_ms,
            note: note.map(|n| redact(&n)),
        }
    }
}

/// A shared, bounded list of records.
#[derive(Debug, Clone, Default)]
pub struct Trail(Arc<Mutex<VecDeque<TrailEntry>>>);

impl Trail {
    /// Records one request.
    pub fn push(&self, e: TrailEntry) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= TRAIL_CAPACITY {
            q.pop_front();
        }
        q.push_back(e);
    }

    /// Every request recorded so far, oldest first.
    pub fn entries(&self) -> Vec<TrailEntry> {
        let q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        q.iter().cloned().collect()
    }

    /// The trail as pretty JSON, ready to attach to a ticket.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.entries()).unwrap_or_else(|_| "[]".into())
    }
}

const SECRET_QUERY_WORDS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "auth",
    "signature",
    "sig",
    "credential",
    "session",
    "code",
    "sid",
    "jwt",
    "pwd",
];

/// Removes user info, the fragment (where OAuth redirects put an `access_token`; it is never
/// sent to a server anyway) and secret-looking query values from a URL.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let lk = k.to_ascii_lowercase();
                let secret = SECRET_QUERY_WORDS.iter().any(|w| lk.contains(w));
                (
                    k.into_owned(),
                    if secret {
                        "REDACTED".to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// RFC 3339 UTC timestamp with milliseconds, without a date library.
pub fn rfc3339_now() -> String {
    rfc3339(SystemTime::now())
}

/// `t` as RFC 3339 UTC to the second.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn redacts_credentials_in_urls() {
        let u: reqwest::Url = "https://h/x?sid=SIDSECRET&jwt=JWTSECRET&a=1"
            .parse()
            .unwrap();
        let shown = redact_url(&u);
        assert!(
            !shown.contains("SIDSECRET") && !shown.contains("JWTSECRET"),
            "{shown}"
        );
        assert!(shown.contains("a=1"), "{shown}");
        let u: reqwest::Url =
            "https://alice:hunter2@api.example.test/v1/x?access_token=abc&page=2&apiKey=k1"
                .parse()
                .unwrap();
        let r = redact_url(&u);
        assert!(!r.contains("hunter2") && !r.contains("alice"), "{r}");
        assert!(!r.contains("abc") && !r.contains("k1"), "{r}");
        assert!(r.contains("page=2"), "{r}");
        // An OAuth-style redirect target carries the token in the fragment.
        let u: reqwest::Url = "https://api.example.test/cb?state=ok#access_token=tok-987&x=1"
            .parse()
            .unwrap();
        let r = redact_url(&u);
        assert!(!r.contains("tok-987") && !r.contains('#'), "{r}");
        assert!(r.contains("state=ok"), "{r}");
    }

    #[test]
    fn every_text_of_a_record_is_redacted() {
        let e = TrailEntry {
            at: "2026-01-01T00:00:00.000Z".into(),
            method: "GET S".into(),
            url: "http://h/S?next=S".into(),
            request_id: Some("rid-S".into()),
            preconditions: vec![("If-Match".into(), "\"S\"".into())],
            status: Some(302),
            validator: Some("\"S\"".into()),
            duration_ms: 3,
            note: Some("not sent: S".into()),
        };
        let r = e.redacted(|t| t.replace('S', "•"));
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains('S'), "{json}");
        assert_eq!(r.status, Some(302));
        assert_eq!(r.at, "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn formats_rfc3339() {
        let t = UNIX_EPOCH + Duration::from_millis(1_779_451_200_123);
        assert_eq!(rfc3339(t), "2026-05-22T12:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn bounded() {
        let t = Trail::default();
        for i in 0..(TRAIL_CAPACITY + 5) {
            t.push(TrailEntry {
                at: String::new(),
                method: "GET".into(),
                url: format!("u{i}"),
                request_id: None,
                preconditions: vec![],
                status: Some(200),
                validator: None,
                duration_ms: 0,
                note: None,
            });
        }
        let e = t.entries();
        assert_eq!(e.len(), TRAIL_CAPACITY);
        assert_eq!(e[0].url, "u5");
    }
}
