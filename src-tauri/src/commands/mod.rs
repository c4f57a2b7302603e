//! Tauri commands, one module per domain. Each translates between the window and the engine:
//! documents cross as text, outcomes keep their stable `kind`, secrets never leave Rust.

pub mod connection;
pub mod demo;
pub mod live;
pub mod tabs;
