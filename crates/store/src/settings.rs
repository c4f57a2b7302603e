//! What the app keeps between runs besides drafts: connections, recent resources and
//! preferences. Never a secret: those go to `secrets` under the connection's id. (The desktop
//! writes these through tauri-plugin-store as `settings.json` in its data folder.)

use ifmatch_engine::session::WriteMethod;
use serde::{Deserialize, Serialize};

/// How a connection authenticates, as the window sends it (secrets stay in Rust).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthInput {
    None,
    Bearer { token: String },
    Basic { user: String, password: String },
    Header { name: String, value: String },
}

/// A connection as stored: the secret's place is named, its value is not here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredConnection {
    pub id: String,
    pub name: String,
    pub base_url: String,
    /// "none", "bearer", "basic" or "header".
    pub auth_kind: String,
    pub basic_user: Option<String>,
    pub header_name: Option<String>,
    pub method: WriteMethod,
    pub auto_resubmit: bool,
    pub trusted_cert_pem: Option<String>,
    /// Run the server check before the connection's first write to a folder (on unless the
    /// user turned it off; connections stored before it existed have it on).
    #[serde(default = "yes")]
    pub check_server: bool,
    /// How the server spells its version: a preset of `ifmatch_engine::dialect` ("generic",
    /// "couchdb", …); connections stored before it existed are plain RFC 9110.
    #[serde(default = "generic")]
    pub dialect: String,
}

fn yes() -> bool {
    true
}

fn generic() -> String {
    "generic".into()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    pub connections: Vec<StoredConnection>,
    pub recent: Vec<String>,
    /// The user chose the weaker file storage for secrets (no keyring available).
    pub weak_secret_file: bool,
}

impl Settings {
    /// Puts `target` first in the recent resources (at most 30), unless it carries a credential
    /// (user info, a credential-looking query value such as `api_key`): `settings.json` never
    /// holds a secret. Entries of that kind kept by older versions go too. Whether it was kept.
    pub fn remember_recent(&mut self, target: &str) -> bool {
        self.recent
            .retain(|r| r != target && crate::credentials::credential_in_target(r).is_none());
        if crate::credentials::credential_in_target(target).is_some() {
            return false;
        }
        self.recent.insert(0, target.to_string());
        self.recent.truncate(30);
        true
    }
}

impl StoredConnection {
    /// The stored shape of an input, and the secret to keep elsewhere.
    pub fn from_input(
        id: &str,
        name: &str,
        url: &str,
        auth: &AuthInput,
        method: WriteMethod,
        auto: bool,
        pem: Option<String>,
    ) -> (StoredConnection, Option<String>) {
        let (kind, user, header, secret) = match auth {
            AuthInput::None => ("none", None, None, None),
            AuthInput::Bearer { token } => ("bearer", None, None, Some(token.clone())),
            AuthInput::Basic { user, password } => {
                ("basic", Some(user.clone()), None, Some(password.clone()))
            }
            AuthInput::Header { name, value } => {
                ("header", None, Some(name.clone()), Some(value.clone()))
            }
        };
        (
            StoredConnection {
                id: id.into(),
                name: name.into(),
                base_url: url.into(),
                auth_kind: kind.into(),
                basic_user: user,
                header_name: header,
                method,
                auto_resubmit: auto,
                trusted_cert_pem: pem,
                check_server: true,
                dialect: generic(),
            },
            secret,
        )
    }

    /// The input again, with the secret fetched back (empty when it is gone).
    pub fn to_input(&self, secret: Option<String>) -> AuthInput {
        let s = secret.unwrap_or_default();
        match self.auth_kind.as_str() {
            "bearer" => AuthInput::Bearer { token: s },
            "basic" => AuthInput::Basic {
                user: self.basic_user.clone().unwrap_or_default(),
                password: s,
            },
            "header" => AuthInput::Header {
                name: self.header_name.clone().unwrap_or_default(),
                value: s,
            },
            _ => AuthInput::None,
        }
    }
}
