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

/// Reads the tab's resource now (a Save's last look before it writes); true when the server
/// holds a version the watch had not seen (the window then asks what it does to the tab).
#[tauri::command]
pub async fn live_settle(state: State<'_, AppState>, tab_id: String) -> Answer<bool> {
    state.live_settle(&tab_id).await
}

/// How the tab's resource is watched and what the watch has cost.
#[tauri::command]
pub async fn live_status(state: State<'_, AppState>, tab_id: String) -> Answer<LiveStatusView> {
    state.live_status(&tab_id).await
}

/// The window could not put the last live update into the tab's text: its base goes back.
#[tauri::command]
pub async fn live_rewind(state: State<'_, AppState>, tab_id: String, text: String) -> Answer<()> {
    state.live_rewind(&tab_id, &text).await
}

/// The window regained focus (`hidden`: None) or was hidden / shown.
#[tauri::command]
pub fn live_window(state: State<'_, AppState>, focused: bool, hidden: bool) {
    state.watches.set_hidden(hidden);
    if focused {
        state.watches.focus();
    }
}

/// `theirs`' changes against `base` carried into `mine` (a clean three-way merge, printed in
/// `mine`'s place: None when something collides or a text is not JSON). The window's way to
/// put a server's change into text the user changed meanwhile when it could not follow the
/// editor's changes itself.
#[tauri::command(async)]
pub fn carry_change(base: String, mine: String, theirs: String) -> Option<String> {
    use ifmatch_engine::session::{merge_with, SaveResult, Version};
    let plain = |text: String| Version {
        text,
        validator: None,
    };
    match merge_with(
        &plain(base),
        &mine,
        plain(theirs),
        &ifmatch_engine::merge::Options::default(),
    ) {
        SaveResult::Merged { round } => Some(round.start),
        _ => None,
    }
}
