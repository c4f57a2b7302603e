//! Tauri commands, one module per domain.

pub mod connection;
pub mod resources;
