//! The demo server's "another admin" (`workspace::connections`).

use crate::state::AppState;
use crate::view::Problem;

#[tauri::command]
pub async fn demo_another_admin(
    state: tauri::State<'_, AppState>,
    path: String,
    patch: Option<String>,
) -> Result<String, Problem> {
    state.demo_another_admin(&path, patch.as_deref()).await
}
