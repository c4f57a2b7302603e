//! The connection commands: each translates one call from the window to
//! `workspace::connections`, handing it the settings file to write.

use crate::state::AppState;
use crate::view::{ConnectionInput, ConnectionTest, ConnectionView, Connections, Problem};
use ifmatch_store::secrets::Backend;
use tauri::{AppHandle, State};

#[tauri::command]
pub async fn list_connections(state: State<'_, AppState>) -> Result<Connections, Problem> {
    state.list_connections().await
}

#[tauri::command]
pub async fn save_connection(
    app: AppHandle,
    state: State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionView, Problem> {
    let persist = |s: &_| crate::settings::save(&app, s);
    state.save_connection(input, &persist).await
}

#[tauri::command]
pub async fn test_connection(
    state: State<'_, AppState>,
    input: ConnectionInput,
) -> Result<ConnectionTest, Problem> {
    state.test_connection(input).await
}

#[tauri::command]
pub async fn set_weak_secret_storage(
    app: AppHandle,
    state: State<'_, AppState>,
    opt_in: bool,
) -> Result<Backend, Problem> {
    let persist = |s: &_| crate::settings::save(&app, s);
    state.set_weak_secret_storage(opt_in, &persist).await
}

#[tauri::command]
pub async fn delete_connection(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<(), Problem> {
    let persist = |s: &_| crate::settings::save(&app, s);
    state.delete_connection(&id, &persist).await
}

/// Closes the app after the window asked about unsaved work.
#[tauri::command]
pub fn quit_app(app: AppHandle, state: State<'_, AppState>) {
    state
        .closing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    app.exit(0);
}

/// A connection from a pasted curl command (the window fills its form with it; the secret, if
/// any, goes to the keyring when the connection is saved, like a typed one).
#[tauri::command(async)]
pub fn parse_curl(command: String) -> Result<ifmatch_store::curl::CurlImport, Problem> {
    ifmatch_store::curl::parse(&command)
        .map_err(|e| Problem::other(format!("This curl command could not be read: {e}.")))
}
