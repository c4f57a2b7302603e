//! Which API the window talks to.

use crate::state::AppState;
use serde::Serialize;

#[derive(Serialize)]
pub struct InitialConnection {
    pub base_url: String,
    pub is_demo: bool,
    pub suggested_path: String,
}

/// The configured API, or the built-in demo server when none is configured.
#[tauri::command]
pub async fn initial_connection(
    state: tauri::State<'_, AppState>,
) -> Result<InitialConnection, String> {
    let base_url = state.base_url().await?;
    Ok(InitialConnection {
        base_url,
        is_demo: state.api_url.is_none(),
        suggested_path: if state.api_url.is_none() {
            "/settings".into()
        } else {
            String::new()
        },
    })
}
