//! ifmatch desktop: the thin Tauri shell. It translates between the engine (`ifmatch_engine`) and
//! the window: commands in `commands/`, one module per domain. No HTTP, parsing or merging here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod memory;
mod settings;
mod state;
mod view;
mod watches;
mod workspace;

use tauri::{Emitter, Manager};

fn main() {
    if let Some(msg) = no_display_message() {
        eprintln!("{msg}");
        std::process::exit(1);
    }
    paint_without_gl_compositing();
    memory::configure();
    let runtime = memory::runtime().unwrap_or_else(|e| {
        eprintln!("ifmatch: could not start the async runtime: {e}");
        std::process::exit(1);
    });
    tauri::async_runtime::set(runtime.handle().clone());
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .setup(|app| {
            let data_dir = app.path().app_data_dir().ok();
            let settings = settings::load(app.handle());
            app.manage(state::AppState::new(data_dir, settings));
            // A watch's signal goes to the window, which asks what it does to each tab.
            let handle = app.handle().clone();
            app.state::<state::AppState>()
                .watches
                .set_signal(std::sync::Arc::new(move |s| {
                    let _ = handle.emit("live", s);
                }));
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing with unsaved or conflicted work asks first: the window decides and calls
            // quit_app. (Drafts are on disk either way.)
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let state = window.state::<state::AppState>();
                if state.closing.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                // A second request within 3 s closes regardless: a window whose page stopped
                // answering must still close (the drafts are on disk).
                let mut asked = state.close_asked.lock().unwrap_or_else(|p| p.into_inner());
                if asked.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3)) {
                    return;
                }
                *asked = Some(std::time::Instant::now());
                api.prevent_close();
                let _ = window.emit("close-requested", ());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::connection::list_connections,
            commands::connection::save_connection,
            commands::connection::test_connection,
            commands::connection::parse_curl,
            commands::tabs::open_tab,
            commands::tabs::close_tab,
            commands::tabs::reload_tab,
            commands::tabs::locate_pointer,
            commands::tabs::array_elements,
            commands::tabs::check_stale,
            commands::tabs::save_tab,
            commands::tabs::check_server,
            commands::tabs::reapply_saved,
            commands::tabs::review_write,
            commands::tabs::history_list,
            commands::tabs::cancel_save,
            commands::tabs::history_text,
            commands::tabs::history_compare,
            commands::tabs::server_safety,
            commands::tabs::resolve_conflict,
            commands::tabs::resolve_all,
            commands::tabs::conflict_status,
            commands::tabs::preview_request,
            commands::tabs::check_json,
            commands::demo::demo_another_admin,
            commands::tabs::save_draft,
            commands::tabs::save_round_draft,
            commands::tabs::forget_round,
            commands::tabs::restore_drafts,
            commands::tabs::tab_trail,
            commands::tabs::export_trail,
            commands::connection::set_weak_secret_storage,
            commands::connection::quit_app,
            commands::connection::delete_connection,
            commands::live::live_update,
            commands::live::live_status,
            commands::live::live_window,
            commands::live::carry_change,
            commands::live::live_rewind,
            commands::live::live_settle,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("ifmatch: the window could not be opened: {e}");
            std::process::exit(1);
        });
}

/// WebKitGTK paints the page through OpenGL by default (accelerated compositing). Without a GPU
/// (a virtual machine, a remote desktop, Xvfb) that OpenGL is Mesa's llvmpipe, which renders on
/// the CPU: measured on this project's 2-core machine class with a 10 MB document, llvmpipe's
/// threads took over a third of the machine, a keystroke took 196 ms to be painted and opening
/// 1.69 s; without compositing, 4 ms and 0.66 s (docs/benchmarks.md, the desktop at size). An editor has no animation that
/// needs the GPU, so the window paints without compositing unless the user chose otherwise:
/// `IFMATCH_GL_COMPOSITING=1` keeps WebKit's default (WebKit disables compositing when its
/// variable is set at all, whatever the value, so the way back is ours), and a
/// `WEBKIT_DISABLE_COMPOSITING_MODE` the user set is left as it is. Called first thing in `main`,
/// before any thread exists: the web process inherits the environment.
fn paint_without_gl_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let opted_out = std::env::var_os("IFMATCH_GL_COMPOSITING").is_some_and(|v| v == "1");
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd"
    )) && !opted_out
        && std::env::var_os(VAR).is_none()
    {
        std::env::set_var(VAR, "1");
    }
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
