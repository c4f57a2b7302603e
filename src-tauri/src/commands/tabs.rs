//! Tabs: open a resource, save it through the engine's save loop, resolve conflicts, preview the
//! exact request. The window holds the editor text; Rust holds the base version, the validator
//! and the conflict round, and decides every merge.

use crate::state::{AppState, Pending, Tab};
use crate::view::{
    Accepted, JsonProblem, Problem, ProblemCode, RequestPreview, RestoredTab, RoundView, SaveView,
    StaleCheck, TabView,
};
use ifmatch_engine::edit;
use ifmatch_engine::merge::Options;
use ifmatch_engine::round::{self, Choice, ConflictStatus};
use ifmatch_engine::session::{self, Policy, SaveResult, Version};
use ifmatch_engine::trail::TrailEntry;
use ifmatch_engine::Outcome;
use ifmatch_store::drafts::{Draft, StoredRound};

/// An outcome that is not what the command wanted, as a problem; a 401 / 403 says whether the
/// connection sent credentials at all.
async fn outcome_problem(state: &AppState, connection_id: &str, outcome: &Outcome) -> Problem {
    let auth = state
        .connections
        .lock()
        .await
        .get(connection_id)
        .map(|c| c.auth.clone())
        .unwrap_or_default();
    Problem::new(
        ProblemCode::of_outcome(outcome),
        crate::state::refusal_words(outcome, &auth),
    )
}

fn resolve_url(base: &str, target: &str) -> String {
    let t = target.trim();
    if t.starts_with("http://") || t.starts_with("https://") {
        t.to_string()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            t.trim_start_matches('/')
        )
    }
}

#[tauri::command]
pub async fn open_tab(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    connection_id: String,
    target: String,
) -> Result<TabView, Problem> {
    if target.trim().is_empty() {
        return Err(Problem::new(
            ProblemCode::Other,
            "Type a path such as /settings, or a full URL.",
        ));
    }
    let (base, client, _, _) = state
        .endpoint(&connection_id)
        .await
        .map_err(|m| Problem::new(ProblemCode::Other, m))?;
    let url = resolve_url(&base, &target);
    match client.get_fresh(&url).await {
        Outcome::Fetched { doc, .. } => {
            let id = state.new_id("t");
            let validator = doc.validator.as_ref().map(|v| v.display());
            state.tabs.lock().await.insert(
                id.clone(),
                Tab {
                    connection_id: connection_id.clone(),
                    url: url.clone(),
                    base: Version {
                        text: doc.text.clone(),
                        validator: doc.validator.clone(),
                    },
                    pending: None,
                },
            );
            remember_recent(&app, &state, target.trim()).await;
            Ok(TabView {
                id,
                connection_id,
                collection_items: edit::collection_items(&doc.text, &url),
                url,
                text: doc.text,
                validator,
                warnings: doc.warnings,
            })
        }
        other => Err(outcome_problem(&state, &connection_id, &other).await),
    }
}

/// Loads the server's version again (the window asks first when there are unsaved edits).
#[tauri::command]
pub async fn reload_tab(
    state: tauri::State<'_, AppState>,
    tab_id: String,
) -> Result<TabView, Problem> {
    let (conn, url) = {
        let tabs = state.tabs.lock().await;
        let t = tabs
            .get(&tab_id)
            .ok_or_else(|| Problem::new(ProblemCode::Other, "This tab is closed."))?;
        (t.connection_id.clone(), t.url.clone())
    };
    let (_, client, _, _) = state
        .endpoint(&conn)
        .await
        .map_err(|m| Problem::new(ProblemCode::Other, m))?;
    match client.get_fresh(&url).await {
        Outcome::Fetched { doc, .. } => {
            if let Some(t) = state.tabs.lock().await.get_mut(&tab_id) {
                t.base = Version {
                    text: doc.text.clone(),
                    validator: doc.validator.clone(),
                };
                t.pending = None;
            }
            Ok(TabView {
                id: tab_id,
                connection_id: conn,
                validator: doc.validator.as_ref().map(|v| v.display()),
                collection_items: edit::collection_items(&doc.text, &url),
                url,
                text: doc.text,
                warnings: doc.warnings,
            })
        }
        other => Err(outcome_problem(&state, &conn, &other).await),
    }
}

/// Asks the server, cheaply, whether the tab's version is still current (If-None-Match: a 304
/// when nothing changed). The tab's text is never touched.
#[tauri::command]
pub async fn check_stale(
    state: tauri::State<'_, AppState>,
    tab_id: String,
) -> Result<StaleCheck, Problem> {
    let (conn, url, base) = {
        let tabs = state.tabs.lock().await;
        let t = tabs
            .get(&tab_id)
            .ok_or_else(|| Problem::new(ProblemCode::Other, "This tab is closed."))?;
        (t.connection_id.clone(), t.url.clone(), t.base.clone())
    };
    let (_, client, _, _) = state
        .endpoint(&conn)
        .await
        .map_err(|m| Problem::new(ProblemCode::Other, m))?;
    match client.get(&url).await {
        Outcome::Fetched { doc, .. } => Ok(StaleCheck {
            stale: match (&doc.validator, &base.validator) {
                (Some(now), Some(then)) => now != then,
                _ => !ifmatch_engine::client::same_json(&doc.text, &base.text),
            },
            validator: doc.validator.as_ref().map(|v| v.display()),
        }),
        other => Err(outcome_problem(&state, &conn, &other).await),
    }
}

/// The 1-based line range of `pointer` in `text` (for scrolling every pane to a conflict).
#[tauri::command]
pub fn locate_pointer(text: String, pointer: String) -> Option<(usize, usize)> {
    edit::locate(&text, &pointer)
}

#[tauri::command]
pub async fn close_tab(state: tauri::State<'_, AppState>, tab_id: String) -> Result<(), Problem> {
    state.tabs.lock().await.remove(&tab_id);
    if let Some(d) = &state.drafts {
        d.remove(&tab_id);
    }
    Ok(())
}

/// The tab's connection, URL, and the version a write starts from: the loaded one, or for a
/// resubmit the server version of the round in progress.
async fn write_target(
    state: &AppState,
    tab_id: &str,
    resubmit: bool,
) -> Result<(String, String, Version), Problem> {
    let tabs = state.tabs.lock().await;
    let t = tabs
        .get(tab_id)
        .ok_or_else(|| Problem::new(ProblemCode::Other, "This tab is closed."))?;
    let base = match (&t.pending, resubmit) {
        (Some(p), true) => p.current.clone(),
        _ => t.base.clone(),
    };
    Ok((t.connection_id.clone(), t.url.clone(), base))
}

/// Saves the tab's text: against the loaded version, or (`resubmit`) against the server version
/// of the conflict round in progress.
#[tauri::command]
pub async fn save_tab(
    state: tauri::State<'_, AppState>,
    tab_id: String,
    text: String,
    resubmit: bool,
) -> Result<SaveView, Problem> {
    let (conn, url, base) = write_target(&state, &tab_id, resubmit).await?;
    let (_, client, method, auto) = state
        .endpoint(&conn)
        .await
        .map_err(|m| Problem::new(ProblemCode::Other, m))?;
    // Automatic resubmission of clean merges is a per-connection choice (off by default).
    let policy = Policy {
        auto_resubmit: auto,
        max_rounds: 5,
    };
    let report = session::save(
        &*client,
        &url,
        base,
        text,
        method,
        &Options::default(),
        policy,
    )
    .await;
    let (result, base, mine, rounds) = (report.result, report.base, report.mine, report.rounds);
    let mut view = SaveView::of(&result, &base, &mine, rounds);
    if let (
        SaveResult::Failed {
            outcome: o @ (Outcome::Unauthorized { .. } | Outcome::Forbidden),
            ..
        },
        SaveView::Failed { message, .. },
    ) = (&result, &mut view)
    {
        *message = format!(
            "{} Your text is kept.",
            outcome_problem(&state, &conn, o).await.message
        );
    }
    let mut tabs = state.tabs.lock().await;
    if let Some(t) = tabs.get_mut(&tab_id) {
        match result {
            SaveResult::Saved { base: nb, .. } => {
                t.base = nb;
                t.pending = None;
                if let Some(d) = &state.drafts {
                    d.remove(&tab_id);
                }
            }
            SaveResult::Merged { current, .. } | SaveResult::Conflicts { current, .. } => {
                if let SaveView::Merged { round, .. } | SaveView::Conflicts { round, .. } = &view {
                    t.pending = Some(Pending {
                        current,
                        decisions: vec![None; round.conflicts.len()],
                        round: round.clone(),
                    })
                }
            }
            _ => {}
        }
    }
    Ok(view)
}

/// Writes the tab's draft now: its text and, during a round, the round with every Accept made.
/// A tab whose text equals its base and has no round in progress has nothing to keep.
fn write_draft(state: &AppState, tab_id: &str, t: &Tab, text: &str) -> Result<(), Problem> {
    let Some(store) = &state.drafts else {
        return Ok(());
    };
    if text == t.base.text && t.pending.is_none() {
        store.remove(tab_id);
        return Ok(());
    }
    let draft = Draft {
        tab_id: tab_id.to_string(),
        connection_id: t.connection_id.clone(),
        url: t.url.clone(),
        base: t.base.clone(),
        text: text.to_string(),
        round: t.pending.as_ref().map(|p| StoredRound {
            view: p.round.clone(),
            current: p.current.clone(),
            decisions: p.decisions.clone(),
        }),
        updated_at: ifmatch_engine::trail::rfc3339_now(),
    };
    store.put(&draft).map_err(|e| {
        Problem::new(ProblemCode::DraftNotSaved, format!("Your edits could not be written to disk ({e}). They are still in the window: save to the server, or free some disk space."),
        )
    })
}

/// Applies one side's value for conflict `index` to the Result, remembers the decision and
/// writes the draft (so an Accept the window shows is never lost to a crash).
#[tauri::command]
pub async fn resolve_conflict(
    state: tauri::State<'_, AppState>,
    tab_id: String,
    result_text: String,
    index: usize,
    choice: Choice,
) -> Result<Accepted, Problem> {
    let mut tabs = state.tabs.lock().await;
    let t = tabs
        .get_mut(&tab_id)
        .ok_or_else(|| Problem::new(ProblemCode::Other, "This tab is closed."))?;
    let p = t.pending.as_mut().ok_or_else(|| {
        Problem::new(
            ProblemCode::Other,
            "There is no conflict round in this tab.",
        )
    })?;
    let (text, decision) = round::accept(p.start(), &result_text, p.conflicts(), index, choice)
        .map_err(|e| Problem::new(ProblemCode::Other, format!("Not applied: {e}.")))?;
    if let Some(d) = p.decisions.get_mut(index) {
        *d = Some(decision);
    }
    let statuses = round::statuses(p.start(), &text, p.conflicts(), &p.decisions)
        .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))?;
    write_draft(&state, &tab_id, t, &text)?;
    Ok(Accepted { text, statuses })
}

/// Where every conflict of the tab's round stands in `text` (the Result as the user has it):
/// decided or not, its lines, whether its value is neither side's. An `invalid_json` problem
/// while the Result does not parse (the window keeps the last answer and cannot resubmit).
#[tauri::command]
pub async fn conflict_status(
    state: tauri::State<'_, AppState>,
    tab_id: String,
    text: String,
) -> Result<Vec<ConflictStatus>, Problem> {
    let tabs = state.tabs.lock().await;
    let p = tabs
        .get(&tab_id)
        .and_then(|t| t.pending.as_ref())
        .ok_or_else(|| {
            Problem::new(
                ProblemCode::Other,
                "There is no conflict round in this tab.",
            )
        })?;
    round::statuses(p.start(), &text, p.conflicts(), &p.decisions)
        .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))
}

/// The exact request a save would send now (secrets masked).
#[tauri::command]
pub async fn preview_request(
    state: tauri::State<'_, AppState>,
    tab_id: String,
    text: String,
    resubmit: bool,
) -> Result<RequestPreview, Problem> {
    let (conn, url, base) = write_target(&state, &tab_id, resubmit).await?;
    let (_, client, method, _) = state
        .endpoint(&conn)
        .await
        .map_err(|m| Problem::new(ProblemCode::Other, m))?;
    // The same plan the save loop sends.
    let plan = session::plan_write(method, &base, &text)
        .map_err(|e| Problem::new(ProblemCode::InvalidJson, e.to_string()))?;
    Ok(RequestPreview {
        method: plan.http_method().into(),
        headers: plan.headers(client.auth()),
        url,
        body: plan.body,
    })
}

/// The editor's lint: Rust's parser decides (duplicate keys included), never JavaScript's.
#[tauri::command]
pub fn check_json(text: String) -> Option<JsonProblem> {
    edit::check(&text).err().map(|e| JsonProblem {
        message: e.message,
        line: e.line,
        column: e.column,
    })
}

async fn remember_recent(app: &tauri::AppHandle, state: &AppState, target: &str) {
    let mut settings = state.settings.lock().await;
    settings.recent.retain(|r| r != target);
    settings.recent.insert(0, target.to_string());
    settings.recent.truncate(30);
    let _ = crate::settings::save(app, &settings);
}

/// Persists the tab's draft: called (debounced) on every edit, and at once before a close or a
/// quit. The round and its decisions come from Rust's own state.
#[tauri::command]
pub async fn save_draft(
    state: tauri::State<'_, AppState>,
    tab_id: String,
    text: String,
) -> Result<(), Problem> {
    let tabs = state.tabs.lock().await;
    match tabs.get(&tab_id) {
        Some(t) => write_draft(&state, &tab_id, t, &text),
        None => Ok(()),
    }
}

/// Brings back every tab that had a draft (after a crash, a kill, or closing with unsaved work).
#[tauri::command]
pub async fn restore_drafts(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<RestoredTab>, Problem> {
    let Some(store) = &state.drafts else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    let known: Vec<String> = state.connections.lock().await.keys().cloned().collect();
    for d in store.load_all::<RoundView>() {
        if !known.contains(&d.connection_id) {
            continue; // its connection is gone; the draft file stays on disk
        }
        let pending = d.round.as_ref().map(|r| {
            let mut decisions = r.decisions.clone();
            decisions.resize(r.view.conflicts.len(), None);
            Pending {
                current: r.current.clone(),
                round: r.view.clone(),
                decisions,
            }
        });
        let statuses = pending
            .as_ref()
            .and_then(|p| round::statuses(p.start(), &d.text, p.conflicts(), &p.decisions).ok())
            .unwrap_or_default();
        state.tabs.lock().await.insert(
            d.tab_id.clone(),
            Tab {
                connection_id: d.connection_id.clone(),
                url: d.url.clone(),
                base: d.base.clone(),
                pending,
            },
        );
        out.push(RestoredTab {
            tab: TabView {
                id: d.tab_id.clone(),
                connection_id: d.connection_id.clone(),
                url: d.url.clone(),
                collection_items: vec![],
                validator: d.base.validator.as_ref().map(|v| v.display()),
                warnings: vec![format!(
                    "Restored from the draft saved at {} (your edits were kept).",
                    d.updated_at
                )],
                text: d.text.clone(),
            },
            saved_text: d.base.text.clone(),
            round: d.round.as_ref().map(|r| r.view.clone()),
            statuses,
        });
    }
    Ok(out)
}

/// The request trail of a tab's resource (redacted: no credentials).
#[tauri::command]
pub async fn tab_trail(
    state: tauri::State<'_, AppState>,
    tab_id: String,
) -> Result<Vec<TrailEntry>, Problem> {
    let (conn, url) = {
        let tabs = state.tabs.lock().await;
        let t = tabs
            .get(&tab_id)
            .ok_or_else(|| Problem::new(ProblemCode::Other, "This tab is closed."))?;
        (t.connection_id.clone(), t.url.clone())
    };
    let client = state
        .connections
        .lock()
        .await
        .get(&conn)
        .map(|c| c.client.clone());
    let Some(client) = client else {
        return Ok(vec![]);
    };
    let parsed: ifmatch_engine::Url = url
        .parse()
        .map_err(|_| Problem::new(ProblemCode::Other, "The tab's URL is not valid."))?;
    let want = ifmatch_engine::trail::redact_url(&parsed);
    Ok(client
        .trail()
        .entries()
        .into_iter()
        .filter(|e| e.url == want)
        .collect())
}

/// Writes the tab's trail as JSON for a support ticket; returns the file's path.
#[tauri::command]
pub async fn export_trail(
    state: tauri::State<'_, AppState>,
    tab_id: String,
) -> Result<String, Problem> {
    let entries = tab_trail(state.clone(), tab_id).await?;
    let dir = state
        .data_dir
        .as_ref()
        .map(|d| d.join("trails"))
        .ok_or_else(|| Problem::new(ProblemCode::Other, "There is no data folder to write to."))?;
    let name = format!(
        "ifmatch-trail-{}.json",
        ifmatch_engine::trail::rfc3339_now().replace([':', '.'], "-")
    );
    let path = dir.join(name);
    let json = serde_json::to_string_pretty(&entries).expect("trail entries serialise");
    ifmatch_store::files::write_atomic(&path, json.as_bytes()).map_err(|e| {
        Problem::new(
            ProblemCode::Other,
            format!("The trail could not be written: {e}"),
        )
    })?;
    Ok(path.display().to_string())
}
