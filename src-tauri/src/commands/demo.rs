//! The demo server's "another admin": changes a resource as someone else would, so a conflict
//! can be seen within a minute.

use crate::state::AppState;
use crate::view::Problem;

#[tauri::command]
pub async fn demo_another_admin(
    state: tauri::State<'_, AppState>,
    path: String,
    patch: Option<String>,
) -> Result<String, Problem> {
    state.demo_url().await?;
    let patch = match patch.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(
            serde_json::from_str::<serde_json::Value>(p)
                .map_err(|e| format!("The change is not valid JSON: {e}"))?,
        ),
        None => None,
    };
    let demo = state.demo.lock().await;
    let server = demo.as_ref().ok_or("The demo server is not running.")?;
    let path = format!("/{}", path.trim().trim_start_matches('/'));
    server
        .another_admin(&path, patch.as_ref())
        .ok_or_else(|| Problem::other(format!("The demo server has no resource at {path}.")))
}
