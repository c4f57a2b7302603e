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
