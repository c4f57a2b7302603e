//! Connections: the built-in demo server, the API named by IFMATCH_API_URL, and the user's own.

use crate::settings::StoredConnection;
use crate::state::{connection_of, AppState};
use crate::view::{
    AuthInput, ConnectionInput, ConnectionTest, ConnectionView, Connections, Problem,
};
use ifmatch_store::secrets::Backend;

#[tauri::command]
pub async fn list_connections(state: tauri::State<'_, AppState>) -> Result<Connections, Problem> {
    let demo_url = if state.default_connection == crate::state::DEMO_ID {
        Some(state.demo_url().await?)
    } else {
        state.demo.lock().await.as_ref().map(|d| d.url())
    };
    let backend = state
        .secrets
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .backend();
    let recent = state.settings.lock().await.recent.clone();
    let conns = state.connections.lock().await;
    Ok(Connections {
        connections: conns.values().map(|c| c.view.clone()).collect(),
        default_id: state.default_connection.clone(),
        demo_url,
        secret_storage: backend,
        secret_storage_words: backend.words().to_string(),
        recent,
    })
}

/// Adds or updates a connection. The secret stays in this process.
#[tauri::command]
pub async fn save_connection(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionView, Problem> {
    let url = input.base_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("The base URL must start with http:// or https://.".into());
    }
    if input.name.trim().is_empty() {
        return Err("Give the connection a name.".into());
    }
    let id = match &input.id {
        Some(id) if id != crate::state::DEMO_ID && id != "env" => id.clone(),
        _ => state.new_id("c"),
    };
    let auth = with_kept_secret(&state, &input).await;
    let pem = match &input.trusted_cert_pem {
        // Editing without pasting a certificate again keeps the one trusted before.
        None => stored_connection(&state, &input.id)
            .await
            .and_then(|c| c.trusted_cert_pem),
        p => p.clone(),
    };
    let (stored, secret) = StoredConnection::from_input(
        &id,
        input.name.trim(),
        &url,
        &auth,
        input.method,
        input.auto_resubmit,
        pem,
    );
    if let Some(pem) = &stored.trusted_cert_pem {
        crate::state::client_for(&ifmatch_engine::Auth::None, Some(pem))?;
    }
    // The secret goes to the keyring (or memory); the store gets everything else.
    if let Some(secret) = &secret {
        state
            .secrets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .set(&format!("{id}/secret"), secret)?;
    }
    let conn = connection_of(&stored, secret);
    let view = conn.view.clone();
    state.connections.lock().await.insert(id.clone(), conn);
    let mut settings = state.settings.lock().await;
    settings.connections.retain(|c| c.id != id);
    settings.connections.push(stored);
    crate::settings::save(&app, &settings)?;
    Ok(view)
}

/// The user's explicit choice of the weaker, file-based secret storage (only offered when no
/// keyring works). Applies to secrets saved from now on.
#[tauri::command]
pub async fn set_weak_secret_storage(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    opt_in: bool,
) -> Result<Backend, Problem> {
    let mut settings = state.settings.lock().await;
    settings.weak_secret_file = opt_in;
    crate::settings::save(&app, &settings)?;
    let detected = ifmatch_store::secrets::Secrets::detect(state.data_dir.clone(), opt_in);
    let backend = detected.backend();
    *state.secrets.write().unwrap_or_else(|p| p.into_inner()) = detected;
    Ok(backend)
}

/// Closes the app after the window asked about unsaved work.
#[tauri::command]
pub fn quit_app(app: tauri::AppHandle, state: tauri::State<'_, AppState>) {
    state
        .closing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    app.exit(0);
}

/// Removes a connection, its stored settings and its secret.
#[tauri::command]
pub async fn delete_connection(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    id: String,
) -> Result<(), Problem> {
    if id == crate::state::DEMO_ID || id == "env" {
        return Err("This connection is built in and cannot be removed.".into());
    }
    state.connections.lock().await.remove(&id);
    state
        .secrets
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .delete(&format!("{id}/secret"));
    let mut settings = state.settings.lock().await;
    settings.connections.retain(|c| c.id != id);
    Ok(crate::settings::save(&app, &settings)?)
}

/// The stored shape of the connection being edited (None for a new one).
async fn stored_connection(state: &AppState, id: &Option<String>) -> Option<StoredConnection> {
    let id = id.as_ref()?;
    state
        .settings
        .lock()
        .await
        .connections
        .iter()
        .find(|c| &c.id == id)
        .cloned()
}

/// The input's authentication; when an existing connection is edited and the secret field was
/// left empty for the same kind of authentication, the secret kept in the keyring.
async fn with_kept_secret(state: &AppState, input: &ConnectionInput) -> AuthInput {
    let (Some(id), Some(stored)) = (&input.id, stored_connection(state, &input.id).await) else {
        return input.auth.clone();
    };
    let kept = || {
        state
            .secrets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&format!("{id}/secret"))
    };
    let same_kind = |k: &str| stored.auth_kind == k;
    match &input.auth {
        AuthInput::Bearer { token } if token.is_empty() && same_kind("bearer") => {
            AuthInput::Bearer {
                token: kept().unwrap_or_default(),
            }
        }
        AuthInput::Basic { user, password } if password.is_empty() && same_kind("basic") => {
            AuthInput::Basic {
                user: user.clone(),
                password: kept().unwrap_or_default(),
            }
        }
        AuthInput::Header { name, value } if value.is_empty() && same_kind("header") => {
            AuthInput::Header {
                name: name.clone(),
                value: kept().unwrap_or_default(),
            }
        }
        other => other.clone(),
    }
}

/// Tests a connection before it is saved: one GET of its base URL with its credentials, and what
/// came back in words (reachable or not, the status, JSON or not, a validator or not).
#[tauri::command]
pub async fn test_connection(
    state: tauri::State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionTest, Problem> {
    let url = input.base_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("The base URL must start with http:// or https://.".into());
    }
    let auth = crate::state::auth_of(&with_kept_secret(&state, &input).await);
    let client = crate::state::client_for(&auth, input.trusted_cert_pem.as_deref())?;
    let outcome = client.get_fresh(&url).await;
    Ok(describe_test(&url, &outcome, &auth))
}

fn describe_test(
    url: &str,
    outcome: &ifmatch_engine::Outcome,
    auth: &ifmatch_engine::Auth,
) -> ConnectionTest {
    use ifmatch_engine::Outcome;
    let creds = crate::state::credentials_words(auth);
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
                    "Reached {url}, which is not a JSON resource itself: {} {creds} Open resources below it by path.",
                    outcome.message()
                ),
            }
        }
        Outcome::Unauthorized { .. } | Outcome::Forbidden => ConnectionTest {
            ok: false,
            message: format!("Reached {url}, but: {}", crate::state::refusal_words(outcome, auth)),
        },
        other => ConnectionTest {
            ok: false,
            message: format!("{} ({url})", other.message()),
        },
    }
}
