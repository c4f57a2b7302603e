//! What the desktop app keeps on disk and in the keyring, with no GUI dependency (so plain
//! `cargo test` covers it): per-tab drafts (`drafts`), secrets in the OS keyring (`secrets`),
//! the shapes of stored connections and preferences (`settings`), what the server check learnt
//! about each server (`servers`), and crash-safe file writes
//! (`files`).

pub mod credentials;
pub mod curl;
pub mod drafts;
pub mod files;
pub mod history;
pub mod secrets;
pub mod servers;
pub mod settings;
