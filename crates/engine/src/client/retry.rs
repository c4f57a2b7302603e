//! Bounded retry of 429 / 503 (never of anything else), honouring Retry-After.

use super::transport::{Answer, SendError};
use super::Client;
use crate::outcome::{AnswerProblem, Outcome};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use std::time::{Duration, SystemTime};

impl Client {
    /// Sends with bounded retry of 429 / 503 (never of anything else).
    pub(super) async fn execute(
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
        // Waiting never takes the request past its time limit: a wait that would is reported
        // (with the server's Retry-After) instead of slept through.
        let started = std::time::Instant::now();
        let mut retried = None;
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
                        if wait <= self.cfg.max_retry_wait
                            && started.elapsed() + wait < self.cfg.timeout
                        {
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            retried = retried.or(Some(code));
                            continue;
                        }
                    }
                    return Ok(Answer {
                        attempts: attempt,
                        retried,
                        ..a
                    });
                }
                Err(SendError::Before(d)) => return Err(Outcome::NetworkBeforeSend { detail: d }),
                Err(SendError::After(d)) => return Err(Outcome::NetworkAfterSend { detail: d }),
                Err(SendError::TooManyRedirects { status, detail }) => {
                    return Err(Outcome::HttpError { status, detail })
                }
                Err(SendError::TooLarge(d)) => {
                    return Err(Outcome::InvalidResponse {
                        problem: AnswerProblem::TooLarge,
                        detail: d,
                    })
                }
            }
        }
    }
}

/// Retry-After: delta-seconds or an HTTP date.
pub(super) fn retry_after(h: &HeaderMap) -> Option<Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
}
