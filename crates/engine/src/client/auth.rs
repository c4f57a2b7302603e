//! How requests authenticate: the secret type that never prints, the credentials of a
//! connection, and the one function that reads them from the environment.

use std::fmt;

/// A secret value: never printed by Debug or Display.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it (a request header).
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
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic` with a user name and password.
    Basic {
        /// The user name (not secret; shown in previews).
        user: String,
        /// The password.
        password: Secret,
    },
    /// A custom header carrying an API key (`X-Api-Key: <key>`).
    Header {
        /// The header's name.
        name: String,
        /// The header's value.
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

/// Adds the credentials to a request (only ever called for the connection's own origin).
pub(super) fn authorize(req: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t.expose()),
        Auth::Basic { user, password } => req.basic_auth(user, Some(password.expose())),
        Auth::Header { name, value } => req.header(name.as_str(), value.expose()),
    }
}

impl Auth {
    /// Every form in which this connection's secret could come back in a server's words: the
    /// value itself and, for basic auth, the encoded `user:password` of the header.
    fn secret_forms(&self) -> Vec<String> {
        let forms = match self {
            Auth::None => vec![],
            Auth::Bearer(t) => vec![t.expose().to_string()],
            Auth::Basic { user, password } => vec![
                password.expose().to_string(),
                base64(format!("{user}:{}", password.expose()).as_bytes()),
            ],
            Auth::Header { value, .. } => vec![value.expose().to_string()],
        };
        // A one- or two-character secret would blank out ordinary words; such a secret is not
        // protected by redaction anyway.
        forms.into_iter().filter(|f| f.len() >= 3).collect()
    }

    /// `text` (words a server sent: an error body, a challenge) with this connection's secret
    /// replaced by `••••••` wherever the server echoed it.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in self.secret_forms() {
            if out.contains(&form) {
                out = out.replace(&form, "••••••");
            }
        }
        out
    }
}

/// Standard base64 with padding (RFC 4648 §4), as the basic-auth header carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_secrets_are_redacted_in_every_form() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        let basic = Auth::Basic {
            user: "Aladdin".into(),
            password: Secret::new("open sesame"),
        };
        let echoed =
            "bad header Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== (pw open sesame)";
        let r = basic.redact(echoed);
        assert!(!r.contains("open sesame") && !r.contains("QWxhZGRp"), "{r}");
        let bearer = Auth::Bearer(Secret::new("tok-123"));
        assert_eq!(
            bearer.redact("token tok-123 expired"),
            "token •••••• expired"
        );
        assert_eq!(Auth::None.redact("nothing to hide"), "nothing to hide");
    }
}
