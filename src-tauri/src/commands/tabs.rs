//! The tab commands: each translates one call from the window to `workspace::tabs`.

use crate::state::AppState;
use crate::view::{
    Accepted, JsonProblem, Problem, RequestPreview, RestoredDrafts, SafetyView, SaveView,
    StaleCheck, TabView,
};
use ifmatch_engine::round::{Choice, ConflictStatus};
use ifmatch_engine::trail::TrailEntry;
use tauri::{AppHandle, State};

type Answer<T> = Result<T, Problem>;

#[tauri::command]
pub async fn open_tab(
    app: AppHandle,
    state: State<'_, AppState>,
    connection_id: String,
    target: String,
) -> Answer<TabView> {
    let tab = state.open_tab(connection_id, &target).await?;
    let persist = |s: &_| crate::settings::save(&app, s);
    state.remember_recent(target.trim(), &persist).await;
    Ok(tab)
}

/// Loads the server's version again (the window asks first when there are unsaved edits).
#[tauri::command]
pub async fn reload_tab(state: State<'_, AppState>, tab_id: String) -> Answer<TabView> {
    state.reload_tab(tab_id).await
}

#[tauri::command]
pub async fn check_stale(state: State<'_, AppState>, tab_id: String) -> Answer<StaleCheck> {
    state.check_stale(&tab_id).await
}

/// The 1-based line range of `pointer` in `text` (for scrolling every pane to a conflict); off
/// the main thread, like every command that reads a whole document.
#[tauri::command(async)]
pub fn locate_pointer(text: String, pointer: String) -> Option<(usize, usize)> {
    ifmatch_engine::edit::locate(&text, &pointer)
}

/// Each value's elements as compact text (None where a value is absent or not an array): an
/// array run's conflict shown element by element.
#[tauri::command(async)]
pub fn array_elements(texts: Vec<Option<String>>) -> Vec<Option<Vec<String>>> {
    texts
        .iter()
        .map(|t| t.as_deref().and_then(ifmatch_engine::edit::elements))
        .collect()
}

#[tauri::command]
pub async fn close_tab(state: State<'_, AppState>, tab_id: String) -> Answer<()> {
    state.close_tab(&tab_id).await;
    Ok(())
}

/// Stops the tab's save in progress; false when none was running.
#[tauri::command]
pub fn cancel_save(state: State<'_, AppState>, tab_id: String) -> bool {
    state.cancel_save(&tab_id)
}

/// The tab's resource's local history, newest first.
#[tauri::command]
pub async fn history_list(
    state: State<'_, AppState>,
    tab_id: String,
) -> Answer<Vec<ifmatch_store::history::HistoryEntry>> {
    state.history_list(&tab_id).await
}

/// One version's text from the history (restoring puts it in the editor: Save writes it,
/// conditionally, like any edit).
#[tauri::command]
pub async fn history_text(
    state: State<'_, AppState>,
    tab_id: String,
    file: String,
) -> Answer<String> {
    state.history_text(&tab_id, &file).await
}

/// A version from the history → the editor's text, by line.
#[tauri::command]
pub async fn history_compare(
    state: State<'_, AppState>,
    tab_id: String,
    file: String,
    text: String,
) -> Answer<crate::view::ReviewView> {
    state.history_compare(&tab_id, &file, &text).await
}

/// What a save (or, `resubmit`, a resubmit) of `text` would change on the server, by line.
#[tauri::command]
pub async fn review_write(
    state: State<'_, AppState>,
    tab_id: String,
    text: String,
    resubmit: bool,
) -> Answer<crate::view::ReviewView> {
    state.review_write(&tab_id, &text, resubmit).await
}

/// Merges the saved change a later version wrote over back in, as a round to review.
#[tauri::command]
pub async fn reapply_saved(state: State<'_, AppState>, tab_id: String) -> Answer<SaveView> {
    state.reapply_saved(&tab_id).await
}

/// Runs the server check on the tab's server now (does it refuse stale writes?).
#[tauri::command]
pub async fn check_server(state: State<'_, AppState>, tab_id: String) -> Answer<SafetyView> {
    state.check_server(&tab_id).await
}

/// What is known about the tab's server (no request).
#[tauri::command]
pub async fn server_safety(state: State<'_, AppState>, tab_id: String) -> Answer<SafetyView> {
    state.server_safety(&tab_id).await
}

#[tauri::command]
pub async fn save_tab(
    state: State<'_, AppState>,
    tab_id: String,
    text: String,
    resubmit: bool,
) -> Answer<SaveView> {
    state.save_tab(&tab_id, text, resubmit).await
}

#[tauri::command]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    tab_id: String,
    result_text: String,
    index: usize,
    choice: Choice,
) -> Answer<Accepted> {
    state
        .resolve_conflict(&tab_id, &result_text, index, choice)
        .await
}

#[tauri::command]
pub async fn resolve_all(
    state: State<'_, AppState>,
    tab_id: String,
    result_text: String,
    choice: Choice,
) -> Answer<Accepted> {
    state.resolve_all(&tab_id, &result_text, choice).await
}

#[tauri::command]
pub async fn conflict_status(
    state: State<'_, AppState>,
    tab_id: String,
    text: String,
) -> Answer<Vec<ConflictStatus>> {
    state.conflict_status(&tab_id, &text).await
}

#[tauri::command]
pub async fn preview_request(
    state: State<'_, AppState>,
    tab_id: String,
    text: String,
    resubmit: bool,
) -> Answer<RequestPreview> {
    state.preview_request(&tab_id, &text, resubmit).await
}

/// `async`: a 10 MB document is parsed off the main thread, so the window keeps answering.
#[tauri::command(async)]
pub fn check_json(text: String) -> Option<JsonProblem> {
    crate::workspace::tabs::check_json(&text)
}

/// Called (debounced) on every edit, and at once before a close or a quit. Answers with the
/// JSON check of the same text, which the window's lint would otherwise send again (the text
/// crosses the bridge once per pause in typing, not twice).
#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    tab_id: String,
    text: String,
    round: Option<String>,
    on: Option<String>,
) -> Answer<Option<JsonProblem>> {
    state
        .save_draft(&tab_id, &text, round.as_deref(), on.as_deref())
        .await?;
    // A 10 MB text parses in tens of ms: the runtime moves its other work off this thread.
    Ok(tokio::task::block_in_place(|| {
        crate::workspace::tabs::check_json(&text)
    }))
}

/// The window does not show the round its save ended in (the user typed meanwhile).
#[tauri::command]
pub async fn forget_round(state: State<'_, AppState>, tab_id: String, key: String) -> Answer<()> {
    state.forget_round(&tab_id, &key).await;
    Ok(())
}

/// After a round's answer is shown: its Result is the draft's text, without sending it back.
#[tauri::command]
pub async fn save_round_draft(
    state: State<'_, AppState>,
    tab_id: String,
    key: String,
) -> Answer<()> {
    state.save_round_draft(&tab_id, &key).await
}

#[tauri::command]
pub async fn restore_drafts(state: State<'_, AppState>) -> Answer<RestoredDrafts> {
    Ok(state.restore_drafts().await)
}

#[tauri::command]
pub async fn tab_trail(state: State<'_, AppState>, tab_id: String) -> Answer<Vec<TrailEntry>> {
    state.tab_trail(&tab_id).await
}

#[tauri::command]
pub async fn export_trail(state: State<'_, AppState>, tab_id: String) -> Answer<String> {
    state.export_trail(&tab_id).await
}
