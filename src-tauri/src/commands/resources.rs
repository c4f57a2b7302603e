//! Opening a resource. Documents cross the bridge as text; the engine's outcome is passed through
//! with its stable `kind` and a sentence for the user.

use crate::state::AppState;
use ifmatch_engine::Outcome;
use serde::Serialize;

#[derive(Serialize)]
pub struct Answer {
    /// The engine's outcome, `{"kind": ..., ...}`.
    pub outcome: Outcome,
    /// What happened and what the user can do.
    pub message: String,
}

/// Reads a resource given a path (joined to the connection's base URL) or a full URL.
#[tauri::command]
pub async fn open_resource(
    state: tauri::State<'_, AppState>,
    target: String,
) -> Result<Answer, String> {
    let target = target.trim();
    let url = if target.starts_with("http://") || target.starts_with("https://") {
        target.to_string()
    } else {
        let base = state.base_url().await?;
        format!("{base}/{}", target.trim_start_matches('/'))
    };
    let outcome = state.client.get(&url).await;
    let message = outcome.message();
    Ok(Answer { outcome, message })
}
