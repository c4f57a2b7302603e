//! Connections, recent resources and preferences in tauri-plugin-store (`settings.json` in the
//! app's data folder). Never a secret: those go to `secrets` under the connection's id.

use crate::state::AuthInput;
use ifmatch_engine::session::WriteMethod;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

pub const FILE: &str = "settings.json";

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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    pub connections: Vec<StoredConnection>,
    pub recent: Vec<String>,
    /// The user chose the weaker file storage for secrets (no keyring available).
    pub weak_secret_file: bool,
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

pub fn load<R: Runtime>(app: &AppHandle<R>) -> Settings {
    app.store(FILE)
        .ok()
        .and_then(|s| s.get("settings"))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

pub fn save<R: Runtime>(app: &AppHandle<R>, settings: &Settings) -> Result<(), String> {
    let store = app
        .store(FILE)
        .map_err(|e| format!("the settings could not be opened: {e}"))?;
    store.set(
        "settings",
        serde_json::to_value(settings).map_err(|e| e.to_string())?,
    );
    store
        .save()
        .map_err(|e| format!("the settings could not be saved: {e}"))
}
