//! Redirects, followed by hand: credentials only for the original origin, a write never turned
//! into a GET, a bounded number of hops. A `Location` is server words: each hop's URL is recorded
//! (by `send_once`) and named in errors only redacted (`redact_url`, then `Auth::redact`).

use super::transport::{Answer, SendError};
use super::Client;
use crate::trail::redact_url;
use reqwest::{Method, StatusCode, Url};

impl Client {
    /// One logical request: follows redirects by hand, attaching credentials only for the
    /// original origin; each hop is one trail record.
    pub(super) async fn send_following(
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
                return Err(SendError::TooManyRedirects {
                    status: code,
                    detail: format!(
                        "the server redirected the request more than {} times (the last hop \
                         pointed at {}), so ifmatch stopped following; every answer was a \
                         redirect, none a result. Point the connection at the resource's real URL",
                        self.cfg.max_redirects,
                        self.auth.redact(&redact_url(&next))
                    ),
                });
            }
            url = next;
        }
    }
}
