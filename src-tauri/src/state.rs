//! The app's state: connections (the built-in demo server among them) and open tabs. Each tab
//! remembers the version it loaded (text + validator) and, during a conflict, the server's
//! current version it is being merged with.

use crate::settings::{Settings, StoredConnection};
use crate::view::{AuthInput, ConnectionView, Problem};
use ifmatch_demo::{DemoConfig, DemoServer};
use ifmatch_engine::dialect::{Dialect, PRESETS};
use ifmatch_engine::session::{Round, Version, WriteMethod};
use ifmatch_engine::{Auth, Client, ClientConfig, Secret};
use ifmatch_store::drafts::DraftStore;
use ifmatch_store::secrets::Secrets;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

pub const DEMO_ID: &str = "demo";

pub struct Connection {
    pub view: ConnectionView,
    pub auth: Auth,
    pub client: Arc<Client>,
}

/// Where and how a connection writes.
pub struct Endpoint {
    /// The base URL paths are resolved against.
    pub base_url: String,
    /// The connection's client (its cache and trail).
    pub client: Arc<Client>,
    /// PUT, merge patch or JSON patch.
    pub method: WriteMethod,
    /// Whether a clean merge is resubmitted without asking.
    pub auto_resubmit: bool,
    /// Whether the server check runs before the first write.
    pub check_server: bool,
}

/// One open tab: where its resource is, the version it loaded, the round in progress.
pub struct Tab {
    pub connection_id: String,
    pub url: String,
    pub base: Version,
    /// The merge or conflict round in progress, with every Accept made.
    pub round: Option<Round>,
    /// The overwrite watch: after a save, the version that save started from and the text it
    /// wrote, until a newer version is seen (then: does it still hold the change?).
    pub watch: Option<Watch>,
    /// A newer version that did not hold the change last saved: what reapplying it merges.
    pub overwritten: Option<Overwritten>,
    /// The versions it stood on or met (a version a watch announces late is not new).
    pub seen: crate::watches::Seen,
    /// The base before the last live update moved it (see `live_rewind`).
    pub rewind: Option<Version>,
    /// The round the last live update replaced, None before it (see `live_rewind`): Some(None)
    /// when that update opened the tab's first round.
    pub rewind_round: Option<Option<Round>>,
    /// The round a save replaced with the one it ended in: put back when the window does not
    /// show that one (`forget_round`).
    pub before_save: Option<Round>,
}

impl Tab {
    /// A tab on `base`, with `round` in progress (a restored draft's).
    pub fn new(connection_id: String, url: String, base: Version, round: Option<Round>) -> Tab {
        Tab {
            connection_id,
            url,
            base,
            round,
            watch: None,
            overwritten: None,
            seen: Default::default(),
            rewind: None,
            rewind_round: None,
            before_save: None,
        }
    }

    /// Puts `round` in progress and gives back the one it replaces.
    pub fn set_round(&mut self, round: Option<Round>) -> Option<Round> {
        std::mem::replace(&mut self.round, round)
    }

    /// The key of the round in progress (None without one).
    pub fn round_key(&self) -> Option<String> {
        self.round.as_ref().map(crate::view::round_key)
    }
}

/// A save the overwrite watch looks after.
#[derive(Debug, Clone)]
pub struct Watch {
    pub before: Version,
    pub saved: String,
}

/// The saved change a later version wrote over.
#[derive(Debug, Clone)]
pub struct Overwritten {
    pub watch: Watch,
    pub current: Version,
}

pub struct AppState {
    pub connections: Mutex<BTreeMap<String, Connection>>,
    pub secrets: std::sync::RwLock<Secrets>,
    pub drafts: Option<DraftStore>,
    pub settings: Mutex<Settings>,
    pub data_dir: Option<std::path::PathBuf>,
    /// Set when the window agreed to close (after asking about unsaved work).
    pub closing: std::sync::atomic::AtomicBool,
    /// When the last close request was held back for the window to ask.
    pub close_asked: std::sync::Mutex<Option<std::time::Instant>>,
    pub tabs: Mutex<BTreeMap<String, Tab>>,
    /// Per tab with a save in progress: what its Cancel wakes.
    pub cancels: std::sync::Mutex<BTreeMap<String, ifmatch_engine::session::Cancel>>,
    /// Every version loaded, met or saved, per resource (history/ in the data folder).
    pub history: Option<ifmatch_store::history::History>,
    /// What the server check learnt about each server (servers.json in the data folder).
    pub profiles: std::sync::Mutex<ifmatch_store::servers::ServerProfiles>,
    pub demo: Mutex<Option<DemoServer>>,
    /// Every open resource's watch (one per resource, shared by its tabs).
    pub watches: crate::watches::Watches,
    next_id: AtomicU64,
    /// The connection opened first: IFMATCH_API_URL's, else the demo server.
    pub default_connection: String,
}

pub fn client_for(auth: &Auth, pem: Option<&str>, dialect: &str) -> Result<Client, Problem> {
    let cfg = ClientConfig {
        extra_root_pem: pem.map(|p| p.as_bytes().to_vec()),
        dialect: dialect_of(dialect)?,
        ..ClientConfig::default()
    };
    Client::new(cfg, auth.clone()).map_err(|e| Problem::other(e.to_string()))
}

/// A dialect preset by name, or the problem naming the ones there are.
pub fn dialect_of(name: &str) -> Result<Dialect, Problem> {
    Dialect::preset(name).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        Problem::other(format!(
            "{name:?} is not a dialect ifmatch knows; choose one of {}.",
            names.join(", ")
        ))
    })
}

pub fn auth_of(a: &AuthInput) -> Auth {
    match a {
        AuthInput::None => Auth::None,
        AuthInput::Bearer { token } => Auth::Bearer(Secret::new(token.clone())),
        AuthInput::Basic { user, password } => Auth::Basic {
            user: user.clone(),
            password: Secret::new(password.clone()),
        },
        AuthInput::Header { name, value } => Auth::Header {
            name: name.clone(),
            value: Secret::new(value.clone()),
        },
    }
}

pub fn auth_label(a: &Auth) -> String {
    match a {
        Auth::None => "none".into(),
        Auth::Bearer(_) => "bearer".into(),
        Auth::Basic { .. } => "basic".into(),
        Auth::Header { name, .. } => format!("header ({name})"),
    }
}

/// Whether a request carried credentials, in words (for 401 / 403 messages).
pub fn credentials_words(a: &Auth) -> &'static str {
    match a {
        Auth::None => "No credentials were sent: this connection has none.",
        Auth::Bearer(_) => "The connection's bearer token was sent.",
        Auth::Basic { .. } => "The connection's user and password were sent.",
        Auth::Header { .. } => "The connection's custom header was sent.",
    }
}

/// A 401 / 403 in words that say whether credentials were sent at all, and what to do.
pub fn refusal_words(outcome: &ifmatch_engine::Outcome, a: &Auth) -> String {
    use ifmatch_engine::Outcome;
    let none = matches!(a, Auth::None);
    match (outcome, none) {
        (Outcome::Unauthorized { .. }, true) => "Unauthorized (401): the server wants credentials, and this connection sent none. Add a token or password to the connection (Edit…, or New connection…).".into(),
        // A 403 does not say why: it is not proof that credentials are wanted.
        (Outcome::Forbidden, true) => "Forbidden (403): the server does not allow this, and does not say why — a resource or folder nobody may read this way (e.g. a folder whose listing is turned off), or one that needs an account (this connection sends no credentials: if the API needs them, add a token or password to the connection with Edit…).".into(),
        (Outcome::Unauthorized { .. }, false) => format!("Unauthorized (401): the server did not accept the credentials. {} Check that it is current (Edit…).", credentials_words(a)),
        (Outcome::Forbidden, false) => format!("Forbidden (403): the server does not allow this with these credentials. {} Ask for the permission or use another account.", credentials_words(a)),
        (other, _) => plain_http_words(&other.message()).unwrap_or_else(|| other.message()),
    }
}

/// A TLS handshake that met a plain-HTTP server (rustls: "received corrupt message of type
/// InvalidContentType"; OpenSSL: "wrong version number"), in words: what happened and the fix.
pub fn plain_http_words(message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    (m.contains("invalidcontenttype") || m.contains("wrong version number")).then(|| {
        "The server answered in plain HTTP, not HTTPS: use http:// instead of https:// in the \
         base URL (nothing was sent over an encrypted connection)."
            .to_string()
    })
}

/// A connection from its stored shape and secret.
pub fn connection_of(c: &StoredConnection, secret: Option<String>) -> Connection {
    let missing = c.auth_kind != "none" && secret.is_none();
    let input = c.to_input(secret);
    let auth = auth_of(&input);
    // A stored dialect this build does not know (a newer version's): the client is plain, but
    // `endpoint` refuses the connection, so nothing is sent the wrong way.
    let client = client_for(&auth, c.trusted_cert_pem.as_deref(), &c.dialect)
        .or_else(|_| client_for(&auth, None, &c.dialect))
        .or_else(|_| client_for(&auth, None, "generic"))
        .expect("a default client");
    Connection {
        view: ConnectionView {
            secret_missing: missing,
            id: c.id.clone(),
            name: c.name.clone(),
            base_url: c.base_url.clone(),
            auth: auth_label(&auth),
            auth_kind: c.auth_kind.clone(),
            basic_user: c.basic_user.clone(),
            header_name: c.header_name.clone(),
            method: c.method,
            auto_resubmit: c.auto_resubmit,
            is_demo: false,
            trusts_custom_cert: c.trusted_cert_pem.is_some(),
            check_server: c.check_server,
            dialect: c.dialect.clone(),
        },
        auth,
        client: Arc::new(client),
    }
}

impl AppState {
    /// The state at start: `data_dir` holds drafts (and the weaker secrets file if chosen);
    /// `settings` are the stored connections and preferences.
    pub fn new(data_dir: Option<std::path::PathBuf>, settings: Settings) -> Self {
        let mut connections = BTreeMap::new();
        let demo_auth = Auth::None;
        connections.insert(
            DEMO_ID.to_string(),
            Connection {
                view: ConnectionView {
                    secret_missing: false,
                    id: DEMO_ID.into(),
                    name: "Demo server".into(),
                    base_url: String::new(),
                    auth: "none".into(),
                    auth_kind: "none".into(),
                    basic_user: None,
                    header_name: None,
                    method: WriteMethod::Put,
                    auto_resubmit: false,
                    is_demo: true,
                    trusts_custom_cert: false,
                    check_server: true,
                    dialect: "generic".into(),
                },
                client: Arc::new(client_for(&demo_auth, None, "generic").expect("default client")),
                auth: demo_auth,
            },
        );
        let mut default_connection = DEMO_ID.to_string();
        if let Some(url) = std::env::var("IFMATCH_API_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            // The same variables as the CLI; unusable ones leave the connection without
            // credentials and flag it (never silently).
            let (auth, env_problem) = match Auth::from_env() {
                Ok(a) => (a, false),
                Err(_) => (Auth::None, true),
            };
            let dialect = std::env::var("IFMATCH_DIALECT")
                .ok()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| "generic".into());
            let method = std::env::var("IFMATCH_WRITE_METHOD")
                .ok()
                .and_then(|m| WriteMethod::from_name(&m))
                .unwrap_or_default();
            connections.insert(
                "env".into(),
                Connection {
                    view: ConnectionView {
                        secret_missing: env_problem,
                        id: "env".into(),
                        name: "API (IFMATCH_API_URL)".into(),
                        base_url: url.trim_end_matches('/').to_string(),
                        auth: auth_label(&auth),
                        auth_kind: if matches!(auth, Auth::None) {
                            "none"
                        } else {
                            "bearer"
                        }
                        .into(),
                        basic_user: None,
                        header_name: None,
                        method,
                        auto_resubmit: false,
                        is_demo: false,
                        trusts_custom_cert: false,
                        check_server: true,
                        dialect: dialect.clone(),
                    },
                    client: Arc::new(
                        client_for(&auth, None, &dialect)
                            .or_else(|_| client_for(&auth, None, "generic"))
                            .expect("default client"),
                    ),
                    auth,
                },
            );
            default_connection = "env".into();
        }
        let secrets = Secrets::detect(data_dir.clone(), settings.weak_secret_file);
        for c in &settings.connections {
            let secret = secrets.get(&format!("{}/secret", c.id));
            connections.insert(c.id.clone(), connection_of(c, secret));
        }
        let drafts = data_dir
            .as_ref()
            .and_then(|d| DraftStore::new(d.join("drafts")).ok());
        AppState {
            connections: Mutex::new(connections),
            secrets: std::sync::RwLock::new(secrets),
            drafts,
            settings: Mutex::new(settings),
            data_dir: data_dir.clone(),
            closing: std::sync::atomic::AtomicBool::new(false),
            close_asked: std::sync::Mutex::new(None),
            tabs: Mutex::new(BTreeMap::new()),
            cancels: std::sync::Mutex::new(BTreeMap::new()),
            history: data_dir
                .as_ref()
                .map(|d| ifmatch_store::history::History::new(&d.join("history"))),
            profiles: std::sync::Mutex::new(ifmatch_store::servers::ServerProfiles::open(
                data_dir.as_deref(),
            )),
            demo: Mutex::new(None),
            watches: Default::default(),
            next_id: AtomicU64::new(1),
            default_connection,
        }
    }

    /// Ids unique across restarts (restored drafts keep theirs): "<prefix><millis>-<n>".
    pub fn new_id(&self, prefix: &str) -> String {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        format!(
            "{prefix}{millis}-{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The demo server's URL, starting it on first use (127.0.0.1, ephemeral port).
    pub async fn demo_url(&self) -> Result<String, Problem> {
        let mut demo = self.demo.lock().await;
        if demo.is_none() {
            let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
                .await
                .map_err(|e| Problem::other(format!("The demo server could not start: {e}")))?;
            *demo = Some(server);
        }
        Ok(demo.as_ref().map(|d| d.url()).unwrap_or_default())
    }

    /// Where and how a connection writes (the demo server started on first use).
    pub async fn endpoint(&self, connection_id: &str) -> Result<Endpoint, Problem> {
        let (mut endpoint, is_demo) = {
            let conns = self.connections.lock().await;
            let c = conns.get(connection_id).ok_or_else(|| {
                Problem::other(format!("There is no connection {connection_id:?}."))
            })?;
            dialect_of(&c.view.dialect).map_err(|e| {
                let fix = if c.view.id == "env" {
                    "Set IFMATCH_DIALECT to one of them and start the app again."
                } else {
                    "Edit… the connection and choose its Version."
                };
                Problem::other(format!(
                    "The connection “{}” cannot be used: {} {fix}",
                    c.view.name, e.message
                ))
            })?;
            let endpoint = Endpoint {
                base_url: c.view.base_url.clone(),
                client: c.client.clone(),
                method: c.view.method,
                auto_resubmit: c.view.auto_resubmit,
                check_server: c.view.check_server,
            };
            (endpoint, c.view.is_demo)
        };
        if is_demo {
            endpoint.base_url = self.demo_url().await?;
        }
        Ok(endpoint)
    }
}
