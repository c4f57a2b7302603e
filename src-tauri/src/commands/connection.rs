//! Connections: the built-in demo server, the API named by IFMATCH_API_URL, and the user's own.

use crate::state::{
    auth_label, auth_of, client_for, AppState, Connection, ConnectionInput, ConnectionView,
};
use std::sync::Arc;

#[derive(serde::Serialize, ts_rs::TS)]
pub struct Connections {
    pub connections: Vec<ConnectionView>,
    /// The one to select at start.
    pub default_id: String,
    /// The demo server's URL once it runs (it starts on first use).
    pub demo_url: Option<String>,
}

#[tauri::command]
pub async fn list_connections(state: tauri::State<'_, AppState>) -> Result<Connections, String> {
    let demo_url = if state.default_connection == crate::state::DEMO_ID {
        Some(state.demo_url().await?)
    } else {
        state.demo.lock().await.as_ref().map(|d| d.url())
    };
    let conns = state.connections.lock().await;
    Ok(Connections {
        connections: conns.values().map(|c| c.view.clone()).collect(),
        default_id: state.default_connection.clone(),
        demo_url,
    })
}

/// Adds or updates a connection. The secret stays in this process.
#[tauri::command]
pub async fn save_connection(
    state: tauri::State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionView, String> {
    let url = input.base_url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("The base URL must start with http:// or https://.".into());
    }
    if input.name.trim().is_empty() {
        return Err("Give the connection a name.".into());
    }
    let auth = auth_of(&input.auth);
    let client = client_for(&auth, input.trusted_cert_pem.as_deref())?;
    let id = match &input.id {
        Some(id) if id != crate::state::DEMO_ID => id.clone(),
        _ => state.new_id("c"),
    };
    let view = ConnectionView {
        id: id.clone(),
        name: input.name.trim().to_string(),
        base_url: url,
        auth: auth_label(&auth),
        method: input.method,
        auto_resubmit: input.auto_resubmit,
        is_demo: false,
        trusts_custom_cert: input.trusted_cert_pem.is_some(),
    };
    state.connections.lock().await.insert(
        id,
        Connection {
            view: view.clone(),
            auth,
            client: Arc::new(client),
        },
    );
    Ok(view)
}
