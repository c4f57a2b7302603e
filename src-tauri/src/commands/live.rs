//! Live: how each tab's resource is watched, and what a newer version does to a tab.

use crate::state::AppState;
use crate::view::{LiveStatusView, LiveUpdate, Problem};
use tauri::State;

type Answer<T> = Result<T, Problem>;

/// What the newest version the tab's watch saw does to the tab (`text`: the editor's text, None
/// when it is the tab's loaded version; `open_round`: show collisions as the conflict round).
#[tauri::command]
pub async fn live_update(
    state: State<'_, AppState>,
    tab_id: String,
    text: Option<String>,
    open_round: bool,
) -> Answer<LiveUpdate> {
    state.live_update(&tab_id, text, open_round).await
}

/// How the tab's resource is watched and what the watch has cost.
#[tauri::command]
pub async fn live_status(state: State<'_, AppState>, tab_id: String) -> Answer<LiveStatusView> {
    state.live_status(&tab_id).await
}

/// The window regained focus (`hidden`: None) or was hidden / shown.
#[tauri::command]
pub fn live_window(state: State<'_, AppState>, focused: bool, hidden: bool) {
    state.watches.set_hidden(hidden);
    if focused {
        state.watches.focus();
    }
}
