//! ifmatch desktop: the thin Tauri shell. It translates between the engine (`ifmatch_engine`) and
//! the window: commands in `commands/`, one module per domain. No HTTP, parsing or merging here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod state;

fn main() {
    if let Some(msg) = no_display_message() {
        eprintln!("{msg}");
        std::process::exit(1);
    }
    tauri::Builder::default()
        .manage(state::AppState::from_env())
        .invoke_handler(tauri::generate_handler![
            commands::connection::list_connections,
            commands::connection::save_connection,
            commands::tabs::open_tab,
            commands::tabs::close_tab,
            commands::tabs::reload_tab,
            commands::tabs::locate_pointer,
            commands::tabs::check_stale,
            commands::tabs::save_tab,
            commands::tabs::resolve_conflict,
            commands::tabs::preview_request,
            commands::tabs::check_json,
            commands::demo::demo_another_admin,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("ifmatch: the window could not be opened: {e}");
            std::process::exit(1);
        });
}

/// On Linux and the BSDs GTK aborts without a display; say so in words instead.
fn no_display_message() -> Option<String> {
    if !cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd"
    )) {
        return None;
    }
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if set("DISPLAY") || set("WAYLAND_DISPLAY") {
        return None;
    }
    Some(
        "ifmatch: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop \
         window cannot open. Run it from a desktop session, or under a virtual display \
         (xvfb-run -a target/debug/ifmatch-desktop). Without a window, the command-line tool \
         does the same safe loop: target/debug/ifmatch --help"
            .to_string(),
    )
}
