//! ifmatch's engine: everything that would make sense in a command-line tool.
//!
//! - `etag`, `precondition`: RFC 9110 §8.8.3 and §13 (entity tags, comparison, evaluation order).
//! - `check`: the server check — does the server really refuse stale writes?
//! - `dialect`: how a server spells "version" (a body field, query parameters, an envelope).
//! - `client`: conditional HTTP over reqwest, one typed `outcome::Outcome` per operation.
//! - `trail`: the redacted record of every request.
//! - `live`: watching a resource for the server's changes (streams, or conditional polling).
//! - `json`: JSON as text: a validating tape of spans, the canonical pretty printer.
//! - `merge`: the three-way JSON merge, resolutions, patches from base to result, display diffs.
//! - `overwrite`: the overwrite watch — does a later version still hold the change just saved?
//! - `patch`: applying RFC 7396 merge patches and RFC 6902 JSON patches.
//! - `provenance`: where a line's value came from, by JSON path (the review's sides).
//! - `round`: a conflict round in the Result: which conflicts the user decided, where they are.
//! - `session`: the save loop (write → conflict → merge → resubmit), GUI-free.
//! - `trust`: whether a server's preconditions can be trusted for a write: the save's policy,
//!   the lock, the watch, the stale-write statuses and the risks left, decided once.
//!
//! This crate is a library only: no server framework, no command-line parser, no GUI among its
//! dependencies. The demo server (`ifmatch-demo`), the CLI (`ifmatch-cli`) and the desktop shell
//! (`src-tauri`) are thin crates over it. `ts` (a feature) derives the window's TypeScript types.

#![deny(missing_docs)]

pub mod check;
pub mod client;
pub mod concurrency;
pub mod dialect;
pub mod edit;
pub mod etag;
pub mod finding;
pub mod json;
pub mod live;
pub mod merge;
pub mod outcome;
pub mod overwrite;
pub mod patch;
pub mod precondition;
pub mod provenance;
pub mod round;
pub mod session;
pub mod trail;
pub mod trust;

pub use client::{Auth, Client, ClientConfig, Secret};
pub use etag::EntityTag;
pub use outcome::{Outcome, Received};
pub use precondition::{Precondition, Validator};
pub use reqwest::Url;
