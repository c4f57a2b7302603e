//! Connections, recent resources and preferences (`ifmatch_store::settings`) through
//! tauri-plugin-store: `settings.json` in the app's data folder. Never a secret.

use crate::view::Problem;
pub use ifmatch_store::settings::{Settings, StoredConnection};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

pub const FILE: &str = "settings.json";

pub fn load<R: Runtime>(app: &AppHandle<R>) -> Settings {
    app.store(FILE)
        .ok()
        .and_then(|s| s.get("settings"))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

pub fn save<R: Runtime>(app: &AppHandle<R>, settings: &Settings) -> Result<(), Problem> {
    let store = app
        .store(FILE)
        .map_err(|e| Problem::other(format!("the settings could not be opened: {e}")))?;
    store.set(
        "settings",
        serde_json::to_value(settings).map_err(|e| Problem::other(e.to_string()))?,
    );
    store
        .save()
        .map_err(|e| Problem::other(format!("the settings could not be saved: {e}")))
}
