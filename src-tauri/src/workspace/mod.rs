//! What the window can do, as methods of the app's state, with no Tauri type in sight: tabs
//! (open, save, resolve, drafts, trail) and connections (list, save, test, delete). Each command
//! in `commands` is a few lines that call one of these.

pub mod connections;
pub mod live;
pub mod tabs;
