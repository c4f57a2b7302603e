//! ifmatch's engine: everything that would make sense in a command-line tool.
//!
//! - `etag`, `precondition`: RFC 9110 §8.8.3 and §13 (entity tags, comparison, evaluation order).
//! - `client`: conditional HTTP over reqwest, one typed `outcome::Outcome` per operation.
//! - `trail`: the redacted record of every request.
//! - `json`: JSON as text: a validating tape of spans, the canonical pretty printer.
//! - `merge`: the three-way JSON merge, resolutions, patches from base to result, display diffs.
//! - `patch`: applying RFC 7396 merge patches and RFC 6902 JSON patches.
//! - `round`: a conflict round in the Result: which conflicts the user decided, where they are.
//! - `session`: the save loop (write → conflict → merge → resubmit), GUI-free.
//! - `demo`: the built-in demo server.
//!
//! This crate never depends on tauri: the desktop shell is a thin layer over it.

pub mod client;
pub mod demo;
pub mod edit;
pub mod etag;
pub mod json;
pub mod merge;
pub mod outcome;
pub mod patch;
pub mod precondition;
pub mod round;
pub mod session;
pub mod trail;

pub use client::{Auth, Client, ClientConfig, Secret};
pub use etag::EntityTag;
pub use outcome::{Doc, Outcome};
pub use precondition::{Precondition, Validator};
pub use reqwest::Url;
