//! Connections: the built-in demo server, the API named by IFMATCH_API_URL, and the user's own;
//! their secrets in the keyring, everything else in the settings. No Tauri here: the settings
//! are written through `persist`, which the command passes in.

use crate::settings::{Settings, StoredConnection};
use crate::state::{
    auth_of, client_for, connection_of, credentials_words, dialect_of, refusal_words,
};
use crate::state::{AppState, DEMO_ID};
use crate::view::{
    AuthInput, ConnectionInput, ConnectionTest, ConnectionView, Connections, Problem,
};
use ifmatch_engine::{Auth, Outcome};
use ifmatch_store::secrets::{Backend, Secrets};

/// Writes the settings (tauri-plugin-store in the app).
pub type Persist<'a> = &'a (dyn Fn(&Settings) -> Result<(), Problem> + Sync);

/// The ids of the connections that are built in (never stored, never removed).
fn built_in(id: &str) -> bool {
    id == DEMO_ID || id == "env"
}

/// The base URL as typed, checked and without a trailing slash.
fn base_url_of(input: &ConnectionInput) -> Result<String, Problem> {
    let url = input.base_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Problem::other(
            "The base URL must start with http:// or https://.",
        ));
    }
    Ok(url)
}

/// The input's dialect, known and compatible with its write method (a body or query version
/// travels with a whole document: PUT only).
fn dialect_checked(input: &ConnectionInput) -> Result<String, Problem> {
    let name = input.dialect.trim();
    let name = if name.is_empty() { "generic" } else { name };
    let d = dialect_of(name)?;
    if !d.is_plain() && input.method != ifmatch_engine::session::WriteMethod::Put {
        return Err(Problem::other(format!(
            "The {name} dialect writes whole documents: choose “PUT” under “Write with”, or the \
             generic dialect for PATCH."
        )));
    }
    Ok(name.to_string())
}

fn secret_key(id: &str) -> String {
    format!("{id}/secret")
}

impl AppState {
    fn secrets(&self) -> std::sync::RwLockReadGuard<'_, Secrets> {
        self.secrets.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Every connection, which one opens first, where secrets are kept, recent resources.
    pub async fn list_connections(&self) -> Result<Connections, Problem> {
        let demo_url = if self.default_connection == DEMO_ID {
            Some(self.demo_url().await?)
        } else {
            self.demo.lock().await.as_ref().map(|d| d.url())
        };
        let backend = self.secrets().backend();
        let recent = self.settings.lock().await.recent.clone();
        let conns = self.connections.lock().await;
        Ok(Connections {
            connections: conns.values().map(|c| c.view.clone()).collect(),
            default_id: self.default_connection.clone(),
            demo_url,
            secret_storage: backend,
            secret_storage_words: backend.words().to_string(),
            recent,
            dialects: ifmatch_engine::dialect::PRESETS
                .iter()
                .map(|(n, w)| (n.to_string(), w.to_string()))
                .collect(),
        })
    }

    /// Adds or updates a connection. The secret goes to the keyring (or memory), everything
    /// else to the settings; it never leaves this process otherwise.
    pub async fn save_connection(
        &self,
        input: ConnectionInput,
        persist: Persist<'_>,
    ) -> Result<ConnectionView, Problem> {
        let url = base_url_of(&input)?;
        if input.name.trim().is_empty() {
            return Err(Problem::other("Give the connection a name."));
        }
        let id = match &input.id {
            Some(id) if !built_in(id) => id.clone(),
            _ => self.new_id("c"),
        };
        let auth = self.with_kept_secret(&input).await;
        let pem = match &input.trusted_cert_pem {
            // Editing without pasting a certificate again keeps the one trusted before.
            None => self
                .stored_connection(&input.id)
                .await
                .and_then(|c| c.trusted_cert_pem),
            p => p.clone(),
        };
        let (mut stored, secret) = StoredConnection::from_input(
            &id,
            input.name.trim(),
            &url,
            &auth,
            input.method,
            input.auto_resubmit,
            pem,
        );
        stored.check_server = input.check_server;
        stored.dialect = dialect_checked(&input)?;
        if let Some(pem) = &stored.trusted_cert_pem {
            client_for(&Auth::None, Some(pem), "generic")?;
        }
        if let Some(secret) = &secret {
            self.secrets()
                .set(&secret_key(&id), secret)
                .map_err(|e| Problem::other(format!("The secret was not stored: {e}.")))?;
        }
        let conn = connection_of(&stored, secret);
        let view = conn.view.clone();
        // Its watches go on with the new client (a rotated token, another certificate).
        self.watches.reconnect(&id, conn.client.clone());
        self.connections.lock().await.insert(id.clone(), conn);
        let mut settings = self.settings.lock().await;
        settings.connections.retain(|c| c.id != id);
        settings.connections.push(stored);
        persist(&settings)?;
        Ok(view)
    }

    /// The user's explicit choice of the weaker, file-based secret storage (only offered when
    /// no keyring works). Applies to secrets saved from now on.
    pub async fn set_weak_secret_storage(
        &self,
        opt_in: bool,
        persist: Persist<'_>,
    ) -> Result<Backend, Problem> {
        let mut settings = self.settings.lock().await;
        settings.weak_secret_file = opt_in;
        persist(&settings)?;
        let detected = Secrets::detect(self.data_dir.clone(), opt_in);
        let backend = detected.backend();
        *self.secrets.write().unwrap_or_else(|p| p.into_inner()) = detected;
        Ok(backend)
    }

    /// Removes a connection, its stored settings and its secret.
    pub async fn delete_connection(&self, id: &str, persist: Persist<'_>) -> Result<(), Problem> {
        if built_in(id) {
            return Err(Problem::other(
                "This connection is built in and cannot be removed.",
            ));
        }
        self.connections.lock().await.remove(id);
        self.secrets().delete(&secret_key(id));
        let mut settings = self.settings.lock().await;
        settings.connections.retain(|c| c.id != id);
        persist(&settings)
    }

    /// Puts `target` first in the recent resources (at most 30; never one with a credential).
    pub async fn remember_recent(&self, target: &str, persist: Persist<'_>) {
        let mut settings = self.settings.lock().await;
        settings.remember_recent(target);
        let _ = persist(&settings);
    }

    /// The stored shape of the connection being edited (None for a new one).
    async fn stored_connection(&self, id: &Option<String>) -> Option<StoredConnection> {
        let id = id.as_ref()?;
        self.settings
            .lock()
            .await
            .connections
            .iter()
            .find(|c| &c.id == id)
            .cloned()
    }

    /// The input's authentication; when an existing connection is edited and the secret field
    /// was left empty for the same kind of authentication, the secret kept in the keyring.
    async fn with_kept_secret(&self, input: &ConnectionInput) -> AuthInput {
        let (Some(id), Some(stored)) = (&input.id, self.stored_connection(&input.id).await) else {
            return input.auth.clone();
        };
        let kept = || self.secrets().get(&secret_key(id)).unwrap_or_default();
        let same_kind = |k: &str| stored.auth_kind == k;
        match &input.auth {
            AuthInput::Bearer { token } if token.is_empty() && same_kind("bearer") => {
                AuthInput::Bearer { token: kept() }
            }
            AuthInput::Basic { user, password } if password.is_empty() && same_kind("basic") => {
                AuthInput::Basic {
                    user: user.clone(),
                    password: kept(),
                }
            }
            AuthInput::Header { name, value } if value.is_empty() && same_kind("header") => {
                AuthInput::Header {
                    name: name.clone(),
                    value: kept(),
                }
            }
            other => other.clone(),
        }
    }

    /// Tests a connection before it is saved: one GET of its base URL with its credentials,
    /// and what came back in words (reachable or not, the status, JSON or not, a validator).
    pub async fn test_connection(&self, input: ConnectionInput) -> Result<ConnectionTest, Problem> {
        let url = base_url_of(&input)?;
        let auth = auth_of(&self.with_kept_secret(&input).await);
        let client = client_for(&auth, input.trusted_cert_pem.as_deref(), "generic")?;
        let outcome = client.get_fresh(&url).await;
        Ok(describe_test(&url, &outcome, &auth))
    }

    /// The demo server's "another admin": changes a resource as someone else would, so a
    /// conflict can be seen within a minute. `patch` is an RFC 7396 merge patch (JSON text), or
    /// empty for a canned change.
    pub async fn demo_another_admin(
        &self,
        path: &str,
        patch: Option<&str>,
    ) -> Result<String, Problem> {
        self.demo_url().await?;
        let patch = match patch.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(
                serde_json::from_str::<serde_json::Value>(p)
                    .map_err(|e| Problem::other(format!("The change is not valid JSON: {e}")))?,
            ),
            None => None,
        };
        let demo = self.demo.lock().await;
        let server = demo
            .as_ref()
            .ok_or_else(|| Problem::other("The demo server is not running."))?;
        let path = format!("/{}", path.trim().trim_start_matches('/'));
        server
            .another_admin(&path, patch.as_ref())
            .ok_or_else(|| Problem::other(format!("The demo server has no resource at {path}.")))
    }
}

/// A connection test's outcome in words.
fn describe_test(url: &str, outcome: &Outcome, auth: &Auth) -> ConnectionTest {
    let creds = credentials_words(auth);
    match outcome {
        Outcome::Fetched { doc, .. } => ConnectionTest {
            ok: true,
            message: format!(
                "Reached {url}: it answered with JSON{}. {creds}",
                match &doc.validator {
                    Some(v) => format!(" and a validator ({})", v.display()),
                    None => " but no validator (no ETag, no Last-Modified)".into(),
                }
            ),
        },
        Outcome::NotFound | Outcome::InvalidResponse { .. } | Outcome::HttpError { .. } => {
            ConnectionTest {
                ok: true,
                message: format!(
                    "Reached {url}, which is not a JSON resource itself: {} {creds} Open \
                     resources below it by path.",
                    outcome.message()
                ),
            }
        }
        // A 403 on the base URL is most often a folder whose listing is turned off: reached,
        // and resources below it may well open. Said where it came from, with the fix in this
        // dialog (never "open the connection dialog", which is where the user is).
        Outcome::Forbidden => ConnectionTest {
            ok: true,
            message: format!(
                "Reached {url}, which answered 403 Forbidden for this address itself — often a \
                 folder whose listing is turned off; resources below it may still open (Open \
                 one by path). {creds}{}",
                if matches!(auth, Auth::None) {
                    " If the API needs an account, choose its authentication above."
                } else {
                    " If the resources below refuse them too, check the account's permissions."
                }
            ),
        },
        Outcome::Unauthorized { .. } => ConnectionTest {
            ok: false,
            message: format!(
                "Reached {url}, but: {}",
                refusal_words(outcome, auth)
                    .replace(" (Edit…, or New connection…)", " (above)")
                    .replace(" (Edit…)", "")
            ),
        },
        other => ConnectionTest {
            ok: false,
            message: match crate::state::plain_http_words(&other.message()) {
                Some(w) => format!("{w} ({url})"),
                None => format!("{} ({url})", other.message()),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ifmatch_engine::session::WriteMethod;

    fn input(dialect: &str, method: WriteMethod) -> ConnectionInput {
        ConnectionInput {
            id: None,
            name: "x".into(),
            base_url: "http://127.0.0.1:1".into(),
            auth: AuthInput::None,
            method,
            auto_resubmit: false,
            trusted_cert_pem: None,
            check_server: true,
            dialect: dialect.into(),
        }
    }

    #[test]
    fn a_403_on_the_base_url_says_what_it_may_mean_and_sends_no_one_elsewhere() {
        let t = describe_test("http://h/dav/", &Outcome::Forbidden, &Auth::None);
        assert!(t.ok, "reached: {}", t.message);
        assert!(t.message.contains("listing"), "{}", t.message);
        assert!(
            !t.message.contains("refuses this without credentials")
                && !t.message.contains("New connection"),
            "{}",
            t.message
        );
    }

    /// https:// to a port that speaks plain HTTP: the handshake's error in words, with the fix.
    #[tokio::test]
    async fn https_to_a_plain_http_port_says_use_http() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            }
        });
        let url = format!("https://127.0.0.1:{port}/");
        let client = client_for(&Auth::None, None, "generic").unwrap();
        let outcome = client.get_fresh(&url).await;
        let t = describe_test(&url, &outcome, &Auth::None);
        server.abort();
        assert!(!t.ok);
        assert!(
            t.message.contains("plain HTTP") && t.message.contains("http://"),
            "{}",
            t.message
        );
        assert!(!t.message.contains("InvalidContentType"), "{}", t.message);
    }

    #[test]
    fn a_dialect_is_known_and_writes_whole_documents() {
        assert_eq!(
            dialect_checked(&input("", WriteMethod::MergePatch)).unwrap(),
            "generic"
        );
        assert_eq!(
            dialect_checked(&input("couchdb", WriteMethod::Put)).unwrap(),
            "couchdb"
        );
        let e = dialect_checked(&input("couchdb", WriteMethod::JsonPatch)).unwrap_err();
        assert!(e.message.contains("PUT"), "{}", e.message);
        let e = dialect_checked(&input("consul?", WriteMethod::Put)).unwrap_err();
        assert!(e.message.contains("kubernetes"), "{}", e.message);
    }
}
